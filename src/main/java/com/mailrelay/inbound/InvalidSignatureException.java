package com.mailrelay.inbound;

/** A provider request whose signature is missing, wrong, stale or already used: HTTP 401, nothing recorded. */
public class InvalidSignatureException extends RuntimeException {
    public InvalidSignatureException(String message) {
        super(message);
    }
}
