package io.fleetkey.server.transport.mqtt;

import io.micronaut.context.condition.Condition;
import io.micronaut.context.condition.ConditionContext;

/**
 * Which MQTT parts run: the embedded broker unless MQTT or the broker is switched off or an
 * external broker is configured; the listener whenever it has a broker to talk to.
 */
final class BrokerChoice {
    private BrokerChoice() {
    }

    private static boolean mqtt(ConditionContext<?> context) {
        return context.getProperty("fleetkey.mqtt.enabled", Boolean.class).orElse(true);
    }

    private static boolean external(ConditionContext<?> context) {
        return !context.getProperty("fleetkey.mqtt.broker.url", String.class).orElse("").isBlank();
    }

    private static boolean embedded(ConditionContext<?> context) {
        return context.getProperty("fleetkey.mqtt.embedded.enabled", Boolean.class).orElse(true);
    }

    /** The embedded broker starts. */
    public static final class Embedded implements Condition {
        @Override
        public boolean matches(ConditionContext context) {
            return mqtt(context) && embedded(context) && !external(context);
        }
    }

    /** The EST listener starts: on the embedded broker or on the external one. */
    public static final class Listener implements Condition {
        @Override
        public boolean matches(ConditionContext context) {
            return mqtt(context) && (embedded(context) || external(context));
        }
    }
}
