package com.mailrelay.providers;

import com.mailrelay.message.Refusal;

/** No running provider instance of that id: HTTP 404. */
public class ProviderNotFoundException extends Refusal {

    public ProviderNotFoundException(String id) {
        super("no provider instance '" + id + "' is running (GET /api/v1/providers lists them)");
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
