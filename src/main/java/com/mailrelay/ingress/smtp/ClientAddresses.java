package com.mailrelay.ingress.smtp;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * The unit that per-client limits count: an IPv4 address, or the /64 network of an IPv6 address.
 * One IPv6 host usually owns a whole /64 and can pick a fresh address in it for every
 * connection, so counting single IPv6 addresses would limit nothing.
 */
final class ClientAddresses {

    private ClientAddresses() {
    }

    static InetAddress key(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] network = Arrays.copyOf(address.getAddress(), 16);
        Arrays.fill(network, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(network);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }

    /** How the key appears in logs and replies: {@code 192.0.2.1} or {@code 2001:db8:0:0:0:0:0:0/64}. */
    static String text(InetAddress key) {
        return key instanceof Inet6Address ? key.getHostAddress() + "/64" : key.getHostAddress();
    }
}
