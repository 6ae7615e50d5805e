package com.mailrelay.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
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
        try {
            return JSON.readTree(json(formBody));
        } catch (IOException e) {
            throw new UncheckedIOException("a webhook post that is not Mandrill JSON", e);
        }
    }

    /** The events of one posted body, each as a map (the shape tests compare with); fails the test if it is not JSON. */
    public static List<Map<String, Object>> eventList(String formBody) {
        String json = json(formBody);
        try {
            return JSON.readValue(json, new TypeReference<>() { });
        } catch (IOException e) {
            throw new AssertionError("a webhook post that is not Mandrill JSON: " + json, e);
        }
    }

    /** The decoded value of mandrill_events: the JSON text that X-Mandrill-Signature signs (after the URL). */
    public static String json(String formBody) {
        if (!formBody.startsWith(PARAMETER)) {
            throw new AssertionError("not a Mandrill webhook post: " + formBody);
        }
        return URLDecoder.decode(formBody.substring(PARAMETER.length()), StandardCharsets.UTF_8);
    }
}
