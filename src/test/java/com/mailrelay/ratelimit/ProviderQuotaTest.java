package com.mailrelay.ratelimit;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.Submission;
import com.mailrelay.provider.ProviderQuotaException;
import com.mailrelay.support.AcceptPath;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Provider quotas end to end on the shared relay (test-routes/quotas.camel.yaml, every provider
 * the GreenMail "quota"): a provider at quota is skipped by its chain; a chain whose providers
 * are all at quota defers the message once, to the earliest window that opens, without using an
 * attempt; two workspaces sharing a provider at quota get it by their weights.
 */
class ProviderQuotaTest extends RelayTestSupport {

    @Autowired
    private ProviderQuotas quotas;

    @Autowired
    private CamelContext camel;

    @Autowired
    private ProviderSendLatency latencies;

    @Autowired
    private MeterRegistry meters;

    @Test
    void atQuotaTheChainMovesToItsSecondProvider() {
        double refusedBefore = refusals("quota-small", "day");
        // quota-small takes one message a day: the first, which uses it up.
        String first = submit("via-quota", message("app@quota.test", "ann@failover.test", "quota failover 1"));
        awaitStatus(first, "SENT");
        assertThat(row(first)).containsEntry("provider_id", "quota-small");

        String second = submit("via-quota", message("app@quota.test", "ann@failover.test", "quota failover 2"));
        awaitStatus(second, "SENT");
        Map<String, Object> sent = row(second);
        assertThat(sent).containsEntry("provider_id", "quota-spare");
        // Skipped, not failed: no deferral, and the one attempt is the one that went through quota-spare.
        assertThat(((Number) sent.get("attempts")).intValue()).isEqualTo(1);
        assertThat(eventTypes(second)).doesNotContain("deferral").containsOnlyOnce("send");
        assertThat(refusals("quota-small", "day")).isEqualTo(refusedBefore + 1);
        // Each reached the upstream once.
        for (String id : List.of(first, second)) {
            assertThat(Upstreams.received(Upstreams.greenMail("quota"), id)).hasSize(1);
        }
    }

    @Test
    void whenEveryProviderIsAtQuotaTheMessageWaitsOnceForTheEarliestWindow() throws Exception {
        // quota-daily (the chain's last provider) is used up for the day...
        take("quota-daily", 0, 1);
        assertThatThrownBy(() -> take("quota-daily", 0, 1)).isInstanceOf(ProviderQuotaException.class);
        // ...and quota-second (its first, one a second) for the second that has just begun, so that
        // the message below finds both at quota. Its deferral must be to quota-second's next
        // second, not to quota-daily's next day, although quota-daily refused last.
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(5))
                .until(() -> Instant.now().get(java.time.temporal.ChronoField.MILLI_OF_SECOND) < 100);
        Instant window = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        // Its count for this second set in the table: a send taken through the bean would count
        // against the next second too (quota-second's send time is not measured yet).
        jdbc.update("""
                insert into provider_quota_windows (provider_id, window_seconds, window_start, workspace_id, weight, sends)
                values ('quota-second', 1, ?, '', 0, 1)""", java.sql.Timestamp.from(window));

        String id = submit("via-quota", message("app@quota.test", "cy@full.test", "quota full"));
        awaitStatus(id, "SENT");

        assertThat(eventTypes(id)).as("one deferral, then the send").containsSubsequence("deferral", "send")
                .containsOnlyOnce("deferral").containsOnlyOnce("send");
        Map<String, Object> sent = row(id);
        assertThat(sent).containsEntry("provider_id", "quota-second");
        // The deferred attempt was not counted: the send was the first.
        assertThat(((Number) sent.get("attempts")).intValue()).isEqualTo(1);
        List<MimeMessage> copies = Upstreams.received(Upstreams.greenMail("quota"), id);
        assertThat(copies).hasSize(1);
        Instant arrived = copies.get(0).getReceivedDate().toInstant();
        assertThat(arrived).as("sent in quota-second's next window")
                .isAfterOrEqualTo(window.plusSeconds(1)).isBefore(window.plusSeconds(3));
        Instant deferred = jdbc.queryForObject("select created_at from events where message_id = ? and type = 'deferral'",
                java.sql.Timestamp.class, UUID.fromString(id)).toInstant();
        assertThat(deferred).as("deferred in the window both were full").isBefore(window.plusSeconds(1));
    }

    @Test
    void twoWorkspacesShareAProviderAtQuotaByWeight() throws Exception {
        // quota-shared takes 8 a second, weighted via-quota-a=3, via-quota-b=1: while both have
        // mail waiting, 6 and 2 of each second.
        int each = 36;
        // Both backlogs are queued at once (eight submitters on the real accept path, the two
        // workspaces interleaved), much faster than the provider's 8 a second.
        List<Submission> submissions = new ArrayList<>();
        for (int i = 0; i < each; i++) {
            submissions.add(RelayInstances.submission("via-quota-a", "app@a.test", "ann@customer.test", "shared a " + i));
            submissions.add(RelayInstances.submission("via-quota-b", "app@b.test", "bob@customer.test", "shared b " + i));
        }
        AcceptPath accept = AcceptPath.of(camel);
        ExecutorService submitters = Executors.newFixedThreadPool(8);
        List<String> ids;
        try {
            List<Future<Accepted>> accepted = submitters.invokeAll(submissions.stream()
                    .<Callable<Accepted>>map(submission -> () -> accept.accept(submission)).toList());
            ids = new ArrayList<>();
            for (Future<Accepted> one : accepted) {
                ids.add(one.get(30, TimeUnit.SECONDS).id().toString());
            }
        } finally {
            submitters.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                jdbc.queryForObject("select count(*) from messages where workspace_id in ('via-quota-a', 'via-quota-b')"
                        + " and status = 'SENT'", Long.class) == 2L * each);

        // Arrivals at the upstream per (epoch) second and workspace.
        Map<Long, int[]> perSecond = new TreeMap<>();
        long sentAgain = 0;
        for (String id : ids) {
            List<MimeMessage> copies = Upstreams.received(Upstreams.greenMail("quota"), id);
            // At least once: an outcome whose commit is lost (a deadlock rolls back a group commit
            // under heavy load) is sent again when its lease runs out; the books say SENT once (below).
            assertThat(copies).as(id).isNotEmpty();
            sentAgain += copies.size() > 1 ? 1 : 0;
            int workspace = subject(copies.get(0)).startsWith("shared a") ? 0 : 1;
            perSecond.computeIfAbsent(copies.get(0).getReceivedDate().getTime() / 1000, s -> new int[2])[workspace]++;
        }
        perSecond.forEach((second, counts) -> System.out.printf("second %d: a %d, b %d%n", second, counts[0], counts[1]));
        perSecond.values().forEach(counts -> assertThat(counts[0] + counts[1]).isLessThanOrEqualTo(8));

        // While both had mail waiting: the seconds in which both sent, but the first and the last
        // of them (a window may be partly before both were active, or after one ran out).
        List<int[]> both = perSecond.values().stream().filter(counts -> counts[0] > 0 && counts[1] > 0).toList();
        assertThat(both).hasSizeGreaterThanOrEqualTo(3);
        Collection<int[]> full = both.subList(1, both.size() - 1);
        int a = full.stream().mapToInt(counts -> counts[0]).sum();
        int b = full.stream().mapToInt(counts -> counts[1]).sum();
        System.out.printf("while both had backlog: a %d, b %d (ratio %.2f)%n", a, b, (double) a / b);
        assertThat((double) a / b).isBetween(3 * 0.85, 3 * 1.15);

        // Every message SENT, with one send event, on its first counted attempt: no deferral used one.
        assertThat(jdbc.queryForObject("select count(*) from events e join messages m on m.id = e.message_id"
                + " where m.workspace_id in ('via-quota-a', 'via-quota-b') and e.type = 'send'", Long.class))
                .isEqualTo(2L * each);
        // Deferrals used no attempt: a message is past its first attempt only if it was sent again.
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id in ('via-quota-a', 'via-quota-b')"
                + " and attempts <> 1", Long.class)).isEqualTo(sentAgain);
    }

    @Test
    void theSendTimeOfAProviderWithQuotasIsMeasured() {
        String id = submit("via-quota", message("app@quota.test", "eve@fifty.test", "quota timed"));
        awaitStatus(id, "SENT");
        assertThat(latencies.estimate("quota-fifty")).isNotEqualTo(ProviderSendLatency.UNMEASURED)
                .isPositive().isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void concurrentSendsNeverTakeMoreThanTheQuota() throws Exception {
        String provider = "race-" + Long.toHexString(System.nanoTime());
        ExecutorService senders = Executors.newFixedThreadPool(8);
        List<Callable<Boolean>> sends = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            sends.add(() -> {
                try {
                    quotas.take(exchange("via-quota"), provider, 0, 0, 0, 50, "");
                    return true;
                } catch (ProviderQuotaException refused) {
                    return false;
                }
            });
        }
        int taken = 0;
        try {
            for (Future<Boolean> send : senders.invokeAll(sends)) {
                taken += send.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
        } finally {
            senders.shutdownNow();
        }
        assertThat(taken).isEqualTo(50);
        assertThat(jdbc.queryForObject("select sends from provider_quota_windows where provider_id = ? and workspace_id = ''",
                Integer.class, provider)).isEqualTo(50);
    }

    @Test
    void activeWorkspacesShareByWeightAndOneAloneHasTheWholeQuota() {
        String shared = "shares-" + Long.toHexString(System.nanoTime());
        String weights = "via-quota-a=3, via-quota-b=1";
        // Both active (each has taken one), then each takes until refused: 30 and 10 of 40.
        int a = takeAll(shared, "via-quota-a", weights, 1);
        int b = takeAll(shared, "via-quota-b", weights, 1);
        a += takeAll(shared, "via-quota-a", weights, 100);
        assertThat(a).isEqualTo(30);
        assertThatThrownBy(() -> quotas.take(exchange("via-quota-a"), shared, 0, 0, 0, 40, weights))
                .isInstanceOf(ProviderQuotaException.class)
                .hasMessageContaining("workspace via-quota-a has had its share (weight 3) of the quota of 40 messages"
                        + " per day of provider " + shared);
        b += takeAll(shared, "via-quota-b", weights, 100);
        assertThat(b).isEqualTo(10);
        assertThatThrownBy(() -> quotas.take(exchange("via-quota-b"), shared, 0, 0, 0, 40, weights))
                .isInstanceOf(ProviderQuotaException.class)
                .hasMessageContaining("provider " + shared + " is at its quota of 40 messages per day");
        // A refusal leaves the counts as they were.
        assertThat(jdbc.queryForList("select sends from provider_quota_windows where provider_id = ? order by workspace_id",
                Integer.class, shared)).containsExactly(40, 30, 10);

        String alone = "alone-" + Long.toHexString(System.nanoTime());
        assertThat(takeAll(alone, "via-quota-b", weights, 100)).isEqualTo(40);
    }

    @Test
    void theRefusalCarriesTheEarliestOpeningOfTheAttempt() {
        Exchange exchange = exchange("via-quota");
        exchange.setProperty(RelayHeaders.CHAIN_WAITS, new com.mailrelay.provider.ChainWaits());
        String daily = "daily-" + Long.toHexString(System.nanoTime());
        String perSecond = "second-" + Long.toHexString(System.nanoTime());
        quotas.take(exchange, daily, 0, 0, 0, 1, "");
        quotas.take(exchange, perSecond, 1, 0, 0, 0, "");
        ProviderQuotaException first = refusal(exchange, daily, 0, 1);
        assertThat(first.retryAfter()).isGreaterThan(Duration.ofSeconds(1));
        // A provider whose window opens sooner, then one whose window opens later again: the later
        // refusal carries the earlier opening.
        ProviderQuotaException second = refusal(exchange, perSecond, 1, 0);
        ProviderQuotaException third = refusal(exchange, daily, 0, 1);
        assertThat(second.retryAfter()).isLessThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(third.retryAfter()).isLessThanOrEqualTo(second.retryAfter());
        assertThat(third.getMessage()).contains("provider " + daily + " is at its quota of 1 messages per day");
        assertThat(third.countsAsAttempt()).isFalse();
    }

    private ProviderQuotaException refusal(Exchange exchange, String provider, int perSecond, int perDay) {
        try {
            quotas.take(exchange, provider, perSecond, 0, 0, perDay, "");
        } catch (ProviderQuotaException refused) {
            return refused;
        }
        throw new AssertionError(provider + " took a send past its quota");
    }

    /** Takes sends of a 40-a-day quota for the workspace until refused (at most {@code most}). */
    private int takeAll(String provider, String workspace, String weights, int most) {
        for (int taken = 0; taken < most; taken++) {
            try {
                quotas.take(exchange(workspace), provider, 0, 0, 0, 40, weights);
            } catch (ProviderQuotaException refused) {
                return taken;
            }
        }
        return most;
    }

    private Exchange exchange(String workspace) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, workspace);
        return exchange;
    }

    @Test
    @SuppressWarnings("unchecked")
    void theProvidersApiShowsWhatEachQuotaHasUsedInItsOpenWindow() {
        // A provider id of this test alone, with a day quota of 5: two sends counted today.
        String provider = "usage-" + UUID.randomUUID().toString().substring(0, 8);
        quotas.take(exchange("via-quota"), provider, 0, 0, 0, 5, "");
        quotas.take(exchange("via-quota"), provider, 0, 0, 0, 5, "");
        assertThat(quotas.usage(provider, 0, 0, 0, 5)).singleElement().satisfies(window -> {
            assertThat(window).containsEntry("window", "day").containsEntry("quota", 5).containsEntry("used", 2);
            assertThat(Instant.parse((String) window.get("window_ends_at")))
                    .isEqualTo(Instant.now().truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS));
        });
        // A provider without quotas shows none; a running instance shows its own in the API.
        assertThat(quotas.usage(provider, 0, 0, 0, 0)).isEmpty();
        var answer = get("admin-key", "/api/v1/providers/quota-fifty");
        assertThat(answer.statusCode()).isEqualTo(200);
        List<Map<String, Object>> shown = (List<Map<String, Object>>) read(answer.body()).get("quotas");
        assertThat(shown).singleElement().satisfies(window -> {
            assertThat(window).containsEntry("window", "second").containsEntry("quota", 50);
            assertThat((Integer) window.get("used")).isBetween(0, 50);
        });
    }

    private void take(String provider, int perSecond, int perDay) {
        quotas.take(exchange("via-quota"), provider, perSecond, 0, 0, perDay, "");
    }

    private double refusals(String provider, String window) {
        var counter = meters.find("relay.provider.quota.refusals").tags("provider", provider, "window", window).counter();
        return counter == null ? 0 : counter.count();
    }

    private static String subject(MimeMessage message) {
        try {
            return message.getSubject();
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }
}
