package com.mailrelay.ingress.rest;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/** What {@link AcceptedView} answers to an accepted message, as the OpenAPI document shows it. */
@Schema(name = "Accepted", description = "The message is stored and queued")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AcceptedSchema(
        @Schema(requiredMode = RequiredMode.REQUIRED, format = "uuid", description = "the message's id (GET /api/v1/messages/{id})")
        String id,
        @Schema(requiredMode = RequiredMode.REQUIRED, example = "queued", description = "its status, in lower case")
        String status,
        @Schema(description = "with per-recipient messages (a workspace with recipient variables or per-recipient "
                + "tracking): one message per recipient")
        List<Part> messages) {

    @Schema(name = "AcceptedPart")
    public record Part(
            @Schema(requiredMode = RequiredMode.REQUIRED, format = "uuid") String id,
            @Schema(requiredMode = RequiredMode.REQUIRED) String email,
            @Schema(requiredMode = RequiredMode.REQUIRED) String status) {
    }
}
