package com.mailrelay.message;

import java.util.List;

/**
 * What an accept answers: the message's id and status, whether it repeats an earlier accept
 * (Idempotency-Key), and, when it was stored one row per recipient (personalised), each row. How
 * an ingress tells its client is its own business (REST: ingress.rest.RestApiRoutes, SMTP: a 250).
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
}
