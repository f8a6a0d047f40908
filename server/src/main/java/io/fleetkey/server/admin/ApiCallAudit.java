package io.fleetkey.server.admin;

import java.time.Clock;
import java.util.Set;

import io.fleetkey.server.enrollment.RejectedTraffic;
import io.fleetkey.server.registry.AuditLog.AuditEvent;
import io.fleetkey.server.registry.AuditLog;
import io.fleetkey.server.util.MinuteBudget;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where fleet API calls reach the audit log: every call that may change something
 * (any method but GET, HEAD and OPTIONS) as {@code api.call}, with the token's name, method,
 * path and status, whatever the answer; and every call refused for want of a valid token as
 * {@code api.denied}. Runs around {@link ApiTokenFilter}, so it sees that filter's 401s too.
 * Anyone can send requests without a token, so at most {@value #DENIED_PER_MINUTE} denials a
 * minute per node are recorded; the rest go to the rate-limited rejected-traffic log. The query
 * string and headers are never recorded (they may hold secrets).
 */
@ServerFilter("/api/**")
public class ApiCallAudit implements Ordered {
    static final int DENIED_PER_MINUTE = 60;
    private static final Logger LOG = LoggerFactory.getLogger(ApiCallAudit.class);
    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final AuditLog audit;
    private final Clock clock;
    private final MinuteBudget denials;

    public ApiCallAudit(AuditLog audit, Clock clock) {
        this.audit = audit;
        this.clock = clock;
        this.denials = new MinuteBudget(DENIED_PER_MINUTE, clock);
    }

    /** Before the token filter on the way in, so after it on the way out. */
    @Override
    public int getOrder() {
        return -100;
    }

    @ResponseFilter
    @ExecuteOn(TaskExecutors.BLOCKING)
    public void record(HttpRequest<?> request, HttpResponse<?> response) {
        int status = response.code();
        String call = request.getMethodName() + " " + request.getPath();
        boolean denied = status == HttpStatus.UNAUTHORIZED.getCode() || status == HttpStatus.FORBIDDEN.getCode();
        if (!denied && READS.contains(request.getMethod())) {
            return;
        }
        if (denied && !denials.admit()) {
            RejectedTraffic.log("fleet API", call + " refused with " + status + " (not audited: too many)");
            return;
        }
        String actor = request.getAttribute(ApiTokenFilter.ACTOR, String.class).orElse("anonymous");
        String outcome = denied ? AuditLog.DENIED : status < 400 ? AuditLog.OK : status < 500 ? AuditLog.REFUSED
                : AuditLog.FAILED;
        try {
            audit.append(new AuditEvent(clock.instant(), actor, denied ? "api.denied" : "api.call", null,
                    request.getPath(), outcome, call + " -> " + status));
        } catch (RuntimeException e) {
            LOG.error("Could not write the audit entry for {} by {} ({}): {}", call, actor, status, e.getMessage());
        }
    }
}
