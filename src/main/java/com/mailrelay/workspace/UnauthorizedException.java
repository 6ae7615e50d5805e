package com.mailrelay.workspace;

import java.util.Map;

import com.mailrelay.message.Refusal;

/** Missing or unknown credentials: HTTP 401. */
public class UnauthorizedException extends Refusal {
    public UnauthorizedException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 401;
    }

    @Override
    public String code() {
        return "unauthorized";
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("WWW-Authenticate", "Bearer");
    }
}
