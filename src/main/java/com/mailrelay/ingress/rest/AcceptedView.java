package com.mailrelay.ingress.rest;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.MessageStatus;

/**
 * What the client is told of an accept: {@code {"id": ..., "status": "queued"}}, and with
 * per-recipient rows {@code "messages": [{"id", "email", "status"}]}.
 */
public final class AcceptedView {

    private AcceptedView() {
    }

    public static Map<String, Object> of(Accepted accepted) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", accepted.id());
        view.put("status", name(accepted.status()));
        if (!accepted.messages().isEmpty()) {
            view.put("messages", accepted.messages().stream().map(part -> Map.of("id", part.id(),
                    "email", part.email(), "status", name(part.status()))).toList());
        }
        return view;
    }

    private static String name(MessageStatus status) {
        return status.name().toLowerCase(Locale.ROOT);
    }
}
