package com.mailrelay.metrics;

import com.mailrelay.ingress.smtp.SmtpIngress;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code smtp} (part of readiness): UP while the SMTP submission server listens
 * and takes new transactions; DOWN before its route opened it (the route files are loaded first),
 * after it stopped, and while it drains at shutdown. UP with {@code enabled: false} when the relay
 * runs without SMTP (relay.smtp.enabled: false), so that readiness does not wait for it.
 */
@Component("smtpHealthIndicator")
public class SmtpHealthIndicator implements HealthIndicator {

    private final ObjectProvider<SmtpIngress> smtp;

    public SmtpHealthIndicator(ObjectProvider<SmtpIngress> smtp) {
        this.smtp = smtp;
    }

    @Override
    public Health health() {
        SmtpIngress ingress = smtp.getIfAvailable();
        if (ingress == null) {
            return Health.up().withDetail("enabled", false).build();
        }
        if (!ingress.isRunning()) {
            return Health.down().withDetail("listening", false).build();
        }
        if (ingress.draining()) {
            return Health.down().withDetail("listening", true).withDetail("draining", true).build();
        }
        return Health.up().withDetail("listening", true).withDetail("port", ingress.port()).build();
    }
}
