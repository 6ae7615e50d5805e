package com.mailrelay.message;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What an accept answers: the message's id and status, whether it repeats an earlier accept
 * (Idempotency-Key), and, when it was stored one row per recipient (personalised), each row.
 *
 * @param messages the row of each recipient when the submission was stored one row per
 *                 recipient (personalised), else empty; {@code id} is the first of them
 */
public record Accepted(String id, MessageStatus status, boolean duplicate, List<Part> messages) {

    public Accepted(String id, MessageStatus status, boolean duplicate) {
        this(id, status, duplicate, List.of());
    }

    /** One recipient's row. */
    public record Part(String id, String email, MessageStatus status) {
    }

    /**
     * What the client is told: {@code {"id": ..., "status": "queued"}}, and with per-recipient
     * rows {@code "messages": [{"id", "email", "status"}]}.
     */
    public Map<String, Object> view() {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", id);
        view.put("status", name(status));
        if (!messages.isEmpty()) {
            view.put("messages", messages.stream().map(part -> Map.of("id", part.id(), "email", part.email(),
                    "status", name(part.status()))).toList());
        }
        return view;
    }

    private static String name(MessageStatus status) {
        return status.name().toLowerCase(Locale.ROOT);
    }
}
