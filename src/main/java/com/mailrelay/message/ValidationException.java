package com.mailrelay.message;

import java.util.List;

/** One or more fields of a submission are invalid: HTTP 400 with the list. */
public class ValidationException extends Refusal {

    public record FieldError(String field, String message) {
    }

    private final List<FieldError> errors;

    public ValidationException(List<FieldError> errors) {
        super(errors.size() + " invalid field(s): " + errors);
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }

    @Override
    public int status() {
        return 400;
    }

    @Override
    public String code() {
        return "invalid_request";
    }
}
