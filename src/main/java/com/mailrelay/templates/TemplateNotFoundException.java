package com.mailrelay.templates;

import com.mailrelay.message.Refusal;

/** No template of this name (or version) in the caller's workspace: HTTP 404. */
public class TemplateNotFoundException extends Refusal {
    public TemplateNotFoundException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 404;
    }

    @Override
    public String code() {
        return "not_found";
    }
}
