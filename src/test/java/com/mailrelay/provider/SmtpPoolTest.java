package com.mailrelay.provider;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.mail.MailComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * The smtp template's pool parameters, at the seam where they act: camel-mail's smtp component
 * with the relay's pooled sender, an endpoint URI carrying the mail.relay.pool.* options the
 * template writes, and an SMTP stub that counts connections, messages per connection and NOOPs.
 */
class SmtpPoolTest {

    private CamelContext camel;
    private ProducerTemplate producer;
    private Stub stub;

    @BeforeEach
    void start() throws Exception {
        stub = new Stub();
        camel = new DefaultCamelContext();
        camel.addComponent("smtp", new MailComponent(new PooledMailConfiguration()));
        camel.start();
        producer = camel.createProducerTemplate();
    }

    @AfterEach
    void stop() throws Exception {
        camel.stop();
        stub.close();
    }

    private String uri(int poolSize, int maxMessages, long idleTimeout, long noopAfter) {
        return "smtp://127.0.0.1:" + stub.port() + "?connectionTimeout=5000&mail.smtp.timeout=5000"
                + "&mail.smtp.quitwait=false"
                + "&mail.relay.pool.size=" + poolSize
                + "&mail.relay.pool.max-messages-per-connection=" + maxMessages
                + "&mail.relay.pool.idle-timeout-millis=" + idleTimeout
                + "&mail.relay.pool.noop-check-after-idle-millis=" + noopAfter;
    }

    private void send(String uri, int n) {
        byte[] mime = ("From: app@pool.test\r\nTo: rcpt@pool.test\r\nSubject: pool " + n
                + "\r\nMessage-ID: <pool-" + n + "@pool.test>\r\n\r\nBody " + n + "\r\n").getBytes(StandardCharsets.US_ASCII);
        ClaimedMessage message = new ClaimedMessage(UUID.randomUUID(), "pool", "transactional", "app@pool.test",
                List.of("rcpt@pool.test"), mime, 1, Instant.now(), null);
        Exception failure = producer.send(uri, exchange -> {
            exchange.setProperty(RelayHeaders.MESSAGE, message);
            exchange.getMessage().setBody(new SmtpEnvelope().toMimeMessage(exchange));
        }).getException();
        assertThat(failure).as("message %d sent", n).isNull();
    }

    @Test
    void aPoolOfOneWithTwoMessagesPerConnectionOpensANewConnectionAfterTwoMessages() {
        String uri = uri(1, 2, 30_000, 0);
        for (int i = 1; i <= 5; i++) {
            send(uri, i);
        }
        assertThat(stub.messages()).isEqualTo(5);
        assertThat(stub.messagesPerConnection()).containsExactly(2, 2, 1);
    }

    @Test
    void withoutALimitOneConnectionCarriesEveryMessage() {
        String uri = uri(1, 0, 30_000, 0);
        for (int i = 1; i <= 4; i++) {
            send(uri, i);
        }
        assertThat(stub.messagesPerConnection()).containsExactly(4);
        assertThat(stub.noops()).isZero();
    }

    @Test
    void aConnectionIdleLongerThanTheNoopThresholdIsCheckedBeforeReuse() {
        String uri = uri(1, 0, 30_000, 300);
        send(uri, 1);
        // Reused at once: within the threshold, no NOOP round trip.
        send(uri, 2);
        assertThat(stub.noops()).isZero();
        idle(Duration.ofMillis(600));
        send(uri, 3);
        assertThat(stub.noops()).as("NOOP before reusing the connection that idled").isEqualTo(1);
        assertThat(stub.messagesPerConnection()).as("the checked connection was reused").containsExactly(3);
    }

    @Test
    void aConnectionThatFailsItsNoopCheckIsReplacedWithoutFailingTheMessage() {
        stub.refuseNoop = true;
        String uri = uri(1, 0, 30_000, 300);
        send(uri, 1);
        idle(Duration.ofMillis(600));
        send(uri, 2);
        assertThat(stub.noops()).isEqualTo(1);
        assertThat(stub.messagesPerConnection()).containsExactly(1, 1);
    }

    @Test
    void aConnectionIdleLongerThanTheIdleTimeoutIsNotReused() {
        String uri = uri(1, 0, 300, 0);
        send(uri, 1);
        idle(Duration.ofMillis(700));
        send(uri, 2);
        assertThat(stub.messagesPerConnection()).containsExactly(1, 1);
    }

    @Test
    void aPoolSettingThatIsNotANumberIsRefusedWhenTheEndpointIsMade() {
        Throwable failed = catchThrowable(() -> {
            Exception e = producer.send("smtp://127.0.0.1:" + stub.port() + "?mail.relay.pool.size=many",
                    exchange -> exchange.getMessage().setBody("x")).getException();
            if (e != null) {
                throw e;
            }
        });
        assertThat(failed).isNotNull();
        assertThat(failed).hasStackTraceContaining("mail.relay.pool.size must be a whole number");
        assertThat(stub.connections()).isEmpty();
    }

    /** Lets a connection idle: a wait bounded in time, not a sleep loop. */
    private static void idle(Duration duration) {
        Instant until = Instant.now().plus(duration);
        await().pollDelay(duration).atMost(duration.plusSeconds(5)).until(() -> !Instant.now().isBefore(until));
    }

    /**
     * An SMTP server that counts what the pool does to it: each connection's messages, NOOP
     * commands (answered 250, or 421 when {@link #refuseNoop}).
     */
    private static final class Stub implements AutoCloseable {
        private final ServerSocket socket;
        private final List<int[]> connections = new CopyOnWriteArrayList<>();
        private final List<String> noops = new CopyOnWriteArrayList<>();
        volatile boolean refuseNoop;

        Stub() {
            try {
                socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket client = socket.accept();
                        int[] messages = new int[1];
                        connections.add(messages);
                        Thread session = new Thread(() -> converse(client, messages), "pool-stub-session");
                        session.setDaemon(true);
                        session.start();
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "pool-stub");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void converse(Socket client, int[] messages) {
            try (client) {
                BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(),
                        StandardCharsets.US_ASCII));
                OutputStream out = client.getOutputStream();
                reply(out, "220 pool.test ESMTP");
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    String command = line.toUpperCase(Locale.ROOT);
                    if (command.startsWith("EHLO")) {
                        reply(out, "250-pool.test\r\n250 8BITMIME");
                    } else if (command.startsWith("DATA")) {
                        reply(out, "354 go ahead");
                        for (String data = in.readLine(); data != null && !data.equals("."); data = in.readLine()) {
                            // the message
                        }
                        synchronized (messages) {
                            messages[0]++;
                        }
                        reply(out, "250 2.0.0 queued");
                    } else if (command.startsWith("NOOP")) {
                        noops.add(line);
                        if (refuseNoop) {
                            reply(out, "421 4.4.2 idle too long, closing");
                            return;
                        }
                        reply(out, "250 2.0.0 ok");
                    } else if (command.startsWith("QUIT")) {
                        reply(out, "221 bye");
                        return;
                    } else {
                        reply(out, "250 2.0.0 ok");
                    }
                }
            } catch (IOException e) {
                // the client hung up
            }
        }

        private static void reply(OutputStream out, String reply) throws IOException {
            out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        int port() {
            return socket.getLocalPort();
        }

        List<int[]> connections() {
            return List.copyOf(connections);
        }

        int messages() {
            return messagesPerConnection().stream().mapToInt(Integer::intValue).sum();
        }

        List<Integer> messagesPerConnection() {
            return connections.stream().map(m -> {
                synchronized (m) {
                    return m[0];
                }
            }).toList();
        }

        int noops() {
            return noops.size();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
