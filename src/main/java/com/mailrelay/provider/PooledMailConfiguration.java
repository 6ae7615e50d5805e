package com.mailrelay.provider;

import org.apache.camel.CamelContext;
import org.apache.camel.component.mail.JavaMailSender;
import org.apache.camel.component.mail.MailConfiguration;

/**
 * camel-mail's endpoint configuration with a {@link PooledJavaMailSender}: each smtp/smtps
 * endpoint (one per provider route) keeps its own pool of upstream connections. camel-mail copies
 * the component's configuration (a clone, so this class) into every endpoint it creates.
 */
class PooledMailConfiguration extends MailConfiguration {

    @Override
    protected JavaMailSender createJavaMailSender(CamelContext context) {
        return new PooledJavaMailSender(super.createJavaMailSender(context));
    }
}
