package com.mailrelay.queue;

/** QUEUED → SENDING → SENT | DEFERRED (→ SENDING again) | FAILED. */
public enum MessageStatus {
    QUEUED, SENDING, SENT, DEFERRED, FAILED
}
