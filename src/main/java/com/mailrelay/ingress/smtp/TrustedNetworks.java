package com.mailrelay.ingress.smtp;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** CIDR blocks (IPv4 or IPv6, e.g. {@code 10.0.0.0/8}, {@code ::1/128}) that may submit without AUTH. */
final class TrustedNetworks {

    private record Block(byte[] network, int prefix) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int bits = network.length * 8;
            BigInteger mask = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)
                    .shiftRight(prefix).not();
            return new BigInteger(1, address).and(mask).equals(new BigInteger(1, network).and(mask));
        }
    }

    private final List<Block> blocks;

    TrustedNetworks(List<String> cidrs) {
        this.blocks = cidrs.stream().map(TrustedNetworks::parse).toList();
    }

    boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        return blocks.stream().anyMatch(block -> block.contains(bytes));
    }

    private static Block parse(String cidr) {
        String[] parts = cidr.trim().split("/", 2);
        if (!parts[0].matches("[0-9a-fA-F.:]+")) {
            throw new IllegalArgumentException("relay.smtp.trusted-networks: '" + cidr + "' is not a CIDR block");
        }
        try {
            // Literal addresses only: getByName does no lookup for them.
            byte[] network = InetAddress.getByName(parts[0]).getAddress();
            int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : network.length * 8;
            if (prefix < 0 || prefix > network.length * 8) {
                throw new IllegalArgumentException("prefix out of range");
            }
            return new Block(network, prefix);
        } catch (UnknownHostException | IllegalArgumentException e) {
            throw new IllegalArgumentException("relay.smtp.trusted-networks: '" + cidr + "' is not a CIDR block", e);
        }
    }
}
