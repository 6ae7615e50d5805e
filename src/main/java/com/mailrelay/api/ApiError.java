package com.mailrelay.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.mailrelay.message.ValidationException.FieldError;

/** Body of every error response: a stable code, a sentence for people, and field errors for 400. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String error, String message, List<FieldError> errors) {

    public ApiError(String error, String message) {
        this(error, message, null);
    }
}
