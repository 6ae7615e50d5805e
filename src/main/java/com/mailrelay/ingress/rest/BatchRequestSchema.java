package com.mailrelay.ingress.rest;

import java.util.List;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.AdditionalPropertiesValue;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/**
 * The body of {@code POST /api/v1/messages/batch} as the OpenAPI document shows it: the messages,
 * each a MessageRequest (the body of POST /api/v1/messages) with an {@code idempotency_key} of its
 * own. {@link BatchRequests} and {@link RestSubmissionParser} check it all themselves.
 */
@Schema(name = "BatchRequest", additionalProperties = AdditionalPropertiesValue.FALSE,
        requiredProperties = {"messages"},
        description = "Messages sent in one request, each checked and answered on its own, the accepted ones "
                + "stored in one transaction")
public record BatchRequestSchema(
        @ArraySchema(minItems = 1, schema = @Schema(implementation = Item.class),
                arraySchema = @Schema(requiredMode = RequiredMode.REQUIRED, description = "the messages: at most "
                        + "relay.limits.batch-messages (default 500; more is a 413), the body at most "
                        + "relay.limits.batch-body-size (default 20MB)"))
        List<Item> messages) {

    /** A message of the batch: a MessageRequest and its key. */
    @Schema(name = "BatchMessage", allOf = {MessageRequestSchema.class, Key.class},
            description = "a message exactly as POST /api/v1/messages takes it, and its own idempotency_key")
    public record Item() {
    }

    @Schema(name = "BatchMessageKey")
    public record Key(
            @Schema(minLength = 1, maxLength = 255, pattern = "^[!-~]+$",
                    description = "the rules of the Idempotency-Key header, per message: the same key with the same "
                            + "message answers its first accept again (duplicate: true) instead of sending twice; "
                            + "two messages of one batch may not share a key")
            String idempotencyKey) {
    }
}
