package com.mailrelay.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.mailrelay.message.ValidationException.FieldError;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/** Body of every error response: a stable code, a sentence for people, and field errors for 400. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(description = "The body of every error response")
public record ApiError(
        @Schema(requiredMode = RequiredMode.REQUIRED, description = "a stable code: invalid_request, unauthorized, "
                + "forbidden, not_found, unsupported_media_type, message_too_large, rate_limited, unavailable, ...")
        String error,
        @Schema(requiredMode = RequiredMode.REQUIRED, description = "what went wrong, for people")
        String message,
        @Schema(description = "each invalid field (400): its name or path, and what is wrong with it")
        List<FieldError> errors) {

    public ApiError(String error, String message) {
        this(error, message, null);
    }
}
