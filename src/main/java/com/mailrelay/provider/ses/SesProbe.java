package com.mailrelay.provider.ses;

import java.time.Clock;
import java.util.Map;

import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.ProviderProbe;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sesv2.model.GetAccountRequest;
import software.amazon.awssdk.services.sesv2.model.GetAccountResponse;

/**
 * Health probe of provider type "ses": SES v2 {@code GetAccount}, which proves the region,
 * endpoint and credentials (the same signed request as a send) and says whether the account may
 * send. An account whose sending is disabled or that is shut down is reported as the configuration
 * fault a send would meet (SendingPausedException, AccountSuspendedException). Sends nothing.
 */
@Component
public class SesProbe implements ProviderProbe {

    private final SesClients clients;
    private final Clock clock;

    public SesProbe(SesClients clients, Clock clock) {
        this.clients = clients;
        this.clock = clock;
    }

    @Override
    public String type() {
        return "ses";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.getOrDefault("providerId", "ses");
        SesClients.Settings settings = new SesClients.Settings(value(parameters, "region"),
                value(parameters, "accessKeyId"), value(parameters, "secretAccessKey"),
                value(parameters, "endpointOverride"), Integer.parseInt(parameters.getOrDefault("timeoutMillis", "30000")));
        GetAccountResponse account;
        try {
            account = clients.client(providerId, settings).getAccount(GetAccountRequest.builder().build());
        } catch (SdkException e) {
            throw SesReplies.failure(providerId, e, clock);
        }
        String state = "SES account in " + settings.region() + ": enforcement " + account.enforcementStatus()
                + ", production access " + account.productionAccessEnabled()
                + (account.sendQuota() == null ? "" : ", quota " + account.sendQuota().max24HourSend() + "/day at "
                        + account.sendQuota().maxSendRate() + "/s, " + account.sendQuota().sentLast24Hours()
                        + " sent in the last 24 h");
        if ("SHUTDOWN".equalsIgnoreCase(account.enforcementStatus())) {
            throw new ProviderConfigurationException(providerId, 0, state + " (shut down)", null);
        }
        if (Boolean.FALSE.equals(account.sendingEnabled())) {
            throw new ProviderConfigurationException(providerId, 0, state + " (sending disabled)", null);
        }
        return state;
    }

    private static String value(Map<String, String> parameters, String name) {
        String value = parameters.get(name);
        return value == null ? "" : value.trim();
    }
}
