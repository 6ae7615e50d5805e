package com.mailrelay.provider;

import java.util.List;
import java.util.concurrent.TimeoutException;

import java.util.function.Consumer;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RelayHeaders;

import org.apache.camel.spi.CircuitBreakerConstants;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Resilience4jConfigurationDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.TryDefinition;
import org.springframework.stereotype.Component;

/**
 * One route template per provider type. routes/providers.camel.yaml instantiates them with
 * {@code templatedRoute}; each instance is the route {@code direct:provider-<providerId>}.
 *
 * <p>Every instance wraps its endpoint in a resilience4j circuit breaker that counts only
 * transient failures (a 550 for one bad address says nothing about the provider's health). While
 * the breaker is open the route throws {@link TransientDeliveryException} without calling the
 * endpoint, so that a failover chain moves on at once.
 *
 * <p>Every call also has a deadline ({@code deadlineMillis}, by default
 * relay.worker.attempt-deadline): the breaker's time limiter runs the call on the
 * {@code providerCalls} pool and fails it as transient when the deadline passes, so that no
 * upstream can hold a worker longer. SMTP endpoints additionally time out each connect, read and
 * write ({@code timeoutMillis}): an upstream that stops reading in the middle of DATA fails the
 * write instead of blocking it (Jakarta Mail's writetimeout).
 */
@Component
public class ProviderTemplates extends RouteBuilder {

    private final String deadlineMillis;

    public ProviderTemplates(RelayProperties properties) {
        this.deadlineMillis = Long.toString(properties.worker().attemptDeadline().toMillis());
    }

    @Override
    public void configure() {
        if (getCamelContext().getRegistry().lookupByName(ProviderCallPool.BEAN) == null) {
            getCamelContext().getRegistry().bind(ProviderCallPool.BEAN, java.util.concurrent.ExecutorService.class,
                    ProviderCallPool.create());
        }
        smtp();
        outbox();
    }

    /** An upstream SMTP server through camel-mail. */
    private void smtp() {
        RouteTemplateDefinition template = routeTemplate("smtp")
                .templateParameter("providerId", null, "names the route direct:provider-<providerId>")
                .templateParameter("host", null, "upstream host name")
                .templateParameter("port", "25", "upstream port (587 submission, 465 with scheme smtps)")
                .templateParameter("scheme", "smtp", "smtp, or smtps for TLS from the first byte")
                .templateParameter("startTls", "false", "require STARTTLS before sending")
                .templateOptionalParameter("username", "AUTH user, if the upstream wants one")
                .templateOptionalParameter("password", "AUTH password")
                .templateOptionalParameter("sslTrust", "hosts whose certificate is trusted without a CA "
                        + "(\"*\" for all): for self-signed development servers only")
                .templateParameter("checkServerIdentity", "true", "check that the certificate names the host")
                .templateParameter("timeoutMillis", "30000", "connect, read and write timeout of each SMTP operation");
        breakerParameters(template);
        providerRoute(template, "250 accepted by {{host}}:{{port}}", call -> call
                .setBody(method("smtpEnvelope", "toMimeMessage"))
                .to("{{scheme}}://{{host}}:{{port}}?username=RAW({{?username}})&password=RAW({{?password}})"
                        + "&connectionTimeout={{timeoutMillis}}"
                        + "&mail.smtp.timeout={{timeoutMillis}}&mail.smtps.timeout={{timeoutMillis}}"
                        // A write blocked longer than this (an upstream that stopped reading) fails.
                        + "&mail.smtp.writetimeout={{timeoutMillis}}&mail.smtps.writetimeout={{timeoutMillis}}"
                        + "&mail.smtp.starttls.enable={{startTls}}&mail.smtp.starttls.required={{startTls}}"
                        // Send to the recipients the upstream took even when it refused others.
                        + "&mail.smtp.sendpartial=true&mail.smtps.sendpartial=true"
                        // Closing an idle kept-open connection sends QUIT without waiting for the reply.
                        + "&mail.smtp.quitwait=false&mail.smtps.quitwait=false"
                        + "&mail.smtp.ssl.trust={{?sslTrust}}&mail.smtps.ssl.trust={{?sslTrust}}"
                        + "&mail.smtp.ssl.checkserveridentity={{checkServerIdentity}}"
                        + "&mail.smtps.ssl.checkserveridentity={{checkServerIdentity}}")
                .id("send-{{providerId}}"));
    }

    /** Writes each message as an .eml file: the embedded default, and a development sink. */
    private void outbox() {
        RouteTemplateDefinition template = routeTemplate("outbox")
                .templateParameter("providerId", null, "names the route direct:provider-<providerId>")
                .templateParameter("directory", "data/outbox", "folder the .eml files are written to");
        breakerParameters(template);
        providerRoute(template, "written to {{directory}}", call -> call
                .setBody(exchangeProperty(RelayHeaders.MESSAGE).method("rawMime"))
                .to("file:{{directory}}?fileName=${header." + RelayHeaders.MESSAGE_ID + "}.eml&tempPrefix=.writing-")
                .id("write-{{providerId}}"));
    }

    /**
     * The shape every provider route shares: the call inside a circuit breaker, its failures
     * classified inside the breaker (so only transient ones count), an open breaker turned into a
     * transient failure, and the provider's id and reply left in headers for the outcome.
     */
    private void providerRoute(RouteTemplateDefinition template, String reply, Consumer<TryDefinition> call) {
        // The outer try catches what the breaker itself throws: its time limiter's TimeoutException
        // (the call ran past its deadline), raised outside the call's own try.
        TryDefinition deadline = template.from("direct:provider-{{providerId}}")
                .setHeader(RelayHeaders.PROVIDER_ID, constant("{{providerId}}"))
                .doTry();
        TryDefinition attempt = deadline.circuitBreaker()
                    .resilience4jConfiguration(breakerConfiguration())
                    .doTry();
        call.accept(attempt);
        attempt.doCatch(Exception.class)
                    .bean("providerFailures", "rethrow(*, {{providerId}})")
                .end()      // doTry
                .end();     // circuitBreaker
        deadline.doCatch(TimeoutException.class)
                    .bean("providerFailures", "timedOut(*, {{providerId}}, {{deadlineMillis}})")
                .end()      // the outer doTry
                .filter(exchangeProperty(CircuitBreakerConstants.RESPONSE_SHORT_CIRCUITED).isEqualTo(true))
                    .bean("providerFailures", "circuitOpen(*, {{providerId}})")
                .end()
                .setHeader(RelayHeaders.PROVIDER_REPLY, simple(reply));
    }

    private void breakerParameters(RouteTemplateDefinition template) {
        template.templateParameter("deadlineMillis", deadlineMillis, "longest one call may take before it fails "
                        + "as transient (default relay.worker.attempt-deadline)")
                .templateParameter("failureRateThreshold", "50", "percent of failed calls that opens the breaker")
                .templateParameter("minimumNumberOfCalls", "5", "calls seen before the rate is judged")
                .templateParameter("slidingWindowSize", "20", "calls the failure rate is computed over")
                .templateParameter("waitDurationInOpenState", "30", "seconds open before a trial call");
    }

    /**
     * Options are given as placeholders (resolved per templated route), and the exception filter
     * inline: resilience4j only reads it from an inline configuration.
     */
    private static Resilience4jConfigurationDefinition breakerConfiguration() {
        Resilience4jConfigurationDefinition configuration = new Resilience4jConfigurationDefinition();
        configuration.setFailureRateThreshold("{{failureRateThreshold}}");
        configuration.setMinimumNumberOfCalls("{{minimumNumberOfCalls}}");
        configuration.setSlidingWindowSize("{{slidingWindowSize}}");
        configuration.setWaitDurationInOpenState("{{waitDurationInOpenState}}");
        // A call past its deadline counts against the provider too: an upstream that hangs is not healthy.
        configuration.setRecordExceptions(List.of(TransientDeliveryException.class.getName(),
                TimeoutException.class.getName()));
        configuration.setTimeoutEnabled("true");
        configuration.setTimeoutDuration("{{deadlineMillis}}");
        configuration.setTimeoutExecutorService(ProviderCallPool.BEAN);
        return configuration;
    }
}
