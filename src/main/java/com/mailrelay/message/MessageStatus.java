package com.mailrelay.message;

/**
 * QUEUED → SENDING → SENT | DEFERRED (→ SENDING again) | FAILED; REJECTED at accept time when
 * every recipient is suppressed; CANCELLED when an operator withdrew it before it was sent.
 */
public enum MessageStatus {
    QUEUED, SENDING, SENT, DEFERRED, FAILED, REJECTED,
    /** Withdrawn by an operator (DELETE /api/v1/messages/{id}) while it was QUEUED or DEFERRED. */
    CANCELLED
}
