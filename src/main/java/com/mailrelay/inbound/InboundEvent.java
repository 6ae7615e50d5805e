package com.mailrelay.inbound;

import java.util.Map;

import com.mailrelay.message.EventType;

/**
 * One provider event, already mapped to the relay's terms.
 *
 * @param eventKey        the provider's id of the event, so that a retried event is taken once
 *                        (null when the provider gave none)
 * @param type            the relay event it stands for; null for events the relay does not
 *                        record (Mailgun delivered, SendGrid processed/delivered...)
 * @param providerEvent   the provider's own name of the event
 * @param relayMessageId  the {@code relay_message_id} custom variable, when the message carried one
 * @param messageIdHeader the message's Message-ID as the provider reports it
 * @param detail          what the event row keeps: provider, reply, ip, user_agent, url...
 */
public record InboundEvent(String eventKey, EventType type, String providerEvent, String recipient,
                           String relayMessageId, String messageIdHeader, Map<String, Object> detail) {
}
