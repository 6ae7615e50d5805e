package com.mailrelay.message;

/**
 * QUEUED → SENDING → SENT | DEFERRED (→ SENDING again) | FAILED; REJECTED at accept time when
 * every recipient is suppressed.
 */
public enum MessageStatus {
    QUEUED, SENDING, SENT, DEFERRED, FAILED, REJECTED
}
