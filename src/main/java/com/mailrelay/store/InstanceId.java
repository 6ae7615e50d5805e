package com.mailrelay.store;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.UUID;

/** An id for one running relay, recorded with each lease so operators can see who holds what. */
final class InstanceId {

    private InstanceId() {
    }

    static String get() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "unknown-host";
        }
        String id = host + "/" + ProcessHandle.current().pid() + "/" + UUID.randomUUID().toString().substring(0, 8);
        return id.length() <= 128 ? id : id.substring(id.length() - 128);
    }
}
