package com.mailrelay.queuectl;

import com.mailrelay.message.Refusal;

/**
 * A pause or resume of the row a disabled workspace has (reason 'workspace disabled'): HTTP 409.
 * That pause belongs to the workspace's state, and only enabling the workspace lifts it; a resume
 * here would deliver the mail of a workspace that is switched off.
 */
public class PauseConflictException extends Refusal {

    public PauseConflictException(String message) {
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
