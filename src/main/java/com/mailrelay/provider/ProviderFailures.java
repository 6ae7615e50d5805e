package com.mailrelay.provider;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.mailrelay.message.Causes;
import com.mailrelay.message.RelayHeaders;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import jakarta.mail.Address;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.internet.InternetAddress;
import org.apache.camel.Exchange;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Turns whatever a provider endpoint threw into a {@link TransientDeliveryException} or a
 * {@link PermanentDeliveryException} (the README's "How a message travels"): SMTP 5xx
 * is permanent; SMTP 4xx, I/O errors, timeouts and anything unrecognised are transient; refused
 * credentials are a {@link ProviderConfigurationException} (transient, the breaker opened, no
 * attempt used). The provider templates (src/main/resources/templates) call it inside their circuit
 * breaker, so that only transient failures count against the provider's health.
 */
@Component("providerFailures")
public class ProviderFailures {

    /** Lazily: the breakers need the CamelContext, which needs this bean's routes. */
    private final ObjectProvider<ProviderBreakers> breakers;

    public ProviderFailures(ObjectProvider<ProviderBreakers> breakers) {
        this.breakers = breakers;
    }

    /** 530 auth required, 534 mechanism too weak, 535 bad credentials, 538 encryption required (RFC 4954). */
    private static final Set<Integer> AUTHENTICATION_CODES = Set.of(530, 534, 535, 538);

    /**
     * Rethrows the exception caught by the enclosing doCatch, classified — unless the message did
     * reach some recipients (SMTP with sendpartial): then it is a delivery, and the recipients
     * refused (5xx) or put off (4xx) are left in headers for the outcome to record.
     */
    public void rethrow(Exchange exchange, String providerId) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        SendFailedException partial = partialDelivery(caught);
        if (partial != null) {
            exchange.getMessage().setHeader(RelayHeaders.REFUSED_RECIPIENTS, addresses(partial.getInvalidAddresses()));
            exchange.getMessage().setHeader(RelayHeaders.UNSENT_RECIPIENTS, addresses(partial.getValidUnsentAddresses()));
            return;
        }
        DeliveryException failure = classify(providerId, caught);
        // A configuration fault is recorded by ProviderBreakers.configurationFault, with its wait.
        throw failure instanceof ProviderConfigurationException ? failure : recorded(exchange, failure);
    }

    private static DeliveryException recorded(Exchange exchange, DeliveryException failure) {
        ChainWaits.record(exchange, failure);
        return failure;
    }

    private static SendFailedException partialDelivery(Throwable failure) {
        for (Throwable cause : Causes.chain(failure)) {
            if (cause instanceof SendFailedException sendFailed && sendFailed.getValidSentAddresses() != null
                    && sendFailed.getValidSentAddresses().length > 0) {
                return sendFailed;
            }
        }
        return null;
    }

    private static List<String> addresses(Address[] addresses) {
        List<String> list = new ArrayList<>();
        if (addresses != null) {
            for (Address address : addresses) {
                list.add(address instanceof InternetAddress internet ? internet.getAddress() : address.toString());
            }
        }
        return list;
    }

    /**
     * The breaker refused the call without trying: the provider is presumed down — or, when a
     * configuration fault opened it, its set-up is wrong, and the message waits for that without
     * using an attempt.
     */
    public void circuitOpen(Exchange exchange, String providerId) {
        ChainAttempts.notTried(exchange, providerId);
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        ProviderBreakers open = breakers.getIfAvailable();
        DeliveryException fault = open == null ? null : open.openedByFault(providerId).orElse(null);
        if (fault != null) {
            throw recorded(exchange, new ProviderConfigurationException(providerId, fault.code(),
                    "circuit breaker of provider " + providerId + " is open after a configuration fault: not tried ("
                    + fault.reply() + ")", open.openFor(open.breaker(providerId)), caught));
        }
        // Not tried, so not an attempt: a message that finds its whole chain open waits until about
        // when the breakers let a trial call through.
        throw recorded(exchange, new ProviderNotTriedException(providerId, "circuit breaker of provider "
                + providerId + " is open: not tried", open == null ? null : open.openFor(open.breaker(providerId)),
                caught));
    }

    /**
     * The call did not end within its deadline. It may still be running on its pool thread (a
     * blocked socket cannot be interrupted; its own timeouts end it), so the message may yet
     * reach the upstream: delivery is at least once.
     */
    public void timedOut(Exchange exchange, String providerId, long deadlineMillis) {
        throw recorded(exchange, new TransientDeliveryException(providerId, 0, "timeout: no outcome from provider "
                + providerId + " within the attempt deadline of " + deadlineMillis + " ms", null));
    }

    public static DeliveryException classify(String providerId, Throwable failure) {
        if (failure instanceof DeliveryException delivery) {
            return delivery;
        }
        for (Throwable cause : Causes.chain(failure, ProviderFailures::next)) {
            int code = smtpReplyCode(cause);
            if (AUTHENTICATION_CODES.contains(code)) {
                // The relay's credentials were refused: a problem of the provider set-up, not of
                // this message. Fail over and wait rather than bounce the message or use its attempts.
                return new ProviderConfigurationException(providerId, code, reply(cause), failure);
            }
            if (cause instanceof AuthenticationFailedException) {
                return new ProviderConfigurationException(providerId, 535, "authentication refused: " + reply(cause),
                        failure);
            }
            if (code >= 500) {
                return new PermanentDeliveryException(providerId, code, reply(cause), refusedAddresses(failure), failure);
            }
            if (code >= 400) {
                return new TransientDeliveryException(providerId, code, reply(cause), failure);
            }
            if (cause instanceof CallNotPermittedException) {
                return new TransientDeliveryException(providerId, 0, "circuit breaker open", failure);
            }
            if (cause instanceof DirectConsumerNotAvailableException) {
                // No route consumes the direct: endpoint (its route file removed or being replaced):
                // routes/ will be fixed, the message must wait for that, not bounce.
                return new TransientDeliveryException(providerId, 0, "no route takes the message: "
                        + reply(cause).replaceFirst("\\. Exchange\\[.*$", ""), failure);
            }
        }
        return new TransientDeliveryException(providerId, 0, describe(failure), failure);
    }

    /** The recipients an SMTP server refused with a 5xx at RCPT TO. */
    private static List<String> refusedAddresses(Throwable failure) {
        List<String> refused = new ArrayList<>();
        for (Throwable cause : Causes.chain(failure, ProviderFailures::next)) {
            if (cause instanceof SMTPAddressFailedException address && address.getReturnCode() >= 500) {
                refused.add(address.getAddress().getAddress());
            }
        }
        return refused;
    }

    private static int smtpReplyCode(Throwable t) {
        if (t instanceof SMTPAddressFailedException e) {
            return e.getReturnCode();
        }
        if (t instanceof SMTPSendFailedException e) {
            return e.getReturnCode();
        }
        if (t instanceof SMTPSenderFailedException e) {
            return e.getReturnCode();
        }
        return 0;
    }

    /** JavaMail chains per-recipient failures through getNextException, not getCause. */
    private static Throwable next(Throwable t) {
        if (t instanceof MessagingException m && m.getNextException() != null) {
            return m.getNextException();
        }
        return t.getCause();
    }

    private static String reply(Throwable t) {
        String message = t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message.trim();
    }

    private static String describe(Throwable failure) {
        return Causes.describe(failure, ProviderFailures::next, ": ");
    }
}
