package com.mailrelay.provider;

import org.apache.camel.component.mail.MailComponent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The smtp and smtps components the provider routes send with: camel-mail's, with upstream
 * connections kept open between messages (see {@link PooledJavaMailSender}). Camel finds a
 * component in the registry by its scheme before it creates one of its own.
 */
@Configuration(proxyBeanMethods = false)
class PooledMailComponents {

    @Bean("smtp")
    MailComponent smtp() {
        return new MailComponent(new PooledMailConfiguration());
    }

    @Bean("smtps")
    MailComponent smtps() {
        return new MailComponent(new PooledMailConfiguration());
    }
}
