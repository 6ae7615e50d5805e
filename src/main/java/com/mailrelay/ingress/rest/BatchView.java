package com.mailrelay.ingress.rest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Refusal;
import com.mailrelay.message.ValidationException;
import org.apache.camel.Body;

/**
 * What the client is told of a batch: each item's own answer, by its index, as the status its
 * own POST /api/v1/messages would have had —
 * {@code {"index": 0, "status": 202, "id": ..., "state": "queued"}} or
 * {@code {"index": 3, "status": 400, "error": "invalid_request", "message": ..., "errors": [...]}} —
 * and how many were accepted and refused. 202 when every item was accepted, 207 (Multi-Status)
 * when any was refused.
 */
public final class BatchView {

    private BatchView() {
    }

    /** Whether every item was accepted (the request's answer is then a 202, else a 207). */
    public static boolean allAccepted(@Body List<?> answers) {
        return answers.stream().allMatch(Accepted.class::isInstance);
    }

    public static Map<String, Object> of(@Body List<?> answers) {
        List<Map<String, Object>> results = new ArrayList<>(answers.size());
        int accepted = 0;
        for (int i = 0; i < answers.size(); i++) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("index", i);
            if (answers.get(i) instanceof Accepted item) {
                accepted++;
                result.put("status", 202);
                result.put("id", item.id());
                result.put("state", item.status().name().toLowerCase(Locale.ROOT));
                if (item.duplicate()) {
                    result.put("duplicate", true);
                }
                if (!item.messages().isEmpty()) {
                    result.put("messages", AcceptedView.of(item).get("messages"));
                }
            } else {
                Refusal refused = (Refusal) answers.get(i);
                result.put("status", refused.status());
                result.put("error", refused.code());
                if (refused instanceof ValidationException invalid) {
                    result.put("message", "the message has " + invalid.errors().size() + " invalid field(s)");
                    result.put("errors", invalid.errors());
                } else {
                    result.put("message", refused.getMessage());
                }
                String retryAfter = refused.headers().get("Retry-After");
                if (retryAfter != null) {
                    result.put("retry_after", Long.parseLong(retryAfter));
                }
            }
            results.add(result);
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("results", results);
        view.put("accepted", accepted);
        view.put("refused", answers.size() - accepted);
        return view;
    }
}
