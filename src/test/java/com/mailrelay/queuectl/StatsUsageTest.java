package com.mailrelay.queuectl;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stats and usage agree with the rows in the database after a mixed run in workspace ops-stats
 * (the scripted upstream: a send, a send after two deferrals, a hard bounce, a message that is
 * deferred until its retries run out, an open and a click); a workspace key reads only its own;
 * bad parameters are 400s naming them.
 */
class StatsUsageTest extends RelayTestSupport {

    private static final String WORKSPACE = "ops-stats";
    private static final Pattern CLICK = Pattern.compile("https://relay\\.test/t/c/[A-Za-z0-9_.-]+");
    private static final Pattern PIXEL = Pattern.compile("https://relay\\.test/t/o/[A-Za-z0-9_.-]+\\.gif");

    @Test
    void statsAndUsageAgreeWithTheRowsAfterAMixedRun() throws Exception {
        Instant start = Instant.now().minus(1, ChronoUnit.SECONDS);
        long n = System.nanoTime();
        String reader = "ok-" + n + "@customer.test";
        String opened = submit(WORKSPACE, Map.of("from", "news@stats.test", "to", List.of(reader), "subject",
                "Offer " + n, "type", "marketing", "user_id", "u-1",
                "html", "<html><body><p><a href=\"https://shop.test/offer\">offer</a></p></body></html>"));
        String flaky = submit(WORKSPACE, Map.of("from", "ops@stats.test", "to", List.of("flaky-" + n + "@customer.test"),
                "subject", "Flaky " + n, "text", "retried", "user_id", "u-1"));
        String rejected = submit(WORKSPACE, Map.of("from", "ops@stats.test", "to",
                List.of("reject-" + n + "@customer.test"), "subject", "Rejected " + n, "text", "refused", "user_id", "u-2"));
        String busy = submit(WORKSPACE, Map.of("from", "ops@stats.test", "to", List.of("busy-" + n + "@customer.test"),
                "subject", "Busy " + n, "text", "deferred until it fails"));
        awaitStatus(opened, "SENT");
        awaitStatus(flaky, "SENT");
        awaitStatus(rejected, "FAILED");
        awaitStatus(busy, "FAILED");

        // The reader opens and clicks.
        String html = html(Upstreams.scripted().deliveredTo(reader).get(0).data());
        assertThat(visit(first(PIXEL, html)).statusCode()).isEqualTo(200);
        assertThat(visit(first(CLICK, html)).statusCode()).isEqualTo(302);
        await().atMost(Duration.ofSeconds(10)).until(() -> count("open") == 1 && count("click") == 1);
        Instant until = Instant.now().plus(1, ChronoUnit.SECONDS);

        String window = "since=" + start + "&until=" + until;
        HttpResponse<String> answer = get(key(WORKSPACE), "/api/v1/stats?" + window
                + "&group_by=email_type,provider,workspace");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Map<String, Object> stats = read(answer.body());
        assertThat(stats).containsEntry("workspace", WORKSPACE).containsEntry("bucket", "hour")
                .containsEntry("truncated", false);
        List<Map<String, Object>> series = series(stats);
        // The run as it was made: two sends (one after two deferrals), two bounces that failed their
        // message (550; retries used up), one open and one click.
        assertThat(sum(series, "sent")).isEqualTo(2);
        assertThat(sum(series, "failed")).isEqualTo(2);
        assertThat(sum(series, "bounced")).isEqualTo(2);
        assertThat(sum(series, "opened")).isEqualTo(1);
        assertThat(sum(series, "clicked")).isEqualTo(1);
        assertThat(sum(series, "deferred")).isGreaterThanOrEqualTo(3);
        // ...and as the rows have it, kind by kind and per email type and provider.
        for (String[] kind : new String[][] {{"sent", "'send'"}, {"deferred", "'deferral'"},
                {"bounced", "'soft_bounce', 'hard_bounce'"}, {"opened", "'open'"}, {"clicked", "'click'"},
                {"rejected", "'reject'"}}) {
            assertThat(sum(series, kind[0])).as(kind[0]).isEqualTo(jdbc.queryForObject("select count(*) from events"
                    + " where workspace_id = ? and created_at >= ? and created_at < ? and type in (" + kind[1] + ")",
                    Long.class, WORKSPACE, Timestamp.from(start), Timestamp.from(until)));
        }
        assertThat(series).allSatisfy(row -> assertThat(row).containsEntry("workspace", WORKSPACE)
                .containsEntry("provider", "scripted").containsKey("campaign"));
        List<Map<String, Object>> marketing = series.stream().filter(r -> "marketing".equals(r.get("email_type")))
                .toList();
        assertThat(sum(marketing, "sent")).isEqualTo(1);
        assertThat(sum(marketing, "opened")).isEqualTo(1);
        assertThat(sum(marketing, "clicked")).isEqualTo(1);
        // Day buckets sum to the same.
        List<Map<String, Object>> daily = series(read(get(key(WORKSPACE), "/api/v1/stats?" + window + "&bucket=day")
                .body()));
        for (String kind : List.of("sent", "deferred", "failed", "bounced", "opened", "clicked")) {
            assertThat(sum(daily, kind)).as(kind).isEqualTo(sum(series, kind));
        }
        // Messages accepted in the window, by status.
        @SuppressWarnings("unchecked")
        Map<String, Object> byStatus = (Map<String, Object>) stats.get("messages_by_status");
        for (String status : List.of("SENT", "FAILED", "QUEUED")) {
            assertThat(((Number) byStatus.get(status)).longValue()).as(status).isEqualTo(jdbc.queryForObject(
                    "select count(*) from messages where workspace_id = ? and status = ? and queued_at >= ?"
                            + " and queued_at < ?", Long.class, WORKSPACE, status, Timestamp.from(start),
                    Timestamp.from(until)));
        }
        assertThat(((Number) byStatus.get("SENT")).longValue()).isEqualTo(2);
        assertThat(((Number) byStatus.get("FAILED")).longValue()).isEqualTo(2);

        // Usage: the rate-limit windows as counted, against the workspace's limits.
        Map<String, Object> usage = read(get(key(WORKSPACE), "/api/v1/usage").body());
        @SuppressWarnings("unchecked")
        Map<String, Object> own = ((List<Map<String, Object>>) usage.get("workspaces")).get(0);
        assertThat(own).containsEntry("workspace", WORKSPACE).containsEntry("window_seconds", 3600)
                .containsEntry("limit_per_user", 100);
        Timestamp windowStart = Timestamp.from(Instant.parse((String) own.get("window_start")));
        @SuppressWarnings("unchecked")
        Map<String, Object> messages = (Map<String, Object>) own.get("messages");
        long counted = jdbc.queryForObject("select messages from rate_windows where scope = ? and window_start = ?",
                Long.class, "workspace:" + WORKSPACE, windowStart);
        assertThat(((Number) messages.get("used")).longValue()).isEqualTo(counted).isGreaterThanOrEqualTo(1);
        assertThat(messages).containsEntry("limit", 1000);
        assertThat(((Number) messages.get("remaining")).longValue()).isEqualTo(1000 - counted);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> users = (List<Map<String, Object>>) own.get("users");
        for (Map<String, Object> user : users) {
            @SuppressWarnings("unchecked")
            Map<String, Object> userCount = (Map<String, Object>) user.get("messages");
            assertThat(((Number) userCount.get("used")).longValue()).isEqualTo(jdbc.queryForObject(
                    "select messages from rate_windows where scope = ? and window_start = ?", Long.class,
                    "user:" + WORKSPACE + ":" + user.get("user_id"), windowStart));
            assertThat(userCount).containsEntry("limit", 100);
        }
        assertThat(users).extracting(u -> u.get("user_id")).contains("u-1");
        long sentToday = jdbc.queryForObject("select count(*) from events where workspace_id = ? and type = 'send'"
                + " and created_at >= ?", Long.class, WORKSPACE,
                Timestamp.from(Instant.now().truncatedTo(ChronoUnit.DAYS)));
        assertThat(((Number) own.get("sent_today")).longValue()).isEqualTo(sentToday);

        // The seed's shape, at its old path and under /api/v1.
        for (String path : List.of("/api/rate-limit", "/api/v1/rate-limit")) {
            Map<String, Object> seed = read(get(key(WORKSPACE), path).body());
            assertThat(seed).containsEntry("workspace_count", 1).containsKey("total_sent_today");
            @SuppressWarnings("unchecked")
            Map<String, Object> entry = (Map<String, Object>) ((Map<String, Object>) seed.get("workspaces"))
                    .get(WORKSPACE);
            assertThat(entry).containsEntry("limit", 1000).containsKey("users");
            assertThat(((Number) entry.get("sent")).longValue()).isEqualTo(sentToday);
            assertThat(((Number) entry.get("used")).longValue()).isEqualTo(counted);
        }
    }

    @Test
    void aWorkspaceKeyReadsOnlyItsOwnAndTheAdminKeyReadsEveryWorkspace() {
        for (String path : List.of("/api/v1/stats?workspace=acme", "/api/v1/usage?workspace=acme",
                "/api/rate-limit?workspace=acme", "/api/v1/rate-limit?workspace=acme")) {
            HttpResponse<String> foreign = get(key(WORKSPACE), path);
            assertThat(foreign.statusCode()).as(path).isEqualTo(403);
        }
        Map<String, Object> all = read(get("admin-key", "/api/v1/stats?group_by=workspace").body());
        assertThat(all.get("workspace")).isNull();
        Map<String, Object> seed = read(get("admin-key", "/api/rate-limit").body());
        @SuppressWarnings("unchecked")
        Map<String, Object> workspaces = (Map<String, Object>) seed.get("workspaces");
        assertThat(workspaces).containsKeys(WORKSPACE, "acme", "globex");
        assertThat(seed.get("workspace_count")).isEqualTo(workspaces.size());
        assertThat(get("admin-key", "/api/v1/stats?workspace=acme").statusCode()).isEqualTo(200);
    }

    @Test
    void badParametersAreNamed() {
        HttpResponse<String> bad = get(key(WORKSPACE), "/api/v1/stats?since=yesterday&bucket=week&group_by=colour");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"field\":\"since\"", "\"field\":\"bucket\"", "\"field\":\"group_by\"");
        // A window too wide for its buckets, or backwards.
        HttpResponse<String> wide = get(key(WORKSPACE), "/api/v1/stats?since=2026-01-01T00:00:00Z"
                + "&until=2026-03-01T00:00:00Z&bucket=day");
        assertThat(wide.statusCode()).isEqualTo(400);
        assertThat(wide.body()).contains("\"field\":\"since\"", "31 days");
        assertThat(get(key(WORKSPACE), "/api/v1/stats?since=2026-01-01T00:00:00Z&until=2026-01-09T00:00:00Z")
                .body()).contains("7 days");
        assertThat(get(key(WORKSPACE), "/api/v1/stats?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")
                .statusCode()).isEqualTo(400);
    }

    private long count(String type) {
        return jdbc.queryForObject("select count(*) from events where workspace_id = ? and type = ?", Long.class,
                WORKSPACE, type);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> series(Map<String, Object> stats) {
        return (List<Map<String, Object>>) stats.get("series");
    }

    private static long sum(List<Map<String, Object>> rows, String field) {
        return rows.stream().mapToLong(r -> ((Number) r.get(field)).longValue()).sum();
    }

    private HttpResponse<String> visit(String link) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + link.substring("https://relay.test"
                .length()))).header("User-Agent", "Reader/1.0").GET().build());
    }

    private static String first(Pattern pattern, String text) {
        Matcher matcher = pattern.matcher(text);
        assertThat(matcher.find()).as(pattern + " in " + text).isTrue();
        return matcher.group();
    }

    private static String html(byte[] data) throws MessagingException, IOException {
        String html = part(new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(data)));
        assertThat(html).isNotNull();
        return html;
    }

    private static String part(Part message) throws MessagingException, IOException {
        if (message.isMimeType("text/html")) {
            return (String) message.getContent();
        }
        if (message.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) message.getContent();
            List<String> found = new ArrayList<>();
            for (int i = 0; i < multipart.getCount(); i++) {
                String html = part(multipart.getBodyPart(i));
                if (html != null) {
                    found.add(html);
                }
            }
            return found.isEmpty() ? null : found.get(0);
        }
        return null;
    }
}
