package com.mailrelay.ingress.smtp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM to a real relay process while a client is in the middle of DATA: the client still gets
 * its 250 after the commit, new connections and new transactions get 421 4.3.2, and the process
 * exits once the SMTP sessions are done (relay.smtp.drain-timeout bounds the wait).
 */
class SmtpSigtermTest {

    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);

    @Test
    void sigtermDuringDataGivesThe250AndRefusesEverythingNew() throws Exception {
        Path directory = Files.createTempDirectory("smtp-sigterm-");
        ForkedRelay.Database database = TestDatabaseEnvironment.forkedDatabase(directory);
        String run = "sigterm-" + System.nanoTime();
        List<SmtpConversation> clients = new ArrayList<>();
        try (ForkedRelay relay = ForkedRelay.builder().workDirectory(directory).database(database)
                .property("relay.smtp.drain-timeout", DRAIN_TIMEOUT.toSeconds() + "s").start()) {
            relay.awaitReady(Duration.ofMinutes(3));
            int port = relay.smtpPort();

            SmtpConversation inData = open(clients, port);
            assertThat(inData.login("acme", "acme-password")).startsWith("235");
            assertThat(inData.send("MAIL FROM:<app@acme.test>")).startsWith("250");
            assertThat(inData.send("RCPT TO:<r@customer.test>")).startsWith("250");
            assertThat(inData.send("DATA")).startsWith("354");
            inData.write("From: app@acme.test\r\nSubject: " + run + "\r\n\r\nfirst half\r\n");
            SmtpConversation idle = open(clients, port);
            assertThat(idle.login("acme", "acme-password")).startsWith("235");

            long terminated = System.nanoTime();
            relay.terminate();

            // The drain has begun once a new connection is refused.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try (SmtpConversation late = SmtpConversation.open(port)) {
                    return late.greeting().startsWith("421 4.3.2 Service shutting down");
                }
            });
            assertThat(idle.send("MAIL FROM:<app@acme.test>")).startsWith("421 4.3.2 ");

            inData.write("second half\r\n.\r\n");
            String accepted = inData.readReply();
            assertThat(accepted).as(relay.tail(40)).startsWith("250 2.0.0 Ok: queued as ");
            String id = accepted.substring(accepted.lastIndexOf(' ') + 1);
            assertThat(inData.readReply()).startsWith("421 4.3.2 ");

            int exit = relay.awaitExit(Duration.ofSeconds(60));
            Duration shutdown = Duration.ofNanos(System.nanoTime() - terminated);
            assertThat(exit).as(relay.tail(40)).isIn(0, 143);
            assertThat(shutdown).isLessThan(Duration.ofSeconds(45));
            assertThat(relay.log()).contains("SMTP draining").contains("SMTP submission server stopped");

            // Every accepted message is accounted for: the one that got its 250, once, and nothing else.
            assertThat(stored(database, run)).containsExactly(id);
        } finally {
            clients.forEach(SmtpConversation::close);
        }
    }

    private static SmtpConversation open(List<SmtpConversation> clients, int port) {
        SmtpConversation client = SmtpConversation.open(port);
        clients.add(client);
        return client;
    }

    private static List<String> stored(ForkedRelay.Database database, String subject) throws Exception {
        try (Connection db = DriverManager.getConnection(database.url(), database.user(), database.password());
             PreparedStatement query = db.prepareStatement("select id from messages where subject = ?")) {
            query.setString(1, subject);
            List<String> ids = new ArrayList<>();
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getObject("id", UUID.class).toString());
                }
            }
            return ids;
        }
    }
}
