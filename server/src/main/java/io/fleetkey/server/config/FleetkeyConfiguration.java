package io.fleetkey.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.annotation.Nullable;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/**
 * Every Fleetkey setting under {@code fleetkey.*}. Defaults live in {@code application.yml}
 * next to the environment variable that overrides each; see the configuration table in README.
 */
@ConfigurationProperties(FleetkeyConfiguration.PREFIX)
public class FleetkeyConfiguration {
    public static final String PREFIX = "fleetkey";

    /** Folder for the H2 database, the CA keystore and the TLS keystore. */
    @NotNull
    private Path dataDir = Path.of("./data");

    /**
     * Base URL devices and relying parties reach the server at; goes into CRL DP and OCSP AIA.
     * Empty: https://localhost:&lt;HTTPS port&gt;.
     */
    @Nullable
    @Pattern(regexp = "(https?://[^/]+(/.*)?)?", message = "must be an absolute http(s) URL, e.g. https://fleetkey.example.com:8443")
    private String publicBaseUrl;

    /** First admin API token; when empty one is generated at first start and shown once. */
    @Nullable
    private String adminToken;

    /** JCA provider for signing and CSR checks: BC (fast, default) or JDK (the platform's). */
    @Pattern(regexp = "BC|JDK", message = "must be BC or JDK")
    private String cryptoProvider = "BC";

    @Min(value = 2048, message = "must be 2048 or more: RSA keys below 2048 bits are not safe")
    private int minRsaBits = 2048;

    private Ca ca = new Ca();
    private Tls tls = new Tls();
    private Enrollment enrollment = new Enrollment();
    private Coaps coaps = new Coaps();
    private Mqtt mqtt = new Mqtt();
    private Crl crl = new Crl();
    private Ocsp ocsp = new Ocsp();
    private Metrics metrics = new Metrics();

    public Path getDataDir() {
        return dataDir;
    }

    public void setDataDir(Path dataDir) {
        this.dataDir = dataDir;
    }

    public @Nullable String getPublicBaseUrl() {
        return publicBaseUrl;
    }

    public void setPublicBaseUrl(@Nullable String publicBaseUrl) {
        this.publicBaseUrl = publicBaseUrl != null && publicBaseUrl.endsWith("/")
                ? publicBaseUrl.substring(0, publicBaseUrl.length() - 1) : publicBaseUrl;
    }

    /** The public base URL, defaulting to https://localhost:&lt;httpsPort&gt;. */
    public String publicBaseUrlOr(int httpsPort) {
        return publicBaseUrl == null || publicBaseUrl.isBlank() ? "https://localhost:" + httpsPort : publicBaseUrl;
    }

    public @Nullable String getAdminToken() {
        return adminToken;
    }

    public void setAdminToken(@Nullable String adminToken) {
        this.adminToken = adminToken;
    }

    public String getCryptoProvider() {
        return cryptoProvider;
    }

    public void setCryptoProvider(String cryptoProvider) {
        this.cryptoProvider = cryptoProvider;
    }

    public int getMinRsaBits() {
        return minRsaBits;
    }

    public void setMinRsaBits(int minRsaBits) {
        this.minRsaBits = minRsaBits;
    }

    public Ca getCa() {
        return ca;
    }

    public void setCa(Ca ca) {
        this.ca = ca;
    }

    public Tls getTls() {
        return tls;
    }

    public void setTls(Tls tls) {
        this.tls = tls;
    }

    public Enrollment getEnrollment() {
        return enrollment;
    }

    public void setEnrollment(Enrollment enrollment) {
        this.enrollment = enrollment;
    }

    public Coaps getCoaps() {
        return coaps;
    }

    public void setCoaps(Coaps coaps) {
        this.coaps = coaps;
    }

    public Mqtt getMqtt() {
        return mqtt;
    }

    public void setMqtt(Mqtt mqtt) {
        this.mqtt = mqtt;
    }

    public Crl getCrl() {
        return crl;
    }

    public void setCrl(Crl crl) {
        this.crl = crl;
    }

    public Ocsp getOcsp() {
        return ocsp;
    }

    public void setOcsp(Ocsp ocsp) {
        this.ocsp = ocsp;
    }

    public Metrics getMetrics() {
        return metrics;
    }

    public void setMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    /** An empty environment variable means "not set". */
    static @Nullable Path unsetIfEmpty(@Nullable Path path) {
        return path == null || path.toString().isEmpty() ? null : path;
    }

    /** The CA: keystore passphrase, key choice, and import of an existing CA. */
    @ConfigurationProperties("ca")
    public static class Ca {
        /** Passphrase of the CA keystore (FLEETKEY_CA_PASSWORD). Empty: generated and kept 0600 in the data dir. */
        @Nullable
        private String password;
        /** Curve of a newly created issuing CA key: P-256 (fast) or P-384. */
        @Pattern(regexp = "P-256|P-384", message = "must be P-256 or P-384")
        private String issuingCurve = "P-256";
        /** PKCS#12 file of an existing issuing CA (key + chain up to the root) to import at first start. */
        @Nullable
        private Path importPkcs12;
        @Nullable
        private String importPkcs12Password;
        /** PEM chain of an existing issuing CA (issuing first, root last) to import at first start. */
        @Nullable
        private Path importCertificateChain;
        /** PEM PKCS#8 private key of that issuing CA, possibly encrypted. */
        @Nullable
        private Path importPrivateKey;
        @Nullable
        private String importPrivateKeyPassword;

        public @Nullable String getPassword() {
            return password;
        }

        public void setPassword(@Nullable String password) {
            this.password = password;
        }

        public String getIssuingCurve() {
            return issuingCurve;
        }

        public void setIssuingCurve(String issuingCurve) {
            this.issuingCurve = issuingCurve;
        }

        public @Nullable Path getImportPkcs12() {
            return importPkcs12;
        }

        public void setImportPkcs12(@Nullable Path importPkcs12) {
            this.importPkcs12 = unsetIfEmpty(importPkcs12);
        }

        public @Nullable String getImportPkcs12Password() {
            return importPkcs12Password;
        }

        public void setImportPkcs12Password(@Nullable String importPkcs12Password) {
            this.importPkcs12Password = importPkcs12Password;
        }

        public @Nullable Path getImportCertificateChain() {
            return importCertificateChain;
        }

        public void setImportCertificateChain(@Nullable Path importCertificateChain) {
            this.importCertificateChain = unsetIfEmpty(importCertificateChain);
        }

        public @Nullable Path getImportPrivateKey() {
            return importPrivateKey;
        }

        public void setImportPrivateKey(@Nullable Path importPrivateKey) {
            this.importPrivateKey = unsetIfEmpty(importPrivateKey);
        }

        public @Nullable String getImportPrivateKeyPassword() {
            return importPrivateKeyPassword;
        }

        public void setImportPrivateKeyPassword(@Nullable String importPrivateKeyPassword) {
            this.importPrivateKeyPassword = importPrivateKeyPassword;
        }
    }

    /** The server's own TLS certificate, issued by the Fleetkey CA. */
    @ConfigurationProperties("tls")
    public static class Tls {
        /** DNS names and IP addresses the server certificate names. */
        private List<String> hostnames = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));

        public List<String> getHostnames() {
            return hostnames;
        }

        public void setHostnames(List<String> hostnames) {
            this.hostnames = hostnames;
        }
    }

    /** Enrollment behaviour common to every door. */
    @ConfigurationProperties("enrollment")
    public static class Enrollment {
        /** How long a new one-time enrollment token stays valid. */
        @NotNull
        private Duration tokenValidity = Duration.ofDays(7);
        /**
         * A repeated CSR with the same key within this window gets the certificate already
         * issued, so a client that lost a response can retry safely. Zero turns it off.
         */
        @NotNull
        private Duration retryWindow = Duration.ofMinutes(10);
        /** Retry-After sent while a device waits for approval. */
        @NotNull
        private Duration approvalRetryAfter = Duration.ofSeconds(60);
        /** How long a freshness nonce for a device statement stays valid (FLEETKEY_ENROLLMENT_NONCE_LIFETIME). */
        @NotNull
        private Duration nonceLifetime = Duration.ofMinutes(10);

        /**
         * Most freshness nonces this node issues a second (FLEETKEY_ENROLLMENT_NONCE_RATE): the
         * nonce operation needs no credentials and each nonce is a row in the registry, so the
         * rate bounds what a flood can write. Above it, the nonce operation answers "unavailable,
         * retry after 1 s".
         */
        @Min(1)
        private int nonceRate = 1000;

        public int getNonceRate() {
            return nonceRate;
        }

        public void setNonceRate(int nonceRate) {
            this.nonceRate = nonceRate;
        }

        public Duration getNonceLifetime() {
            return nonceLifetime;
        }

        public void setNonceLifetime(Duration nonceLifetime) {
            this.nonceLifetime = nonceLifetime;
        }
        /** Largest EST request body accepted, in bytes. */
        @Min(1024)
        private int maxRequestBytes = 32 * 1024;

        public Duration getTokenValidity() {
            return tokenValidity;
        }

        public void setTokenValidity(Duration tokenValidity) {
            this.tokenValidity = tokenValidity;
        }

        public Duration getRetryWindow() {
            return retryWindow;
        }

        public void setRetryWindow(Duration retryWindow) {
            this.retryWindow = retryWindow;
        }

        public Duration getApprovalRetryAfter() {
            return approvalRetryAfter;
        }

        public void setApprovalRetryAfter(Duration approvalRetryAfter) {
            this.approvalRetryAfter = approvalRetryAfter;
        }

        public int getMaxRequestBytes() {
            return maxRequestBytes;
        }

        public void setMaxRequestBytes(int maxRequestBytes) {
            this.maxRequestBytes = maxRequestBytes;
        }
    }

    /** EST over CoAP/DTLS (RFC 9148): the UDP door. */
    @ConfigurationProperties("coaps")
    public static class Coaps {
        private boolean enabled = true;
        /** UDP port; 0 picks a free one. */
        @Min(0)
        @jakarta.validation.constraints.Max(65535)
        private int port = 5684;
        /** Address to bind; the wildcard serves every interface. */
        @NotBlank
        private String bindAddress = "0.0.0.0";
        /** RFC 9146 connection ID length in bytes: 0 = understood but not asked for; at most 16. */
        @Min(0)
        @jakarta.validation.constraints.Max(16)
        private int connectionIdLength = 6;
        /** DTLS sessions kept at once; beyond it the least recently used stale ones are evicted. */
        @Min(16)
        private int maxConnections = 100_000;
        /** A session idle this long may be evicted to make room for a new one. */
        @NotNull
        private Duration staleConnectionThreshold = Duration.ofMinutes(30);
        /** Handshakes whose certificate check may wait at once; more are dropped until some finish. */
        @Min(1)
        private int maxPendingHandshakes = 5_000;
        /** CoAP block size the server prefers (RFC 7959): 16, 32, 64, 128, 256, 512 or 1024. */
        @Pattern(regexp = "16|32|64|128|256|512|1024", message = "must be a power of two from 16 to 1024")
        private String preferredBlockSize = "512";
        /** Largest CoAP message before block-wise transfer is used, in bytes. */
        @Min(64)
        @jakarta.validation.constraints.Max(16384)
        private int maxMessageSize = 1024;
        /** How long a half-finished block-wise transfer is kept. */
        @NotNull
        private Duration blockwiseLifetime = Duration.ofSeconds(60);
        /** First DTLS handshake retransmission timeout (RFC 6347 §4.2.4.1: 1 s; doubles on every retry). */
        @NotNull
        private Duration retransmissionTimeout = Duration.ofSeconds(1);
        /**
         * Send the issuing CA after the server certificate (the root is never sent: devices pin it).
         * false: the server certificate alone, for devices that hold the issuing CA and offer only
         * ecdsa_secp256r1_sha256 (the issuing CA is signed by the P-384 root with SHA-384).
         */
        private boolean sendIssuingCa = true;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getPort() {
            return port;
        }

        public void setPort(int port) {
            this.port = port;
        }

        public String getBindAddress() {
            return bindAddress;
        }

        public void setBindAddress(String bindAddress) {
            this.bindAddress = bindAddress;
        }

        public int getConnectionIdLength() {
            return connectionIdLength;
        }

        public void setConnectionIdLength(int connectionIdLength) {
            this.connectionIdLength = connectionIdLength;
        }

        public int getMaxConnections() {
            return maxConnections;
        }

        public void setMaxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
        }

        public Duration getStaleConnectionThreshold() {
            return staleConnectionThreshold;
        }

        public void setStaleConnectionThreshold(Duration staleConnectionThreshold) {
            this.staleConnectionThreshold = staleConnectionThreshold;
        }

        public int getMaxPendingHandshakes() {
            return maxPendingHandshakes;
        }

        public void setMaxPendingHandshakes(int maxPendingHandshakes) {
            this.maxPendingHandshakes = maxPendingHandshakes;
        }

        public int getPreferredBlockSize() {
            return Integer.parseInt(preferredBlockSize);
        }

        public void setPreferredBlockSize(String preferredBlockSize) {
            this.preferredBlockSize = preferredBlockSize;
        }

        public int getMaxMessageSize() {
            return maxMessageSize;
        }

        public void setMaxMessageSize(int maxMessageSize) {
            this.maxMessageSize = maxMessageSize;
        }

        public Duration getRetransmissionTimeout() {
            return retransmissionTimeout;
        }

        public void setRetransmissionTimeout(Duration retransmissionTimeout) {
            this.retransmissionTimeout = retransmissionTimeout;
        }

        public boolean isSendIssuingCa() {
            return sendIssuingCa;
        }

        public void setSendIssuingCa(boolean sendIssuingCa) {
            this.sendIssuingCa = sendIssuingCa;
        }

        public Duration getBlockwiseLifetime() {
            return blockwiseLifetime;
        }

        public void setBlockwiseLifetime(Duration blockwiseLifetime) {
            this.blockwiseLifetime = blockwiseLifetime;
        }
    }

    /** The issuing CA's CRL (docs/revocation.md). */
    @ConfigurationProperties("crl")
    public static class Crl {
        /** How long each CRL is valid: its nextUpdate is its thisUpdate plus this (FLEETKEY_CRL_NEXT_UPDATE). */
        @NotNull
        private Duration nextUpdate = Duration.ofHours(24);
        /**
         * How often the CRL is published again without a revocation; shorter than next-update, so a
         * fresh CRL is out before the last one lapses (FLEETKEY_CRL_REPUBLISH_EVERY).
         */
        @NotNull
        private Duration republishEvery = Duration.ofHours(1);

        public Duration getNextUpdate() {
            return nextUpdate;
        }

        public void setNextUpdate(Duration nextUpdate) {
            this.nextUpdate = nextUpdate;
        }

        public Duration getRepublishEvery() {
            return republishEvery;
        }

        public void setRepublishEvery(Duration republishEvery) {
            this.republishEvery = republishEvery;
        }

        /** Checks the two settings together; the message says what to change. */
        public void check() {
            if (nextUpdate.isNegative() || nextUpdate.isZero()) {
                throw new IllegalStateException("fleetkey.crl.next-update (FLEETKEY_CRL_NEXT_UPDATE) must be "
                        + "positive, e.g. 24h");
            }
            if (republishEvery.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalStateException("fleetkey.crl.republish-every (FLEETKEY_CRL_REPUBLISH_EVERY) must be "
                        + "1s or more, e.g. 1h");
            }
            if (republishEvery.compareTo(nextUpdate) >= 0) {
                throw new IllegalStateException("fleetkey.crl.republish-every (FLEETKEY_CRL_REPUBLISH_EVERY) is "
                        + shown(republishEvery) + " but must be shorter than fleetkey.crl.next-update "
                        + "(FLEETKEY_CRL_NEXT_UPDATE), " + shown(nextUpdate) + ": otherwise relying parties hold an "
                        + "expired CRL before the next one is out");
            }
        }

        static String shown(Duration d) {
            return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The OCSP responder at {@code /ocsp} (docs/revocation.md). */
    @ConfigurationProperties("ocsp")
    public static class Ocsp {
        /** A response's nextUpdate is its thisUpdate plus this (FLEETKEY_OCSP_NEXT_UPDATE). */
        @NotNull
        private Duration nextUpdate = Duration.ofHours(1);
        /**
         * How long a response to a request without a nonce is served again from memory
         * (FLEETKEY_OCSP_CACHE_TIME); 0 signs every response. A revocation on this node empties the
         * cache at once; one made on another node sharing the registry shows here within this time.
         */
        @NotNull
        private Duration cacheTime = Duration.ofMinutes(1);
        /** Validity of the delegated OCSP signing certificate (FLEETKEY_OCSP_SIGNER_VALIDITY). */
        @NotNull
        private Duration signerValidity = Duration.ofDays(30);
        /** The signing certificate is renewed when it has less than this left (FLEETKEY_OCSP_SIGNER_RENEW_BEFORE). */
        @NotNull
        private Duration signerRenewBefore = Duration.ofDays(7);
        /** Largest OCSP request accepted, in bytes (FLEETKEY_OCSP_MAX_REQUEST_BYTES). */
        @Min(512)
        @jakarta.validation.constraints.Max(1024 * 1024)
        private int maxRequestBytes = 16 * 1024;
        /** Most certificates one request may ask about (FLEETKEY_OCSP_MAX_CERTIFICATES). */
        @Min(1)
        @jakarta.validation.constraints.Max(1000)
        private int maxCertificates = 20;
        /**
         * Requests that need a signature and may wait for one of the signing threads (one per
         * core) before the responder answers tryLater (FLEETKEY_OCSP_MAX_QUEUED).
         */
        @Min(1)
        @jakarta.validation.constraints.Max(100_000)
        private int maxQueued = 2_000;

        public int getMaxQueued() {
            return maxQueued;
        }

        public void setMaxQueued(int maxQueued) {
            this.maxQueued = maxQueued;
        }

        public Duration getNextUpdate() {
            return nextUpdate;
        }

        public void setNextUpdate(Duration nextUpdate) {
            this.nextUpdate = nextUpdate;
        }

        public Duration getCacheTime() {
            return cacheTime;
        }

        public void setCacheTime(Duration cacheTime) {
            this.cacheTime = cacheTime;
        }

        public Duration getSignerValidity() {
            return signerValidity;
        }

        public void setSignerValidity(Duration signerValidity) {
            this.signerValidity = signerValidity;
        }

        public Duration getSignerRenewBefore() {
            return signerRenewBefore;
        }

        public void setSignerRenewBefore(Duration signerRenewBefore) {
            this.signerRenewBefore = signerRenewBefore;
        }

        public int getMaxRequestBytes() {
            return maxRequestBytes;
        }

        public void setMaxRequestBytes(int maxRequestBytes) {
            this.maxRequestBytes = maxRequestBytes;
        }

        public int getMaxCertificates() {
            return maxCertificates;
        }

        public void setMaxCertificates(int maxCertificates) {
            this.maxCertificates = maxCertificates;
        }

        /** Checks the durations together; the message says what to change. */
        public void check() {
            if (nextUpdate.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new IllegalStateException("fleetkey.ocsp.next-update (FLEETKEY_OCSP_NEXT_UPDATE) is "
                        + Crl.shown(nextUpdate) + " but must be 1m or more, e.g. 1h");
            }
            if (cacheTime.isNegative() || cacheTime.compareTo(nextUpdate) >= 0) {
                throw new IllegalStateException("fleetkey.ocsp.cache-time (FLEETKEY_OCSP_CACHE_TIME) is "
                        + Crl.shown(cacheTime) + " but must be 0 or more and shorter than fleetkey.ocsp.next-update "
                        + "(FLEETKEY_OCSP_NEXT_UPDATE), " + Crl.shown(nextUpdate)
                        + ": a response served from the cache must not be past its nextUpdate");
            }
            if (signerRenewBefore.compareTo(nextUpdate) <= 0) {
                throw new IllegalStateException("fleetkey.ocsp.signer-renew-before (FLEETKEY_OCSP_SIGNER_RENEW_BEFORE) "
                        + "is " + Crl.shown(signerRenewBefore) + " but must be longer than fleetkey.ocsp.next-update "
                        + "(FLEETKEY_OCSP_NEXT_UPDATE), " + Crl.shown(nextUpdate)
                        + ": a response must stay verifiable until its nextUpdate");
            }
            if (signerValidity.compareTo(signerRenewBefore.multipliedBy(2)) < 0) {
                throw new IllegalStateException("fleetkey.ocsp.signer-validity (FLEETKEY_OCSP_SIGNER_VALIDITY) is "
                        + Crl.shown(signerValidity) + " but must be at least twice fleetkey.ocsp.signer-renew-before "
                        + "(FLEETKEY_OCSP_SIGNER_RENEW_BEFORE), " + Crl.shown(signerRenewBefore)
                        + ": otherwise a new signing certificate is due again soon after it is made");
            }
        }
    }

    /** The Prometheus scrape endpoint, /prometheus (docs/metrics.md). */
    @ConfigurationProperties("metrics")
    public static class Metrics {
        /**
         * Whether /prometheus answers without the API bearer token (FLEETKEY_METRICS_PUBLIC). Off
         * by default: the counts tell how a fleet is doing; open it only where the port is private.
         */
        private boolean publicScrape;

        public boolean isPublic() {
            return publicScrape;
        }

        public void setPublic(boolean publicScrape) {
            this.publicScrape = publicScrape;
        }
    }

    /** EST over MQTT: for now the embedded broker (docs/mqtt-broker.md). */
    @ConfigurationProperties("mqtt")
    public static class Mqtt {
        /** false: no EST over MQTT at all, neither the listener nor the embedded broker (FLEETKEY_MQTT_ENABLED). */
        private boolean enabled = true;
        /**
         * Requests the server works on at once per node; the broker holds back the rest
         * (MQTT 5 Receive Maximum, FLEETKEY_MQTT_MAX_IN_FLIGHT).
         */
        @Min(1)
        @jakarta.validation.constraints.Max(65535)
        private int maxInFlight = 64;
        /** How long answers are kept to answer a duplicate delivery of the same request again. */
        @NotNull
        private Duration replyCacheTime = Duration.ofMinutes(5);
        private Embedded embedded = new Embedded();
        private Broker broker = new Broker();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public int getMaxInFlight() {
            return maxInFlight;
        }

        public void setMaxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
        }

        public Duration getReplyCacheTime() {
            return replyCacheTime;
        }

        public void setReplyCacheTime(Duration replyCacheTime) {
            this.replyCacheTime = replyCacheTime;
        }

        public Broker getBroker() {
            return broker;
        }

        public void setBroker(Broker broker) {
            this.broker = broker;
        }

        /**
         * An external broker (e.g. Mosquitto) the server's MQTT listener connects to instead of the
         * embedded one; used when {@code url} is set.
         */
        @ConfigurationProperties("broker")
        public static class Broker {
            /** ssl://host:8883 or tcp://host:1883 (FLEETKEY_MQTT_BROKER_URL); empty: the embedded broker. */
            private String url = "";
            /** The server's username on the broker, if it wants one (FLEETKEY_MQTT_BROKER_USERNAME). */
            private String username = "";
            /** Its password (FLEETKEY_MQTT_BROKER_PASSWORD); sent only over ssl:// unless allow-plain-password. */
            private String password = "";
            /** PEM file of the CA(s) that issued the broker's certificate; empty: Fleetkey's own root (FLEETKEY_MQTT_BROKER_CA_FILE). */
            private String caFile = "";
            /**
             * PKCS#12 file with the server's client certificate for brokers that require one
             * (FLEETKEY_MQTT_BROKER_CLIENT_KEYSTORE); empty: the server's own MQTT client certificate,
             * issued by the Fleetkey CA under data/mqtt/.
             */
            private String clientKeystore = "";
            /** Password of that PKCS#12 file (FLEETKEY_MQTT_BROKER_CLIENT_KEYSTORE_PASSWORD). */
            private String clientKeystorePassword = "";
            /**
             * true: the broker admits devices only over TLS, so a token in a CSR may be trusted to
             * have travelled encrypted; false: such tokens are refused (FLEETKEY_MQTT_BROKER_DEVICES_USE_TLS).
             */
            private boolean devicesUseTls = true;
            /** Development only: lets the server send its broker password over tcp:// (FLEETKEY_MQTT_BROKER_ALLOW_PLAIN_PASSWORD). */
            private boolean allowPlainPassword = false;

            public String getUrl() {
                return url;
            }

            public void setUrl(String url) {
                this.url = url == null ? "" : url.trim();
            }

            public boolean isConfigured() {
                return !url.isEmpty();
            }

            public String getUsername() {
                return username;
            }

            public void setUsername(String username) {
                this.username = username == null ? "" : username;
            }

            public String getPassword() {
                return password;
            }

            public void setPassword(String password) {
                this.password = password == null ? "" : password;
            }

            public String getCaFile() {
                return caFile;
            }

            public void setCaFile(String caFile) {
                this.caFile = caFile == null ? "" : caFile.trim();
            }

            public String getClientKeystore() {
                return clientKeystore;
            }

            public void setClientKeystore(String clientKeystore) {
                this.clientKeystore = clientKeystore == null ? "" : clientKeystore.trim();
            }

            public String getClientKeystorePassword() {
                return clientKeystorePassword;
            }

            public void setClientKeystorePassword(String clientKeystorePassword) {
                this.clientKeystorePassword = clientKeystorePassword == null ? "" : clientKeystorePassword;
            }

            public boolean isDevicesUseTls() {
                return devicesUseTls;
            }

            public void setDevicesUseTls(boolean devicesUseTls) {
                this.devicesUseTls = devicesUseTls;
            }

            public boolean isAllowPlainPassword() {
                return allowPlainPassword;
            }

            public void setAllowPlainPassword(boolean allowPlainPassword) {
                this.allowPlainPassword = allowPlainPassword;
            }

            @Override
            public String toString() {
                return "Broker[url=" + url + ", username=" + username + ", password=<hidden>]";
            }
        }

        public Embedded getEmbedded() {
            return embedded;
        }

        public void setEmbedded(Embedded embedded) {
            this.embedded = embedded;
        }

        /**
         * The MQTT broker that runs inside the server (HiveMQ CE): a TLS listener for devices and a
         * plain development listener on the loopback interface for the server's own client and
         * local tools.
         */
        @ConfigurationProperties("embedded")
        public static class Embedded {
            /** false: no broker in the server (FLEETKEY_MQTT_EMBEDDED_ENABLED). */
            private boolean enabled = true;
            /** Plain TCP port of the development listener (FLEETKEY_MQTT_PORT). */
            @Min(1)
            @jakarta.validation.constraints.Max(65535)
            private int port = 1883;
            /** Address of the plain development listener; keep it on loopback (FLEETKEY_MQTT_BIND_ADDRESS). */
            @NotBlank
            private String bindAddress = "127.0.0.1";
            /** TLS port for devices (FLEETKEY_MQTTS_PORT). */
            @Min(1)
            @jakarta.validation.constraints.Max(65535)
            private int tlsPort = 8883;
            /** Address of the TLS listener; the wildcard serves every interface (FLEETKEY_MQTTS_BIND_ADDRESS). */
            @NotBlank
            private String tlsBindAddress = "0.0.0.0";
            /**
             * OPTIONAL: devices may connect without a certificate (token devices before their first
             * certificate); REQUIRED: the TLS handshake fails without one (FLEETKEY_MQTTS_CLIENT_AUTHENTICATION).
             */
            @Pattern(regexp = "OPTIONAL|REQUIRED", message = "must be OPTIONAL or REQUIRED")
            private String clientAuthentication = "OPTIONAL";
            /**
             * Development only: lets devices log in on the plain listener with username = client id =
             * a registered device id, as on the TLS listener without a certificate
             * (FLEETKEY_MQTT_ALLOW_PLAIN_DEVICES).
             */
            private boolean allowPlainDevices = false;
            /** Longest time the broker may take to start before the server gives up. */
            @NotNull
            private Duration startTimeout = Duration.ofSeconds(120);

            public boolean isEnabled() {
                return enabled;
            }

            public void setEnabled(boolean enabled) {
                this.enabled = enabled;
            }

            public int getPort() {
                return port;
            }

            public void setPort(int port) {
                this.port = port;
            }

            public String getBindAddress() {
                return bindAddress;
            }

            public void setBindAddress(String bindAddress) {
                this.bindAddress = bindAddress;
            }

            public int getTlsPort() {
                return tlsPort;
            }

            public void setTlsPort(int tlsPort) {
                this.tlsPort = tlsPort;
            }

            public String getTlsBindAddress() {
                return tlsBindAddress;
            }

            public void setTlsBindAddress(String tlsBindAddress) {
                this.tlsBindAddress = tlsBindAddress;
            }

            public String getClientAuthentication() {
                return clientAuthentication;
            }

            public void setClientAuthentication(String clientAuthentication) {
                this.clientAuthentication = clientAuthentication;
            }

            public boolean isAllowPlainDevices() {
                return allowPlainDevices;
            }

            public void setAllowPlainDevices(boolean allowPlainDevices) {
                this.allowPlainDevices = allowPlainDevices;
            }

            public Duration getStartTimeout() {
                return startTimeout;
            }

            public void setStartTimeout(Duration startTimeout) {
                this.startTimeout = startTimeout;
            }
        }
    }
}
