package com.mailrelay.api;

/**
 * The exchange properties an action leaves for the audit step that follows it
 * ({@code .bean("auditLog", "record(*, 'action', target)")}): here, below every feature, so that a
 * feature's bean can describe its change without importing the audit package.
 */
public final class Audited {

    /** What the action changed (a map or record); values under secret-looking names are redacted. */
    public static final String CHANGE = "relayAuditChange";

    /** The workspace the action concerns, when it is not the caller's own (an admin acting on one). */
    public static final String WORKSPACE = "relayAuditWorkspace";

    /** The target, when a step before the answer had to keep it (the answer clears the headers). */
    public static final String TARGET = "relayAuditTarget";

    private Audited() {
    }
}
