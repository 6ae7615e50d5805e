package com.mailrelay.history;

import com.mailrelay.message.Refusal;

/** No message of that id that the caller may see (another workspace's is not found either): HTTP 404. */
public class HistoryNotFoundException extends Refusal {

    public HistoryNotFoundException(String message) {
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
