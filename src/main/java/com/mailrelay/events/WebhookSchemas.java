package com.mailrelay.events;

import java.time.Instant;
import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;

/** What {@code GET /api/v1/webhooks/failed} answers, as the OpenAPI document shows it ({@link WebhookOutbox#failed}). */
final class WebhookSchemas {

    private WebhookSchemas() {
    }

    @Schema(name = "FailedWebhookEvents")
    record FailedEvents(@Schema(description = "oldest first") List<FailedEvent> events) {
    }

    @Schema(name = "FailedWebhookEvent", description = "an event whose webhook delivery was given up")
    record FailedEvent(long id, @Schema(format = "uuid") String messageId, String type, String recipient,
                       Instant createdAt, int attempts, @Schema(description = "why the last attempt failed") String lastError) {
    }
}
