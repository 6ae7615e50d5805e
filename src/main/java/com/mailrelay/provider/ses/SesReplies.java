package com.mailrelay.provider.ses;

import java.time.Clock;
import java.time.Duration;
import java.util.Set;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sesv2.model.SendEmailResponse;

/**
 * What SES's answer to {@code SendEmail} means (the SES API v2 reference, SendEmail "Errors", and
 * the common errors of AWS APIs):
 * <table>
 * <tr><td>TooManyRequestsException (429), LimitExceededException, any throttling code, 5xx,
 *   InternalServiceErrorException, no answer (I/O)</td><td>transient (Retry-After honoured if sent)</td></tr>
 * <tr><td>MessageRejected, BadRequestException, other 4xx</td><td>permanent for the message</td></tr>
 * <tr><td>MailFromDomainNotVerifiedException, AccountSuspendedException, SendingPausedException,
 *   NotFoundException (the configuration set), refused signature or credentials (403, 401),
 *   no credentials found</td><td>the provider's configuration fault: breaker opened, no attempt used</td></tr>
 * </table>
 * On success SES's {@code MessageId} is kept as the provider message id.
 */
@Component("sesReplies")
public class SesReplies {

    /** The account or its sender set-up, not the message: every message would fail alike. */
    private static final Set<String> CONFIGURATION = Set.of("MailFromDomainNotVerifiedException",
            "AccountSuspendedException", "SendingPausedException", "NotFoundException");
    /** AWS's common errors for a request whose signature or credentials were refused. */
    private static final Set<String> CREDENTIALS = Set.of("UnrecognizedClientException", "InvalidSignatureException",
            "SignatureDoesNotMatch", "IncompleteSignature", "InvalidClientTokenId", "ExpiredToken",
            "ExpiredTokenException", "AccessDeniedException", "AccessDenied", "MissingAuthenticationToken",
            "NotAuthorized", "OptInRequired", "AuthFailure");
    private static final Set<String> TRANSIENT = Set.of("TooManyRequestsException", "LimitExceededException",
            "InternalServiceErrorException", "ServiceUnavailable", "InternalFailure", "RequestTimeout");

    private final Clock clock;

    public SesReplies(Clock clock) {
        this.clock = clock;
    }

    /** After {@link SesSender#send}: keeps the MessageId, or throws what SES's refusal means. */
    public void classify(Exchange exchange, String providerId) {
        SdkException failure = exchange.getProperty(SesSender.FAILURE, SdkException.class);
        if (failure != null) {
            exchange.removeProperty(SesSender.FAILURE);
            throw failure(providerId, failure, clock);
        }
        SendEmailResponse response = exchange.getMessage().getBody(SendEmailResponse.class);
        if (response == null || response.messageId() == null || response.messageId().isBlank()) {
            throw new TransientDeliveryException(providerId, 0, "SES answered SendEmail without a MessageId", null);
        }
        exchange.getMessage().setHeader(RelayHeaders.PROVIDER_MESSAGE_ID, response.messageId());
    }

    /** The relay's failure for an exception of the SES SDK (also for the probe's GetAccount). */
    static DeliveryException failure(String providerId, SdkException failure, Clock clock) {
        if (failure instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
            String message = service.awsErrorDetails() == null ? service.getMessage()
                    : service.awsErrorDetails().errorMessage();
            String reply = "SES " + (code == null ? "error" : code) + " (HTTP " + status + ")"
                    + (message == null || message.isBlank() ? "" : ": " + HttpReplies.start(message));
            Duration retryAfter = service.awsErrorDetails() == null || service.awsErrorDetails().sdkHttpResponse() == null
                    ? null : service.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After")
                            .map(value -> HttpReplies.retryAfter(value, clock)).orElse(null);
            if (code != null && CONFIGURATION.contains(code)) {
                return new ProviderConfigurationException(providerId, status, reply, failure);
            }
            if (code != null && CREDENTIALS.contains(code)) {
                return new ProviderConfigurationException(providerId, status, reply, failure);
            }
            if ((code != null && TRANSIENT.contains(code)) || service.isThrottlingException()) {
                return new TransientDeliveryException(providerId, status, reply, retryAfter, failure);
            }
            if ("MessageRejected".equals(code) || "BadRequestException".equals(code)) {
                return new PermanentDeliveryException(providerId, status, reply, failure);
            }
            DeliveryException byStatus = HttpReplies.classify(providerId, status, null, null, clock);
            if (byStatus instanceof ProviderConfigurationException) {
                return new ProviderConfigurationException(providerId, status, reply, failure);
            }
            if (byStatus instanceof PermanentDeliveryException) {
                return new PermanentDeliveryException(providerId, status, reply, failure);
            }
            return new TransientDeliveryException(providerId, status, reply, retryAfter, failure);
        }
        String message = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
        if (failure instanceof SdkClientException && message.contains("Unable to load credentials")) {
            // The default credentials chain found nothing: no message can be sent until that is set up.
            return new ProviderConfigurationException(providerId, 0, "SES: no AWS credentials: "
                    + HttpReplies.start(message), failure);
        }
        return new TransientDeliveryException(providerId, 0, "SES not reached: " + HttpReplies.start(message), failure);
    }
}
