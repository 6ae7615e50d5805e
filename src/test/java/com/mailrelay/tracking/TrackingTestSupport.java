package com.mailrelay.tracking;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Helpers of the tracking tests: reading personalised copies and following their links. */
abstract class TrackingTestSupport extends RelayTestSupport {

    /** The base URL the test configuration puts in links (relay.tracking.base-url). */
    static final String BASE = "https://relay.test";
    static final Pattern CLICK = Pattern.compile("https://relay\\.test/t/c/[A-Za-z0-9_.-]+");
    static final Pattern PIXEL = Pattern.compile("https://relay\\.test/t/o/[A-Za-z0-9_.-]+\\.gif");
    static final Pattern UNSUBSCRIBE = Pattern.compile("https://relay\\.test/u/[A-Za-z0-9_.-]+");

    /** Submits over REST; answers the response body (asserting the 202). */
    Map<String, Object> accept(String workspace, Map<String, Object> message) {
        HttpResponse<String> response = post(key(workspace), message, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return read(response.body());
    }

    /** The per-recipient rows of an accepted submission, by recipient. */
    @SuppressWarnings("unchecked")
    static Map<String, String> rowsByRecipient(Map<String, Object> accepted) {
        List<Map<String, String>> messages = (List<Map<String, String>>) accepted.get("messages");
        assertThat(messages).as("stored one row per recipient").isNotNull();
        return messages.stream().collect(java.util.stream.Collectors.toMap(m -> m.get("email"), m -> m.get("id")));
    }

    /** The copy the upstream received for this row (its Message-ID names the row). */
    static MimeMessage delivered(String upstream, String id) {
        GreenMail server = Upstreams.greenMail(upstream);
        await().atMost(Duration.ofSeconds(30)).until(() -> Upstreams.received(server, id).size() == 1);
        return Upstreams.received(server, id).get(0);
    }

    MimeMessage stored(String id) {
        try {
            return new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream((byte[]) row(id).get("raw_mime")));
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The content of the message's first part of this type ("text/html", "text/plain"). */
    static String part(Part message, String type) {
        try {
            if (message.isMimeType(type)) {
                return (String) message.getContent();
            }
            if (message.isMimeType("multipart/*")) {
                Multipart multipart = (Multipart) message.getContent();
                for (int i = 0; i < multipart.getCount(); i++) {
                    String found = part(multipart.getBodyPart(i), type);
                    if (found != null) {
                        return found;
                    }
                }
            }
            return null;
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String header(MimeMessage message, String name) {
        try {
            return message.getHeader(name, null);
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> all(Pattern pattern, String text) {
        Matcher matcher = pattern.matcher(text);
        List<String> found = new java.util.ArrayList<>();
        while (matcher.find()) {
            found.add(matcher.group());
        }
        return found;
    }

    /** A link of a delivered message, pointed at this test's relay instead of the configured base URL. */
    URI local(String link) {
        assertThat(link).startsWith(BASE);
        return URI.create("http://127.0.0.1:" + port + link.substring(BASE.length()));
    }

    /** GET without following redirects, as the given user agent. */
    HttpResponse<String> visit(String link, String userAgent) {
        return send(HttpRequest.newBuilder(local(link)).header("User-Agent", userAgent).GET().build());
    }

    HttpResponse<byte[]> fetchPixel(String link) {
        try {
            return HttpClientHolder.CLIENT.send(HttpRequest.newBuilder(local(link)).header("User-Agent", "PixelFetcher/2")
                    .GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> postForm(String link, String contentType, String body) {
        return send(HttpRequest.newBuilder(local(link)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** Event rows of one type for a message: their detail JSON, oldest first. */
    List<Map<String, Object>> events(String id, String type) {
        return jdbc.queryForList("select detail from events where message_id = ? and type = ? order by id",
                String.class, UUID.fromString(id), type).stream().map(RelayTestSupport::read).toList();
    }

    /** How many repeats each event of one type for a message counted, oldest first. */
    List<Integer> repeats(String id, String type) {
        return jdbc.queryForList("select repeats from events where message_id = ? and type = ? order by id",
                Integer.class, UUID.fromString(id), type);
    }

    /** A token with one character changed (still URL-safe base64). */
    static String tamper(String link, int fromEnd) {
        int at = link.length() - fromEnd;
        char changed = link.charAt(at) == 'A' ? 'B' : 'A';
        return link.substring(0, at) + changed + link.substring(at + 1);
    }

    private static final class HttpClientHolder {
        static final java.net.http.HttpClient CLIENT = java.net.http.HttpClient.newHttpClient();
    }
}
