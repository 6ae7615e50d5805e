package com.mailrelay.delivery;

/**
 * The dispatch route finished without any provider taking the message (no branch of the router
 * matched). Treated as transient: fixing routes/ lets the retry go out instead of losing the mail.
 */
public class NoProviderException extends RuntimeException {
    public NoProviderException(String messageId) {
        super("no provider route handled message " + messageId
                + ": check that routes/dispatch.camel.yaml has a branch for its workspace and type");
    }
}
