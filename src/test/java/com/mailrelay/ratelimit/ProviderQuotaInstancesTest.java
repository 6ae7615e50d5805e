package com.mailrelay.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.mailrelay.message.Submission;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.Upstreams;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A provider quota holds across instances: two relay instances on one database (PostgreSQL in
 * the postgres run, a shared H2 otherwise) drain 200 messages through quota-fifty (50 a second,
 * test-routes/quotas.camel.yaml), and the upstream never receives more than 50 of them in any
 * second of the epoch.
 */
class ProviderQuotaInstancesTest {

    private static final int MESSAGES = 200;
    private static final int QUOTA = 50;

    @Test
    void aProviderQuotaHoldsAcrossInstances() throws Exception {
        String database = "quotas_" + Long.toHexString(System.nanoTime());
        List<String> ids = new ArrayList<>();
        // The queue filled through the real accept path of an instance whose workers are off.
        try (ConfigurableApplicationContext filler = start(database)) {
            AcceptPath acceptor = AcceptPath.of(filler);
            for (int i = 0; i < MESSAGES; i++) {
                ids.add(acceptor.accept(submission(i)).id());
            }
        }

        try (ConfigurableApplicationContext first = start(database);
             ConfigurableApplicationContext second = start(database)) {
            for (ConfigurableApplicationContext instance : List.of(first, second)) {
                instance.getBean(CamelContext.class).getRouteController().startRoute("queue-poll");
            }
            JdbcTemplate jdbc = first.getBean(JdbcTemplate.class);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where status = 'SENT'", Long.class) == MESSAGES);

            // Each message reached the upstream once; count the arrivals per epoch second.
            Set<String> wanted = new HashSet<>(ids);
            Map<Long, Integer> perSecond = new TreeMap<>();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(arrivals(wanted)).hasSize(MESSAGES));
            List<MimeMessage> arrived = arrivals(wanted);
            assertThat(arrived.stream().map(RelayInstances::relayId).distinct()).hasSize(MESSAGES);
            for (MimeMessage message : arrived) {
                perSecond.merge(received(message) / 1000, 1, Integer::sum);
            }
            Map<Long, Integer> perTenth = new TreeMap<>();
            arrived.forEach(message -> perTenth.merge(received(message) / 100, 1, Integer::sum));
            System.out.println("arrivals per second at the upstream: " + perSecond);
            System.out.println("arrivals per tenth of a second at the upstream: " + perTenth);
            assertThat(perSecond.values()).allMatch(count -> count <= QUOTA);
            // 200 at 50 a second take at least four seconds.
            assertThat(perSecond).hasSizeGreaterThanOrEqualTo(MESSAGES / QUOTA);

            // The quota took no attempts: each message was sent on its first, once.
            assertThat(jdbc.queryForObject("select count(*) from messages where attempts <> 1", Long.class)).isZero();
            assertThat(jdbc.queryForObject("select count(*) from events where type = 'send'", Long.class))
                    .isEqualTo(MESSAGES);
            // Both instances sent some.
            assertThat(jdbc.queryForList("select distinct lease_owner from messages", String.class)).hasSize(2);
        }
    }

    private static List<MimeMessage> arrivals(Set<String> wanted) {
        return java.util.Arrays.stream(Upstreams.greenMail("quota").getReceivedMessages())
                .filter(message -> wanted.contains(RelayInstances.relayId(message)))
                .toList();
    }

    private static long received(MimeMessage message) {
        try {
            return message.getReceivedDate().getTime();
        } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ConfigurableApplicationContext start(String database) {
        return RelayInstances.start(database, List.of("relay.worker.enabled=false"));
    }

    private static Submission submission(int n) {
        return RelayInstances.submission("via-quota", "app@quota.test", "fay@fifty.test", "fifty " + n);
    }
}
