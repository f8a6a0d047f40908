package io.fleetkey.server.transport.mqtt;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Checks a listener of the embedded broker from outside, as a client would. HiveMQ only logs a
 * listener that failed to bind, and a port taken by another program would still accept a TCP
 * connection, so the probe logs in over MQTT 3.1.1 with the server's own credentials and expects
 * CONNACK "accepted": only our broker, with our authenticator, answers that.
 */
final class ListenerProbe {
    private static final int TIMEOUT_MS = 10_000;

    private ListenerProbe() {
    }

    /** Fails with a readable reason when nobody can bind {@code address:port} right now. */
    static void checkFree(String address, int port) throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
        }
    }

    /** The address to reach a listener bound to {@code bindAddress} from this host. */
    static String reachable(String bindAddress) throws IOException {
        InetAddress a = InetAddress.getByName(bindAddress);
        return a.isAnyLocalAddress() ? InetAddress.getLoopbackAddress().getHostAddress() : bindAddress;
    }

    /**
     * Connects (TLS when {@code tls} is given), sends CONNECT with the internal credentials and
     * returns the CONNACK return code (0 = accepted).
     */
    static int login(String host, int port, SSLSocketFactory tls, InternalCredentials credentials) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            plain.setSoTimeout(TIMEOUT_MS);
            Socket socket = plain;
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.createSocket(plain, host, port, true);
                ssl.startHandshake();
                socket = ssl;
            }
            try {
                OutputStream out = socket.getOutputStream();
                out.write(connect(InternalCredentials.CLIENT_ID_PREFIX + "probe-" + Long.toHexString(System.nanoTime()),
                        InternalCredentials.USERNAME, credentials.password()));
                out.flush();
                DataInputStream in = new DataInputStream(socket.getInputStream());
                int type = in.readUnsignedByte();
                int length = in.readUnsignedByte();
                if (type != 0x20 || length != 2) {
                    throw new IOException("the listener answered CONNECT with packet type 0x" + Integer.toHexString(type)
                            + ", not CONNACK: something else than the embedded broker holds the port");
                }
                in.readUnsignedByte(); // session present
                int code = in.readUnsignedByte();
                if (code == 0) {
                    out.write(new byte[]{(byte) 0xE0, 0}); // DISCONNECT
                    out.flush();
                }
                return code;
            } finally {
                if (socket != plain) {
                    socket.close();
                }
            }
        }
    }

    /** An MQTT 3.1.1 CONNECT with clean session, username and password, keep-alive 10 s. */
    static byte[] connect(String clientId, String username, byte[] password) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, "MQTT".getBytes(StandardCharsets.US_ASCII));
        body.write(4);             // protocol level 3.1.1
        body.write(0x80 | 0x40 | 0x02); // username, password, clean session
        body.write(0);
        body.write(10);
        string(body, clientId.getBytes(StandardCharsets.UTF_8));
        string(body, username.getBytes(StandardCharsets.UTF_8));
        string(body, password);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        int remaining = body.size();
        do {
            int digit = remaining % 128;
            remaining /= 128;
            packet.write(remaining > 0 ? digit | 0x80 : digit);
        } while (remaining > 0);
        packet.writeBytes(body.toByteArray());
        return packet.toByteArray();
    }

    private static void string(ByteArrayOutputStream out, byte[] bytes) {
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }
}
