package com.mailrelay.templates;

import com.mailrelay.message.Refusal;

/** The template exists already, or is a file's (read-only through the API): HTTP 409. */
public class TemplateConflictException extends Refusal {
    public TemplateConflictException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 409;
    }

    @Override
    public String code() {
        return "conflict";
    }
}
