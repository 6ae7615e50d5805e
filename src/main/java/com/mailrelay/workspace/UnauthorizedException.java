package com.mailrelay.workspace;

/** Missing or unknown credentials: HTTP 401. */
public class UnauthorizedException extends RuntimeException {
    public UnauthorizedException(String message) {
        super(message);
    }
}
