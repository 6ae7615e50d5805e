package com.mailrelay.tenants;

import com.mailrelay.message.Refusal;

/** No workspace, key or SMTP user of this name (in the caller's reach): HTTP 404. */
public class NotFoundException extends Refusal {
    public NotFoundException(String message) {
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
