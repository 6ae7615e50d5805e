package com.mailrelay.dkim;

import com.mailrelay.message.Refusal;

/** A workspace key asking for another workspace's settings: HTTP 403 (an admin key may ask for any). */
public class ForeignWorkspaceException extends Refusal {

    public ForeignWorkspaceException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 403;
    }

    @Override
    public String code() {
        return "forbidden";
    }
}
