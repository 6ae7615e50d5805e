package com.mailrelay.inbound;

import com.mailrelay.message.Refusal;

/** A provider request whose signature is missing, wrong, stale or already used: HTTP 401, nothing recorded. */
public class InvalidSignatureException extends Refusal {
    public InvalidSignatureException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 401;
    }

    @Override
    public String code() {
        return "invalid_signature";
    }
}
