package com.mailrelay.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads what a webhook receiver was posted: the form body {@code mandrill_events=<JSON array>}. */
public final class MandrillPosts {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PARAMETER = "mandrill_events=";

    private MandrillPosts() {
    }

    /** The events of one posted body, as a JSON array; fails the test if it is not one. */
    public static JsonNode events(String formBody) {
        if (!formBody.startsWith(PARAMETER)) {
            throw new AssertionError("not a Mandrill webhook post: " + formBody);
        }
        try {
            return JSON.readTree(URLDecoder.decode(formBody.substring(PARAMETER.length()), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("a webhook post that is not Mandrill JSON", e);
        }
    }
}
