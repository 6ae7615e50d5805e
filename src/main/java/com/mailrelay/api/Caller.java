package com.mailrelay.api;

/**
 * Who called the management API: an admin key, or a workspace's key (which sees and changes only
 * its own workspace). Kept as the exchange property {@link #PROPERTY} by {@link Callers}, never as
 * a header: a client could send a header of that name, but not an exchange property.
 *
 * @param workspace     the key's workspace; null for an admin key
 * @param keyName       the name of the key when it has one (workspace API keys managed in the API)
 * @param remoteAddress the client's address as the servlet container saw it (behind a proxy, set
 *                      server.forward-headers-strategy); null outside HTTP
 */
public record Caller(String workspace, String keyName, String remoteAddress) {

    public static final String PROPERTY = "relayCaller";

    /** What the relay does by itself: the workspaces of application.yml applied at start, retention. */
    public static final Caller RELAY = new Caller(null, "relay", null);

    public boolean admin() {
        return workspace == null;
    }

    /** The actor as the audit log writes it: "admin", "workspace:acme", "workspace:acme/ci". */
    public String actor() {
        if (admin()) {
            return keyName == null ? "admin" : keyName;
        }
        return "workspace:" + workspace + (keyName == null ? "" : "/" + keyName);
    }
}
