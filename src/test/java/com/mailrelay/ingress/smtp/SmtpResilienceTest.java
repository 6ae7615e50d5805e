package com.mailrelay.ingress.smtp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.support.DatabaseOutage;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The SMTP ingress under failure and under concurrent load; every accepted message is accounted for. */
class SmtpResilienceTest extends RelayTestSupport {

    @Test
    void databaseOutageDuringDataIs451AndTheRetryIsStoredOnce() {
        String subject = "outage " + System.nanoTime();
        String data = "From: app@acme.test\r\nSubject: " + subject + "\r\n\r\nretry me\r\n.\r\n";
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            client.send("MAIL FROM:<app@acme.test>");
            client.send("RCPT TO:<outage@customer.test>");
            assertThat(client.send("DATA")).startsWith("354");

            DatabaseOutage.begin();                              // the database becomes unreachable
            try {
                client.write(data);
                assertThat(client.readReply()).startsWith("451 4.3.0");
            } finally {
                DatabaseOutage.end();
            }
            assertThat(countWithSubject(subject)).isZero();

            // The client retries the transaction, as SMTP clients do after a 4xx.
            client.send("MAIL FROM:<app@acme.test>");
            client.send("RCPT TO:<outage@customer.test>");
            client.send("DATA");
            client.write(data);
            assertThat(client.readReply()).startsWith("250 2.0.0");
        }
        assertThat(countWithSubject(subject)).isEqualTo(1);
        String id = jdbc.queryForObject("select id from messages where subject = ?", String.class, subject);
        awaitStatus(id, "SENT");
    }

    @Test
    void tenConcurrentClientsOfAHundredMessagesEachAreDeliveredExactlyOnce() throws Exception {
        String run = "load-" + System.nanoTime();
        ExecutorService clients = Executors.newFixedThreadPool(10);
        try {
            List<Future<Integer>> sent = new ArrayList<>();
            for (int client = 0; client < 10; client++) {
                int c = client;
                sent.add(clients.submit(() -> sendHundred(run, c)));
            }
            for (Future<Integer> count : sent) {
                assertThat(count.get()).isEqualTo(100);
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(jdbc.queryForObject("select count(*) from messages where subject like ?", Long.class, run + "%"))
                .isEqualTo(1000);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).until(() -> jdbc.queryForObject(
                "select count(*) from messages where subject like ? and status = 'SENT'", Long.class, run + "%") == 1000);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Map<String, Long> copies = Arrays.stream(Upstreams.greenMail("acme-transactional").getReceivedMessages())
                    .map(SmtpResilienceTest::subject)
                    .filter(subject -> subject.startsWith(run))
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            assertThat(copies).hasSize(1000);
            assertThat(copies.values()).allMatch(n -> n == 1);
        });
    }

    @Test
    void connectionsBeyondTheLimitGet421() {
        // max-connections is 20 in the test profile, max-connections-per-address 12: two addresses fill it.
        List<SmtpConversation> open = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                SmtpConversation conversation = SmtpConversation.open(smtp.port(), i % 2 == 0 ? "127.0.0.21" : "127.0.0.22");
                open.add(conversation);
                assertThat(conversation.greeting()).startsWith("220");
            }
            try (SmtpConversation extra = SmtpConversation.open(smtp.port(), "127.0.0.23")) {
                assertThat(extra.greeting()).startsWith("421 4.");
            }
        } finally {
            open.forEach(SmtpConversation::close);
        }
    }

    private int sendHundred(String run, int client) throws Exception {
        Session session = Session.getInstance(smtpClientProperties());
        int sent = 0;
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("127.0.0.1", smtp.port(), "acme", "acme-password");
            for (int i = 0; i < 100; i++) {
                MimeMessage message = new MimeMessage(session);
                message.setFrom("app@acme.test");
                message.setRecipients(MimeMessage.RecipientType.TO, "load@customer.test");
                message.setSubject(run + " " + client + "-" + i);
                message.setText("message " + i + " of client " + client);
                message.saveChanges();
                transport.sendMessage(message, new Address[] {new InternetAddress("load@customer.test")});
                sent++;
            }
        }
        return sent;
    }

    private long countWithSubject(String subject) {
        return jdbc.queryForObject("select count(*) from messages where subject = ?", Long.class, subject);
    }

    private static String subject(MimeMessage message) {
        try {
            return message.getSubject() == null ? "" : message.getSubject();
        } catch (jakarta.mail.MessagingException e) {
            return "";
        }
    }
}
