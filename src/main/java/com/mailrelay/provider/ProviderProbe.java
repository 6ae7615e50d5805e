package com.mailrelay.provider;

import java.util.Map;

/**
 * A provider type's health probe: its documented lightweight call (SMTP: connect, EHLO, AUTH;
 * Mailgun: the domain; SendGrid: the key's scopes; Postmark: the server; SES: the account; Gmail:
 * the sender's profile), made with one provider instance's parameters. It never sends mail.
 * One bean per provider type; the providers API and the health indicator run them.
 */
public interface ProviderProbe {

    /** The template this probes (routeTemplateRef), e.g. "mailgun". */
    String type();

    /**
     * Runs the probe with the instance's parameters (its templatedRoute's values over the
     * template's defaults, placeholders resolved).
     *
     * @return what the provider said, one line, without secrets
     * @throws DeliveryException classified as a send would be (transient, configuration fault...)
     */
    String probe(Map<String, String> parameters);
}
