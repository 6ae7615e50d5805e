package com.mailrelay.provider;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.mailrelay.message.Causes;
import com.mailrelay.message.DeliveryAttempt.Outcome;
import com.mailrelay.message.RelayHeaders;
import jakarta.mail.MessagingException;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.MessageHelper;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;
import org.springframework.stereotype.Component;

/**
 * Fills the delivery attempt's {@link ChainAttempts} from Camel's send events, so that every
 * provider route — the built-in templates, an operator's own in templates/, a provider named by
 * override — is recorded without a step of its own:
 * <ul>
 * <li>a {@code direct:provider-<id>} called opens a try, and its end closes it, with the outcome
 *     the exception on the exchange (or none) says and the time Camel measured;</li>
 * <li>the provider's own call returning inside that route (the {@code to} that is not a
 *     {@code direct:}) is its answer: for SMTP the upstream's reply to the end of DATA
 *     ({@link SmtpEnvelope.Envelope}), or on failure each failed command with its full reply (a
 *     refused RCPT TO per recipient, as Jakarta Mail chains them through getNextException); for an
 *     HTTP API its status and the start of its body.</li>
 * </ul>
 * Jakarta Mail's {@code mail.smtp.reportsuccess} would report every accepted recipient too, but as
 * an exception thrown from a successful send, which would close pooled connections and read as a
 * partial delivery: the final reply and the failures are what the history keeps.
 * Exchanges without a holder (a provider test, a route test) cost one property lookup.
 */
@Component
public class AttemptRecorder extends EventNotifierSupport {

    private static final String PROVIDER_ENDPOINT = "direct://provider-";

    private final Clock clock;

    /** A Spring bean, so that Camel registers it as an event notifier (camel-main) before it starts. */
    public AttemptRecorder(Clock clock) {
        this.clock = clock;
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        // The sending event must be taken too: Camel reports a send's end only if someone took its start.
        return event instanceof CamelEvent.ExchangeSendingEvent || event instanceof CamelEvent.ExchangeSentEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof CamelEvent.ExchangeSendingEvent sending) {
            String providerId = providerRoute(sending.getEndpoint().getEndpointUri());
            ChainAttempts attempts = providerId == null ? null : ChainAttempts.of(sending.getExchange());
            if (attempts != null) {
                attempts.begin(providerId, clock.instant());
            }
        } else if (event instanceof CamelEvent.ExchangeSentEvent sent) {
            ChainAttempts attempts = ChainAttempts.of(sent.getExchange());
            if (attempts == null) {
                return;
            }
            String providerId = providerRoute(sent.getEndpoint().getEndpointUri());
            if (providerId != null) {
                end(attempts, providerId, sent.getExchange(), Duration.ofMillis(sent.getTimeTaken()));
            } else if (!sent.getEndpoint().getEndpointUri().startsWith("direct:")) {
                answered(attempts, sent.getExchange());
            }
        }
    }

    /** The provider id of a provider route's endpoint URI, or null for any other endpoint. */
    static String providerRoute(String uri) {
        if (!uri.startsWith(PROVIDER_ENDPOINT)) {
            return null;
        }
        String providerId = uri.substring(PROVIDER_ENDPOINT.length());
        int query = providerId.indexOf('?');
        return query >= 0 ? providerId.substring(0, query) : providerId;
    }

    private void end(ChainAttempts attempts, String providerId, Exchange exchange, Duration taken) {
        Throwable failure = exchange.getException();
        if (failure == null) {
            String reply = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_REPLY, String.class);
            attempts.end(providerId, Outcome.SENT, null, reply, taken, clock.instant());
            return;
        }
        DeliveryException classified = ProviderFailures.classify(providerId, failure);
        Outcome outcome;
        // An open breaker marks its try itself (ChainAttempts.notTried): what it throws may be a
        // configuration fault, which a real call can give too.
        if (classified instanceof ProviderNotTriedException || classified instanceof ProviderQuotaException) {
            outcome = Outcome.NOT_TRIED;
        } else if (classified instanceof PermanentDeliveryException) {
            outcome = Outcome.PERMANENT;
        } else {
            outcome = Outcome.TRANSIENT;
        }
        String code = outcome == Outcome.NOT_TRIED || classified.code() <= 0 ? null
                : codeOf(classified.code(), classified.reply());
        attempts.end(providerId, outcome, code, classified.reply(), taken, clock.instant());
    }

    /** The SMTP reply code with its enhanced code when the reply starts with it, else the bare code. */
    private static String codeOf(int code, String reply) {
        String smtp = ChainAttempts.smtpCode(reply);
        return smtp != null && smtp.startsWith(String.valueOf(code)) ? smtp : String.valueOf(code);
    }

    /** The provider's own call returned, inside its route (the header names the provider). */
    private static void answered(ChainAttempts attempts, Exchange exchange) {
        String providerId = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
        if (providerId == null) {
            return;
        }
        Object body = exchange.getMessage().getBody();
        Throwable failure = exchange.getException();
        if (body instanceof SmtpEnvelope.Envelope envelope) {
            String reply = failure != null ? smtpFailure(failure) : envelope.serverReply();
            if (reply != null) {
                attempts.answered(providerId, ChainAttempts.smtpCode(reply), reply);
            }
            return;
        }
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        if (status != null) {
            String text = MessageHelper.extractBodyAsString(exchange.getMessage());
            attempts.answered(providerId, String.valueOf(status),
                    "HTTP " + status + (text == null || text.isBlank() ? "" : ": " + text.strip()));
        }
    }

    /**
     * Each command the upstream refused with its whole reply (every line of a multi-line one), in
     * the order Jakarta Mail chained them: "RCPT TO:&lt;a@x&gt;" then its reply lines, and so on;
     * what went wrong in other words when no command was refused (a refused connection, a timeout).
     */
    static String smtpFailure(Throwable failure) {
        List<String> parts = new ArrayList<>();
        for (Throwable cause : Causes.chain(failure, AttemptRecorder::next)) {
            String command = command(cause);
            if (command != null && cause.getMessage() != null) {
                parts.add(command + "\n" + cause.getMessage().strip());
            }
        }
        return parts.isEmpty() ? Causes.describe(failure, AttemptRecorder::next, ": ") : String.join("\n", parts);
    }

    private static String command(Throwable cause) {
        if (cause instanceof SMTPAddressFailedException address) {
            return address.getCommand();
        }
        if (cause instanceof SMTPSenderFailedException sender) {
            return sender.getCommand();
        }
        if (cause instanceof SMTPSendFailedException send) {
            return send.getCommand();
        }
        return null;
    }

    private static Throwable next(Throwable t) {
        if (t instanceof MessagingException m && m.getNextException() != null) {
            return m.getNextException();
        }
        return t.getCause();
    }
}
