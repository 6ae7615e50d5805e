package com.mailrelay.ratelimit;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Per-workspace and per-user limits refuse what is over them, and count only what was stored. */
class RateLimitTest extends RelayTestSupport {

    @Test
    void restSubmissionsOverTheUserOrWorkspaceLimitGet429() {
        // "limited": 3 messages a day for the workspace, 2 for each user_id.
        assertThat(post("u1").statusCode()).isEqualTo(202);
        assertThat(post("u1").statusCode()).isEqualTo(202);

        HttpResponse<String> userOver = post("u1");
        assertThat(userOver.statusCode()).isEqualTo(429);
        assertThat(read(userOver.body())).containsEntry("error", "rate_limited");
        assertThat((String) read(userOver.body()).get("message")).contains("user u1 may be sent 2 messages per 24h");
        long retryAfter = Long.parseLong(userOver.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 24 * 3600L);

        // Another user still has room, until the workspace's own limit is reached.
        assertThat(post("u2").statusCode()).isEqualTo(202);
        HttpResponse<String> workspaceOver = post("u3");
        assertThat(workspaceOver.statusCode()).isEqualTo(429);
        assertThat((String) read(workspaceOver.body()).get("message"))
                .contains("workspace limited may send 3 messages per 24h");

        // Refusals are neither stored nor counted.
        assertThat(countMessages("limited")).isEqualTo(3);
        assertThat(jdbc.queryForObject("select messages from rate_windows where scope = 'workspace:limited'",
                Integer.class)).isEqualTo(3);
        assertThat(jdbc.queryForObject("select messages from rate_windows where scope = 'user:limited:u1'",
                Integer.class)).isEqualTo(2);
    }

    @Test
    void smtpSubmissionOverTheLimitGets451WithEnhancedCode() {
        // "throttled": one message a day.
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port())) {
            assertThat(smtp.login("throttled", "limited-password")).startsWith("235");
            assertThat(send(smtp, "first")).startsWith("250 2.0.0");
            String refused = send(smtp, "second");
            assertThat(refused).startsWith("451 4.7.1").contains("workspace throttled may send 1 messages per 24h");
            // The session goes on; the client may try again later.
            assertThat(smtp.send("NOOP")).startsWith("250");
        }
        assertThat(countMessages("throttled")).isEqualTo(1);
    }

    private HttpResponse<String> post(String user) {
        Map<String, Object> body = new HashMap<>(message("app@limited.test", "reader@customer.test", "limited"));
        body.put("user_id", user);
        return post(key("limited"), body, Map.of());
    }

    private static String send(SmtpConversation smtp, String subject) {
        return smtp.submit("app@throttled.test", "reader@customer.test", "Subject: " + subject + "\r\n\r\nbody\r\n");
    }
}
