package com.mailrelay.ingress.rest;

import java.util.List;

import com.mailrelay.message.ValidationException.FieldError;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/** What {@link BatchView} answers to a batch, as the OpenAPI document shows it. */
@Schema(name = "BatchAnswer", description = "Each message's own answer, by its index in the batch")
public record BatchAnswerSchema(
        @ArraySchema(arraySchema = @Schema(requiredMode = RequiredMode.REQUIRED,
                description = "one per message of the batch, in its order"))
        List<Result> results,
        @Schema(requiredMode = RequiredMode.REQUIRED, description = "messages stored (or repeats of an earlier accept)")
        int accepted,
        @Schema(requiredMode = RequiredMode.REQUIRED, description = "messages refused, each with its reason")
        int refused) {

    @Schema(name = "BatchResult")
    public record Result(
            @Schema(requiredMode = RequiredMode.REQUIRED, description = "the message's place in the batch, from 0")
            int index,
            @Schema(requiredMode = RequiredMode.REQUIRED, example = "202",
                    description = "what POST /api/v1/messages would have answered: 202, or 400, 413, 422, 429")
            int status,
            @Schema(format = "uuid", description = "accepted: the message's id") String id,
            @Schema(example = "queued", description = "accepted: its status, in lower case") String state,
            @Schema(description = "accepted: true when it repeats an earlier accept of its idempotency_key")
            Boolean duplicate,
            @ArraySchema(arraySchema = @Schema(description = "accepted with per-recipient messages: one per recipient"))
            List<AcceptedSchema.Part> messages,
            @Schema(description = "refused: a stable code (invalid_request, message_too_large, rate_limited, ...)")
            String error,
            @Schema(description = "refused: what went wrong, for people") String message,
            @ArraySchema(arraySchema = @Schema(description = "refused with 400: each invalid field and what is wrong"))
            List<FieldError> errors,
            @Schema(description = "refused with 429: seconds until the limit's next window") Long retryAfter) {
    }
}
