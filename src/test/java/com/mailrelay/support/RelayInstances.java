package com.mailrelay.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.MailRelayApplication;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.Submission;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Relay instances of their own (not the test framework's cached context), several on one shared
 * database: what the multi-instance tests start, fill through the real accept path and check.
 */
public final class RelayInstances {

    private RelayInstances() {
    }

    /**
     * An instance with the test settings on database {@code database} (shared by every instance
     * started with the same name), plus {@code settings} ("name=value", as on a command line).
     */
    public static ConfigurableApplicationContext start(String database, List<String> settings,
                                                       Class<?>... extraSources) {
        // Command-line arguments: they outrank application.yml (builder properties would not).
        List<String> arguments = new ArrayList<>();
        Upstreams.properties().forEach((key, value) -> arguments.add("--" + key + "=" + value));
        arguments.add("--" + RelayTestSupport.TEST_CONFIG);
        arguments.add("--" + TestDatabaseEnvironment.SHARED_PROPERTY + "=" + database);
        settings.forEach(setting -> arguments.add("--" + setting));
        List<Class<?>> sources = new ArrayList<>(List.of(MailRelayApplication.class));
        sources.addAll(List.of(extraSources));
        return new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
                .profiles("test")
                .run(arguments.toArray(String[]::new));
    }

    /**
     * A plain transactional message, as an ingress would hand it over; its Message-ID carries its
     * relay id ({@link #relayId}), so that copies at the upstream can be counted per message.
     */
    public static Submission submission(String workspace, String from, String recipient, String subject) {
        UUID id = MessageIds.next();
        String mime = "From: " + from + "\r\nTo: " + recipient + "\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + id + "@" + from.substring(from.indexOf('@') + 1) + ">\r\n\r\n" + subject
                + "\r\n";
        return new Submission(id, workspace, EmailType.TRANSACTIONAL, from, List.of(recipient), subject,
                mime.getBytes(), List.of(), Map.of(), null, null, null, null, MergeData.NONE);
    }

    /** The relay id in a delivered copy's Message-ID (see {@link #submission}), or "". */
    public static String relayId(MimeMessage message) {
        try {
            String messageId = message.getMessageID();
            return messageId == null ? "" : messageId.substring(1, messageId.indexOf('@'));
        } catch (MessagingException e) {
            return "";
        }
    }
}
