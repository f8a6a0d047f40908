package io.fleetkey.server.transport.coap;

import io.fleetkey.protocol.EstCoapStatus;
import io.fleetkey.protocol.FailureCode;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;

/** The core's failure codes as Californium response codes; the table itself is {@link EstCoapStatus}. */
final class CoapStatusTable {
    private CoapStatusTable() {
    }

    static ResponseCode codeOf(FailureCode code) {
        return ResponseCode.valueOfText(EstCoapStatus.of(code));
    }
}
