package com.mailrelay.delivery;

import java.util.Locale;
import java.util.stream.Collectors;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.ProviderIds;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.ChainAttempts;
import com.mailrelay.provider.ChainWaits;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * Puts a claimed message on the exchange the way dispatch and provider routes read it. The headers
 * are those routes/dispatch.camel.yaml lists; the provider override only when it is a provider id
 * (a Kafka record from another producer could carry anything), as the dispatch route's
 * {@code toD: direct:provider-${header.relayProviderOverride}} relies on.
 */
public final class DeliveryHeaders {

    private DeliveryHeaders() {
    }

    public static void prepare(Exchange exchange) {
        ClaimedMessage claimed = exchange.getMessage().getBody(ClaimedMessage.class);
        exchange.setProperty(RelayHeaders.MESSAGE, claimed);
        // Shared by reference with the copies a failover chain makes: what every provider tried asked
        // of the next attempt (Retry-After, quota windows, open breakers; provider/ChainWaits).
        exchange.setProperty(RelayHeaders.CHAIN_WAITS, new ChainWaits());
        // Likewise every provider tried and what it said, written with the outcome (provider/ChainAttempts).
        exchange.setProperty(ChainAttempts.PROPERTY, new ChainAttempts());
        Message message = exchange.getMessage();
        message.setHeader(RelayHeaders.MESSAGE_ID, claimed.id().toString());
        message.setHeader(RelayHeaders.WORKSPACE, claimed.workspaceId());
        message.setHeader(RelayHeaders.EMAIL_TYPE, claimed.emailType());
        message.setHeader(RelayHeaders.ATTEMPT, claimed.attempt());
        message.setHeader(RelayHeaders.RECIPIENT_DOMAINS, claimed.recipients().stream()
                .map(address -> address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT))
                .distinct().sorted().collect(Collectors.joining(",")));
        message.setHeader(RelayHeaders.SENDER_DOMAIN,
                Addresses.domainOf(claimed.envelopeFrom()).toLowerCase(Locale.ROOT));
        if (ProviderIds.valid(claimed.providerOverride())) {
            message.setHeader(RelayHeaders.PROVIDER_OVERRIDE, claimed.providerOverride());
        }
        message.setBody(claimed.rawMime());
    }
}
