package com.mailrelay.flow;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 202 / 250 on the embedded default (H2 in ./data, the project's ./application.yml) survives
 * kill -9: the relay runs as a process of its own, accepts 40 messages over REST and 5 over SMTP
 * at once, and is SIGKILLed as soon as the last reply is in — twice (the second kill hits a relay
 * that recovered from the first), restarting on the same files each time. After every restart
 * each message ever answered 202 / 250 must be there.
 *
 * <p>It is about the embedded default's H2 file, whatever engine the run tests, so it runs once,
 * in the H2 execution of the suite.
 */
@EnabledIfSystemProperty(named = TestDatabaseEnvironment.ENGINE_PROPERTY, matches = "h2",
        disabledReason = "tests the embedded default's H2 file: runs once, in the H2 execution of the suite")
class EmbeddedKillTest {

    private static final int ROUNDS = 2;
    private static final int REST_PER_ROUND = 40;
    private static final int SMTP_PER_ROUND = 5;
    private static final Pattern QUEUED_AS = Pattern.compile("queued as (\\S+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void everyAcceptedMessageSurvivesSigkill() throws Exception {
        List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        try (ForkedRelay relay = ForkedRelay.builder().configuration(ForkedRelay.Configuration.EMBEDDED_DEFAULT)
                .start()) {
            relay.awaitReady(Duration.ofSeconds(120));
            for (int round = 0; round < ROUNDS; round++) {
                List<String> thisRound = acceptAtOnce(relay, round);
                relay.kill();       // within milliseconds of the last 202 / 250
                accepted.addAll(thisRound);
                assertThat(thisRound).hasSize(REST_PER_ROUND + SMTP_PER_ROUND);

                relay.restart().awaitReady(Duration.ofSeconds(120));
                List<String> missing = new ArrayList<>();
                for (String id : accepted) {
                    HttpResponse<String> found = get(relay, id);
                    if (found.statusCode() != 200) {
                        missing.add(id + " (" + found.statusCode() + ")");
                    }
                }
                assertThat(missing).as("accepted before kill -9 number " + (round + 1) + ", gone after the restart")
                        .isEmpty();
            }
            assertThat(relay.log()).contains("every commit is written and fsynced");
        }
        assertThat(accepted).hasSize(ROUNDS * (REST_PER_ROUND + SMTP_PER_ROUND)).doesNotHaveDuplicates();
    }

    /** 40 REST requests on 8 threads and 5 SMTP messages on one more, all at once; the ids answered. */
    private List<String> acceptAtOnce(ForkedRelay relay, int round) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(9);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                results.add(clients.submit(() -> {
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < REST_PER_ROUND / 8; i++) {
                        ids.add(post(relay, "kill " + round + "-" + thread + "-" + i));
                    }
                    return ids;
                }));
            }
            results.add(clients.submit(() -> {
                List<String> ids = new ArrayList<>();
                try (SmtpConversation smtp = SmtpConversation.open(relay.smtpPort())) {
                    smtp.send("EHLO client.test");
                    assertThat(smtp.authPlain("dev", "dev-password-change-me")).startsWith("235");
                    for (int i = 0; i < SMTP_PER_ROUND; i++) {
                        String reply = smtp.submit("app@example.com", "kill@example.org",
                                "From: app@example.com\r\nTo: kill@example.org\r\nSubject: kill smtp " + round + "-" + i
                                        + "\r\n\r\nsurvives kill -9\r\n");
                        assertThat(reply).startsWith("250");
                        Matcher id = QUEUED_AS.matcher(reply);
                        assertThat(id.find()).as(reply).isTrue();
                        ids.add(id.group(1));
                    }
                }
                return ids;
            }));
            List<String> ids = new ArrayList<>();
            for (Future<List<String>> result : results) {
                ids.addAll(result.get());
            }
            return ids;
        } finally {
            clients.shutdownNow();
        }
    }

    private String post(ForkedRelay relay, String subject) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(relay.uri("/api/v1/messages"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer dev-key-change-me")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"from\": \"app@example.com\", \"to\": [\"kill@example.org\"],"
                        + " \"subject\": \"" + subject + "\", \"text\": \"survives kill -9\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return JSON.readTree(response.body()).get("id").asText();
    }

    private HttpResponse<String> get(ForkedRelay relay, String id) throws Exception {
        return http.send(HttpRequest.newBuilder(relay.uri("/api/v1/messages/" + id))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer dev-key-change-me").GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
