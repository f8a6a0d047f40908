package io.fleetkey.protocol;

import java.util.regex.Pattern;

/** The device id rule: {@code [A-Za-z0-9._-]{1,64}}; the id becomes the certificate's CN. */
public final class DeviceIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private DeviceIds() {
    }

    public static boolean isValid(String deviceId) {
        return deviceId != null && VALID.matcher(deviceId).matches();
    }

    /** A readable explanation of the rule, for error messages. */
    public static String rule() {
        return "1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'";
    }
}
