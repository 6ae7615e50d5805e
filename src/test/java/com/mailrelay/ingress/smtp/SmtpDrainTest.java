package com.mailrelay.ingress.smtp;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The session deadline and the drain at shutdown, on a relay instance of its own (short limits;
 * the drain test ends it): closing the application context is what the JVM's shutdown hook does
 * on SIGTERM, so the SMTP server drains in the real shutdown order, with the accept path and the
 * database still up behind it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SmtpDrainTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(3);

    private static ConfigurableApplicationContext relay;
    private static SmtpIngress smtp;
    private static String url;
    private static String user;
    private static String password;

    @BeforeAll
    static void start() {
        relay = RelayInstances.start("smtp_drain_" + System.nanoTime(), List.of(
                "relay.smtp.session-deadline=" + DEADLINE.toSeconds() + "s",
                "relay.smtp.drain-timeout=" + DRAIN_TIMEOUT.toSeconds() + "s"));
        smtp = relay.getBean(SmtpIngress.class);
        Environment environment = relay.getEnvironment();
        url = environment.getProperty("spring.datasource.url");
        user = environment.getProperty("spring.datasource.username");
        password = environment.getProperty("spring.datasource.password");
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
    }

    @Test
    @Order(1)
    void aSessionPastItsDeadlineIsClosedWith421EvenWhileBusy() {
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            long start = System.nanoTime();
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            // A client that keeps the session busy (NOOP every 200 ms) is not idle, but still gets cut.
            String[] last = {null};
            await().atMost(DEADLINE.plusSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> (last[0] = client.send("NOOP")).startsWith("421"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(DEADLINE.minusMillis(100));
            assertThat(last[0]).isEqualTo("421 4.4.2 Session deadline of 10s reached (relay.smtp.session-deadline): "
                    + "closing the connection; reconnect to go on");
            assertThat(client.readReply()).as("closed after the 421").isNull();
        }
        // A new session starts with a deadline of its own.
        try (SmtpConversation again = SmtpConversation.open(smtp.port())) {
            assertThat(again.login("acme", "acme-password")).startsWith("235");
        }
    }

    @Test
    @Order(2)
    void onShutdownDataUnderWayGets250AndEverythingNewGets421() throws Exception {
        String run = "drain-" + System.nanoTime();
        List<SmtpConversation> clients = new ArrayList<>();
        CompletableFuture<Void> shutdown = null;
        try {
            // In DATA, half the message sent.
            SmtpConversation inData = open(clients);
            assertThat(inData.login("acme", "acme-password")).startsWith("235");
            assertThat(inData.send("MAIL FROM:<app@acme.test>")).startsWith("250");
            assertThat(inData.send("RCPT TO:<r@customer.test>")).startsWith("250");
            assertThat(inData.send("DATA")).startsWith("354");
            inData.write("From: app@acme.test\r\nSubject: " + run + "-data\r\n\r\nfirst half\r\n");
            // Between transactions: logged in, nothing started.
            SmtpConversation idle = open(clients);
            assertThat(idle.login("acme", "acme-password")).startsWith("235");
            // Inside a transaction that never ends: RCPT given, DATA never sent.
            SmtpConversation stuck = open(clients);
            assertThat(stuck.login("acme", "acme-password")).startsWith("235");
            assertThat(stuck.send("MAIL FROM:<app@acme.test>")).startsWith("250");
            assertThat(stuck.send("RCPT TO:<r@customer.test>")).startsWith("250");

            long begun = System.nanoTime();
            shutdown = CompletableFuture.runAsync(relay::close);       // what SIGTERM's shutdown hook does
            await().atMost(Duration.ofSeconds(10)).until(smtp::draining);

            // A new connection is refused...
            try (SmtpConversation late = SmtpConversation.open(smtp.port())) {
                assertThat(late.greeting()).isEqualTo("421 4.3.2 Service shutting down: try again later, "
                        + "or at another instance");
            }
            // ...and so is a new transaction: the idle session is told 421 and closed.
            assertThat(idle.send("MAIL FROM:<app@acme.test>")).startsWith("421 4.3.2 ");
            assertThat(idle.readReply()).isNull();

            // The message under way is finished and committed, and its client gets the 250.
            inData.write("second half\r\n.\r\n");
            String accepted = inData.readReply();
            assertThat(accepted).startsWith("250 2.0.0 Ok: queued as ");
            String id = accepted.substring(accepted.lastIndexOf(' ') + 1);
            // Then it is closed too, as it is between transactions now.
            assertThat(inData.readReply()).startsWith("421 4.3.2 ");

            // The transaction that never ends is cut at the drain timeout, told 421, and stores nothing.
            assertThat(stuck.readReply()).startsWith("421 4.3.2 ");
            assertThat(Duration.ofNanos(System.nanoTime() - begun)).isGreaterThanOrEqualTo(DRAIN_TIMEOUT.minusMillis(200));

            shutdown.get(60, TimeUnit.SECONDS);
            assertThat(relay.isActive()).isFalse();

            // Every accepted message is accounted for: the one that got its 250, and nothing else.
            try (Connection db = DriverManager.getConnection(url, user, password);
                 PreparedStatement query = db.prepareStatement("select id, subject from messages where subject like ?")) {
                query.setString(1, run + "%");
                List<String> stored = new ArrayList<>();
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        stored.add(rows.getObject("id", UUID.class) + " " + rows.getString("subject"));
                    }
                }
                assertThat(stored).containsExactly(id + " " + run + "-data");
            }
        } finally {
            clients.forEach(SmtpConversation::close);
            if (shutdown != null) {
                shutdown.get(60, TimeUnit.SECONDS);
            }
        }
    }

    private static SmtpConversation open(List<SmtpConversation> clients) {
        SmtpConversation client = SmtpConversation.open(smtp.port());
        clients.add(client);
        return client;
    }
}
