package com.mailrelay.api;

import com.mailrelay.message.Refusal;

/** A workspace key asking for another workspace's data, or for what only an admin may do: HTTP 403. */
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
