package com.mailrelay.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.SMTPServer;

/**
 * The upstream mail servers of the end-to-end tests, all on loopback, started once per JVM
 * before any application context so that their ports can be handed to the routes.
 * <ul>
 * <li>GreenMail servers, one per provider id in test-routes/providers.camel.yaml;</li>
 * <li>{@code secure}: GreenMail speaking SMTPS, with one user;</li>
 * <li>{@code refusing}: accepts TCP connections and hangs up at once, counting them;</li>
 * <li>{@code held webhook}: an HTTP receiver that takes requests and, while holding, never answers
 *     (workspace "stalled" posts to it);</li>
 * <li>{@code scripted}: a SubEthaSMTP server whose replies depend on the recipient:
 *     {@code reject*@} gets 550, {@code flaky*@} gets 451 twice and is then accepted,
 *     {@code busy*@} always gets 451; the reply to DATA for {@code hold*@} waits until
 *     {@link ScriptedServer#release()} (a send in flight for as long as a test needs; again after
 *     {@link ScriptedServer#hold()}); for {@code slow*@} it comes {@link ScriptedServer#SLOW_DATA}
 *     after the data (a slow upstream).</li>
 * <li>{@code history}: a {@link FaultUpstream} that refuses every recipient with a multi-line 451
 *     (the delivery history tests);</li>
 * <li>{@code dead letters}: a {@link FaultUpstream} of workspace w-dead alone (the console's dead-letter
 *     tests switch it between refusing and taking mail);</li>
 * <li>{@code stalled}: answers EHLO, MAIL, RCPT and DATA (354), then never reads again, so that the
 *     relay's writes block once the (small) TCP window is full.</li>
 * </ul>
 */
public final class Upstreams {

    public static final List<String> GREENMAIL_IDS = List.of("default", "acme-transactional", "acme-marketing",
            "globex-transactional", "globex-marketing", "fallback", "spare", "quota");

    public static final String SECURE_USER = "relay-user";
    public static final String SECURE_PASSWORD = "s3c+r&t%2B x";

    private static final Map<String, GreenMail> GREENMAILS = new LinkedHashMap<>();
    private static GreenMail secure;
    private static WireMockServer webhooks;
    private static WireMockServer providerApis;
    private static RefusingServer refusing;
    private static HeldReceiver held;
    private static ScriptedServer scripted;
    private static StalledServer stalled;
    private static FaultUpstream history;
    private static FaultUpstream deadLetters;

    private Upstreams() {
    }

    /** A loopback server on a free port; a loaded build machine may need longer than GreenMail's 2 s to start it. */
    private static ServerSetup setup(String protocol) {
        ServerSetup setup = new ServerSetup(0, "127.0.0.1", protocol);
        setup.setServerStartupTimeout(30_000);
        return setup;
    }

    public static synchronized Map<String, String> properties() {
        if (GREENMAILS.isEmpty()) {
            for (String id : GREENMAIL_IDS) {
                GreenMail server = new GreenMail(setup(ServerSetup.PROTOCOL_SMTP));
                server.start();
                GREENMAILS.put(id, server);
            }
            secure = new GreenMail(setup(ServerSetup.PROTOCOL_SMTPS))
                    .withConfiguration(GreenMailConfiguration.aConfig()
                            .withUser("relay@secure.test", SECURE_USER, SECURE_PASSWORD));
            secure.start();
            refusing = new RefusingServer();
            scripted = new ScriptedServer();
            stalled = new StalledServer();
            webhooks = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
            webhooks.start();
            providerApis = new WireMockServer(WireMockConfiguration.options().dynamicPort().bindAddress("127.0.0.1"));
            providerApis.start();
            held = new HeldReceiver();
            history = new FaultUpstream();
            history.refusal(HISTORY_REFUSAL);
            history.mode(FaultUpstream.Mode.REFUSE_RECIPIENTS);
            deadLetters = new FaultUpstream();
        }
        Map<String, String> properties = new LinkedHashMap<>();
        GREENMAILS.forEach((id, server) -> properties.put("test.upstream." + id + ".port",
                String.valueOf(server.getSmtp().getPort())));
        properties.put("test.upstream.secure.port", String.valueOf(secure.getSmtps().getPort()));
        properties.put("test.webhook.port", String.valueOf(webhooks.port()));
        properties.put("test.provider.port", String.valueOf(providerApis.port()));
        properties.put("test.webhook.held.port", String.valueOf(held.port()));
        properties.put("test.upstream.refusing.port", String.valueOf(refusing.port()));
        properties.put("test.upstream.scripted.port", String.valueOf(scripted.port()));
        properties.put("test.upstream.stalled.port", String.valueOf(stalled.port()));
        properties.put("test.upstream.history.port", String.valueOf(history.port()));
        properties.put("test.upstream.w-dead.port", String.valueOf(deadLetters.port()));
        return properties;
    }

    /** The copies an upstream received whose Message-ID contains {@code marker} (a relay id, a subject...). */
    public static List<MimeMessage> received(GreenMail upstream, String marker) {
        return Arrays.stream(upstream.getReceivedMessages()).filter(m -> {
            try {
                return m.getMessageID() != null && m.getMessageID().contains(marker);
            } catch (MessagingException e) {
                return false;
            }
        }).toList();
    }

    public static GreenMail greenMail(String id) {
        properties();
        return GREENMAILS.get(id);
    }

    /** SMTPS with AUTH required for relay-user and SECURE_PASSWORD. */
    public static GreenMail secure() {
        properties();
        return secure;
    }

    /** The webhook receiver (WireMock) that workspace "hooked" posts its events to. */
    public static WireMockServer webhooks() {
        properties();
        return webhooks;
    }

    /** The webhook receiver of workspace "stalled". */
    /**
     * The HTTP API providers' stub (Mailgun, SendGrid, Postmark, SES, Gmail and their token
     * endpoints), at http://127.0.0.1:${test.provider.port}. Shared by every test of the shared
     * context: each provider instance of test-routes/ has a base URL under a path prefix of its own
     * (e.g. /mailgun), and tests stub and read only under theirs — never reset it.
     */
    public static WireMockServer providerApis() {
        properties();
        return providerApis;
    }

    public static HeldReceiver held() {
        properties();
        return held;
    }

    public static RefusingServer refusing() {
        properties();
        return refusing;
    }

    /** What {@link #history()} answers every RCPT TO: a greylisting refusal over three lines. */
    public static final String HISTORY_REFUSAL = "451-4.7.1 Greylisted: this sender is new here\r\n"
            + "451-4.7.1 please try again in 5 minutes\r\n451 4.7.1 see https://mx.history.test/greylisting";

    /** The upstream of the delivery history tests (history/): refuses every recipient with {@link #HISTORY_REFUSAL}. */
    public static FaultUpstream history() {
        properties();
        return history;
    }

    /** The upstream of workspace w-dead (test-routes/w.camel.yaml); it takes mail until a test switches it. */
    public static FaultUpstream deadLetters() {
        properties();
        return deadLetters;
    }

    public static StalledServer stalled() {
        properties();
        return stalled;
    }

    public static ScriptedServer scripted() {
        properties();
        return scripted;
    }

    /** Accepts connections and closes them before the SMTP greeting: a server that is down. */
    public static final class RefusingServer {
        private final ServerSocket socket;
        private final AtomicInteger connections = new AtomicInteger();

        RefusingServer() {
            try {
                socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept()) {
                        connections.incrementAndGet();
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "refusing-upstream");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        public int port() {
            return socket.getLocalPort();
        }

        public int connections() {
            return connections.get();
        }
    }

    /**
     * An HTTP receiver (the JDK's server) that records each request's body and, while holding,
     * keeps the connection open without answering (at most 60 s); released, it answers 200.
     */
    public static final class HeldReceiver {
        private final com.sun.net.httpserver.HttpServer server;
        private final List<String> bodies = new CopyOnWriteArrayList<>();
        private volatile CountDownLatch release = new CountDownLatch(1);

        HeldReceiver() {
            try {
                server = com.sun.net.httpserver.HttpServer.create(
                        new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(runnable -> {
                Thread thread = new Thread(runnable, "held-webhook");
                thread.setDaemon(true);
                return thread;
            }));
            server.createContext("/", exchange -> {
                bodies.add(new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
        }

        public int port() {
            return server.getAddress().getPort();
        }

        /** From now on requests get no answer until {@link #release()}; forgets the requests seen. */
        public void hold() {
            bodies.clear();
            release = new CountDownLatch(1);
        }

        /** Answers the held requests (200), and every later one at once. */
        public void release() {
            release.countDown();
        }

        /** The bodies of the requests received, in order of arrival. */
        public List<String> bodies() {
            return List.copyOf(bodies);
        }
    }

    /**
     * Speaks SMTP up to the 354 reply to DATA and then stops reading, keeping the connection open:
     * an upstream that hangs in the middle of a message. Its receive buffer is small, so the
     * sender's writes block after a few hundred kilobytes.
     */
    public static final class StalledServer {
        private final ServerSocket socket;
        private final AtomicInteger stalls = new AtomicInteger();
        private final List<Socket> held = new CopyOnWriteArrayList<>();

        StalledServer() {
            try {
                socket = new ServerSocket();
                socket.setReceiveBufferSize(4096);
                socket.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket client = socket.accept();
                        Thread session = new Thread(() -> converse(client), "stalled-upstream-session");
                        session.setDaemon(true);
                        session.start();
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "stalled-upstream");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void converse(Socket client) {
            try {
                held.add(client);
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(client.getInputStream(),
                        java.nio.charset.StandardCharsets.US_ASCII));
                var out = client.getOutputStream();
                out.write("220 stalled.test ESMTP\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    String command = line.toUpperCase(java.util.Locale.ROOT);
                    String reply = command.startsWith("EHLO") || command.startsWith("HELO") ? "250 stalled.test"
                            : command.startsWith("DATA") ? "354 go ahead"
                            : command.startsWith("QUIT") ? "221 bye" : "250 ok";
                    out.write((reply + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    out.flush();
                    if (command.startsWith("DATA")) {
                        stalls.incrementAndGet();
                        return;     // never reads again; the socket stays open (held)
                    }
                    if (command.startsWith("QUIT")) {
                        client.close();
                        return;
                    }
                }
            } catch (IOException e) {
                // the relay hung up
            }
        }

        public int port() {
            return socket.getLocalPort();
        }

        /** DATA commands answered with 354 and then left unread. */
        public int stalls() {
            return stalls.get();
        }
    }

    /** A real SMTP server whose replies follow a per-recipient script. */
    public static final class ScriptedServer {
        /** How long the reply to DATA for slow*@ recipients takes. */
        public static final java.time.Duration SLOW_DATA = java.time.Duration.ofSeconds(8);

        private final SMTPServer server;
        private final Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
        private final Map<String, String> lastTriedOver = new ConcurrentHashMap<>();
        private final Map<String, Integer> messagesPerSession = new ConcurrentHashMap<>();
        private final List<Delivery> delivered = new CopyOnWriteArrayList<>();
        private final AtomicInteger holding = new AtomicInteger();
        private volatile CountDownLatch release = new CountDownLatch(1);

        /** @param connection the relay's end of the SMTP connection it came over (address and port) */
        public record Delivery(String from, List<String> recipients, byte[] data, String connection) {
        }

        ScriptedServer() {
            server = SMTPServer.port(0)
                    .bindAddress(InetAddress.getLoopbackAddress())
                    .messageHandlerFactory(context -> new MessageHandler() {
                        private String from;
                        private final List<String> recipients = new CopyOnWriteArrayList<>();

                        @Override
                        public void from(String address) throws RejectException {
                            from = address;
                            // once@...: a server that takes one message per connection and then
                            // answers 421 to MAIL FROM (as servers with a per-session limit do).
                            if (address.startsWith("once@")
                                    && messagesPerSession.merge(context.getSessionId(), 1, Integer::sum) > 1) {
                                throw new RejectException(421, "4.7.0 one message per connection");
                            }
                        }

                        @Override
                        public void recipient(String address) throws RejectException {
                            int attempt = tries.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
                            lastTriedOver.put(address, context.getRemoteAddress().toString());
                            if (address.startsWith("reject")) {
                                throw new RejectException(550, "5.1.1 <" + address + ">: mailbox does not exist");
                            }
                            if (address.startsWith("busy") || address.startsWith("flaky") && attempt <= 2) {
                                throw new RejectException(451, "4.3.0 try again later (" + attempt + ")");
                            }
                            recipients.add(address);
                        }

                        @Override
                        public String data(InputStream data) throws IOException {
                            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                            data.transferTo(bytes);
                            if (recipients.stream().anyMatch(r -> r.startsWith("slow"))) {
                                slowDown();
                            }
                            if (recipients.stream().anyMatch(r -> r.startsWith("hold"))) {
                                holdData();
                            }
                            delivered.add(new Delivery(from, List.copyOf(recipients), bytes.toByteArray(),
                                    context.getRemoteAddress().toString()));
                            return null;
                        }

                        @Override
                        public void done() {
                        }
                    })
                    .build();
            server.start();
        }

        public int port() {
            return server.getPortAllocated();
        }

        /** Waits SLOW_DATA (a latch no one counts down: a bounded wait, not a sleep loop). */
        private static void slowDown() {
            try {
                new CountDownLatch(1).await(SLOW_DATA.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void holdData() {
            holding.incrementAndGet();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                holding.decrementAndGet();
            }
        }

        /** Whether a DATA for a hold*@ recipient is waiting for its reply. */
        public boolean holding() {
            return holding.get() > 0;
        }

        /** Answers held DATA commands (250), and from then on every DATA for hold*@ at once. */
        public void release() {
            release.countDown();
        }

        /** From now on DATA for hold*@ is held again, until the next {@link #release()}. */
        public void hold() {
            release = new CountDownLatch(1);
        }

        /** RCPT TO commands seen for an address (each attempt counts). */
        public int tries(String address) {
            AtomicInteger count = tries.get(address);
            return count == null ? 0 : count.get();
        }

        /** The connection the last RCPT TO for an address came over. */
        public String lastTriedOver(String address) {
            return lastTriedOver.get(address);
        }

        public List<Delivery> deliveredTo(String address) {
            return delivered.stream().filter(d -> d.recipients().contains(address)).toList();
        }
    }
}
