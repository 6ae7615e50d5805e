package com.mailrelay.provider;

import java.util.Map;
import java.util.Properties;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.springframework.stereotype.Component;

/**
 * The smtp provider type's probe: connect, EHLO, STARTTLS when the instance sets startTls, AUTH
 * with its username and password, then QUIT — exactly the opening of a send, with the instance's
 * own parameters, and never a MAIL FROM. A fresh connection each time (not one of the pool's), so
 * that it tells whether the upstream takes new connections and the credentials now.
 */
@Component
public class SmtpProbe implements ProviderProbe {

    @Override
    public String type() {
        return "smtp";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.get("providerId");
        String scheme = value(parameters, "scheme", "smtp");
        String host = parameters.get("host");
        int port = Integer.parseInt(value(parameters, "port", "25"));
        String timeout = value(parameters, "timeoutMillis", "30000");
        String startTls = value(parameters, "startTls", "false");
        String username = parameters.get("username");
        boolean auth = username != null && !username.isEmpty();
        Properties properties = new Properties();
        properties.put("mail." + scheme + ".connectiontimeout", timeout);
        properties.put("mail." + scheme + ".timeout", timeout);
        properties.put("mail." + scheme + ".writetimeout", timeout);
        properties.put("mail." + scheme + ".auth", String.valueOf(auth));
        properties.put("mail.smtp.starttls.enable", startTls);
        properties.put("mail.smtp.starttls.required", startTls);
        properties.put("mail." + scheme + ".quitwait", "true");
        String trust = parameters.get("sslTrust");
        if (trust != null && !trust.isEmpty()) {
            properties.put("mail." + scheme + ".ssl.trust", trust);
        }
        properties.put("mail." + scheme + ".ssl.checkserveridentity", value(parameters, "checkServerIdentity", "true"));
        Session session = Session.getInstance(properties);
        try (Transport transport = session.getTransport(scheme)) {
            transport.connect(host, port, auth ? username : null, auth ? parameters.get("password") : null);
            String greeting = transport instanceof SMTPTransport smtp ? smtp.getLastServerResponse() : null;
            return (greeting == null ? "connected" : greeting.strip().replaceAll("\\s+", " "))
                    + (auth ? " (authenticated as " + username + ")" : "")
                    + (Boolean.parseBoolean(startTls) ? " over STARTTLS" : "") + " at " + host + ":" + port;
        } catch (MessagingException | RuntimeException e) {
            throw ProviderFailures.classify(providerId, e);
        }
    }

    private static String value(Map<String, String> parameters, String name, String fallback) {
        String value = parameters.get(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
