package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.ChainWaits;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.ProviderQuotaException;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Provider quotas (the most messages a provider takes per second, minute, hour and day), counted
 * in the database so that every instance on it counts the same sends, over windows aligned to the
 * epoch (as {@link RateLimits}), and shared between the workspaces that send through the provider
 * by weight. Every provider template calls {@link #take} before its circuit breaker: a send the
 * quota refuses is not tried and not counted against the breaker; the chain moves on to its next
 * provider, and when every provider of it is at quota the message is deferred to the earliest
 * window that opens, without using up an attempt ({@link ProviderQuotaException}).
 *
 * <p>A provider without quotas costs nothing here: no query. With quotas, each window costs two
 * guarded updates in the common case — the provider's total against the quota, then the
 * workspace's row against its share — both atomic in the database, so no instance can take past
 * either; a refusal gives back what the send had already taken, leaving every count as it was.
 *
 * <p><b>Sharing.</b> A workspace is <em>active</em> in a window when it took or was refused a send
 * of the provider in it or in the previous window (its row in the window is that record). Its
 * share of a window is {@code quota × weight / (sum of the weights of the active workspaces)},
 * weights from the template's {@code quotaWeights} ("acme=3,beta=1"; a workspace not named weighs
 * 1). A workspace alone has the whole quota; two with weights 3 and 1 that both have mail waiting
 * get three quarters and one quarter of each window. The previous window counts so that the
 * first workspace to reach a new window does not take all of it before the others, deferred to
 * the same opening, arrive; the price is that a workspace whose backlog ended keeps its share
 * reserved for up to two windows, and while several are active a share another leaves unused in
 * a window stays unused. Windows are checked from the longest to the shortest, so that the first
 * full one found is the one that opens last.
 *
 * <p><b>Sends late in a window.</b> A provider counts a message when it arrives, the relay when it
 * starts sending it: a send started near the end of a window may arrive in the next one. So a send
 * started closer to its window's end than the provider's recent send time
 * ({@link ProviderSendLatency}) counts against the next window too, and a provider never receives
 * more than its quota within one window as long as its sends take no longer than they recently
 * did. The price: while sends are slow compared to the window, those late in it use two.
 *
 * <p>The earliest opening across a chain: the failover load balancer tries each provider on a
 * copy of the exchange and rethrows the last failure, so each refusal keeps the earliest opening
 * seen so far in a holder that the deliver route puts on the exchange before dispatch (exchange
 * property {@link RelayHeaders#CHAIN_WAITS}, shared by reference with every copy), and the
 * exception it throws carries that earliest opening: when the last provider refuses, the message
 * is deferred to the first window that opens among all those tried.
 */
@Component("providerQuotas")
public class ProviderQuotas {

    private static final Logger log = LoggerFactory.getLogger(ProviderQuotas.class);

    /** The workspace_id of a provider's total row. */
    private static final String TOTAL = "";
    /** Sends without a workspace (none today: every delivery names one). */
    private static final String NO_WORKSPACE = "-";

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final MeterRegistry meters;
    private final ProviderSendLatency latencies;
    private final Map<String, Map<String, Integer>> parsedWeights = new ConcurrentHashMap<>();
    /** Per provider and window size, the last window whose first refusal was logged at INFO. */
    private final Map<String, Instant> logged = new ConcurrentHashMap<>();

    public ProviderQuotas(JdbcTemplate jdbc, Clock clock, MeterRegistry meters, ProviderSendLatency latencies) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.meters = meters;
        this.latencies = latencies;
    }

    /** The window sizes, longest first. */
    private enum Size {
        DAY(86_400), HOUR(3_600), MINUTE(60), SECOND(1);

        final int seconds;

        Size(int seconds) {
            this.seconds = seconds;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @param ahead the window after the one the send starts in, which it may reach the provider in */
    private record Window(Size size, int quota, Instant start, boolean ahead) {
        Instant end() {
            return start.plusSeconds(size.seconds);
        }

        Instant previous() {
            return start.minusSeconds(size.seconds);
        }
    }

    /**
     * Takes one send from each of the provider's quotas (0 = none) for the exchange's workspace,
     * or throws {@link ProviderQuotaException} leaving every count as it was.
     */
    public void take(Exchange exchange, String providerId, int perSecond, int perMinute, int perHour, int perDay,
                     String weights) {
        if (perSecond <= 0 && perMinute <= 0 && perHour <= 0 && perDay <= 0) {
            return;
        }
        String workspace = exchange.getMessage().getHeader(RelayHeaders.WORKSPACE, NO_WORKSPACE, String.class);
        int weight = weights(providerId, weights).getOrDefault(workspace, 1);
        Instant now = clock.instant();
        Duration latency = latencies.estimate(providerId);
        List<Window> windows = new ArrayList<>(4);
        int[] quotas = {perDay, perHour, perMinute, perSecond};
        for (Size size : Size.values()) {
            int quota = quotas[size.ordinal()];
            if (quota > 0) {
                Window window = new Window(size, quota, windowStart(now, size), false);
                windows.add(window);
                if (Duration.between(now, window.end()).compareTo(latency) < 0) {
                    windows.add(new Window(size, quota, window.end(), true));
                }
            }
        }
        List<Window> taken = new ArrayList<>(windows.size());
        for (Window window : windows) {
            String refusal = take(providerId, workspace, weight, window);
            if (refusal != null) {
                taken.forEach(done -> giveBack(providerId, workspace, done));
                throw refused(exchange, providerId, workspace, window, refusal, now);
            }
            taken.add(window);
        }
        exchange.setProperty(ProviderSendLatency.TAKEN_AT, System.nanoTime());
    }

    /** Takes one send of the window, or says why not. */
    private String take(String providerId, String workspace, int weight, Window window) {
        if (!takeTotal(providerId, window) && !(open(providerId, workspace, weight, window)
                && takeTotal(providerId, window))) {
            // Made active all the same (open): a workspace refused in a window is one that has mail waiting.
            return "provider " + providerId + " is at its quota of " + window.quota() + " messages per "
                    + window.size().label() + (window.ahead() ? " in the next " + window.size().label()
                    + ", which a send started now would reach" : "");
        }
        if (!takeShare(providerId, workspace, window) && !(open(providerId, workspace, weight, window)
                && takeShare(providerId, workspace, window))) {
            update(providerId, TOTAL, window, -1);
            return "workspace " + workspace + " has had its share (weight " + weight + ") of the quota of "
                    + window.quota() + " messages per " + window.size().label() + " of provider " + providerId
                    + ", which other workspaces with mail waiting share";
        }
        return null;
    }

    /** The workspace's row, guarded by its share: sends × (active weights) below quota × weight. */
    private boolean takeShare(String providerId, String workspace, Window window) {
        Timestamp start = Timestamp.from(window.start());
        return jdbc.update("""
                update provider_quota_windows set sends = sends + 1
                 where provider_id = ? and window_seconds = ? and window_start = ? and workspace_id = ?
                   and sends * (select sum(active.weight) from (
                           select max(weight) as weight from provider_quota_windows
                            where provider_id = ? and window_seconds = ? and window_start >= ? and workspace_id <> ''
                            group by workspace_id) active) < ? * weight""",
                providerId, window.size().seconds, start, workspace,
                providerId, window.size().seconds, Timestamp.from(window.previous()), window.quota()) == 1;
    }

    /** The provider's total row, guarded by the quota. */
    private boolean takeTotal(String providerId, Window window) {
        return jdbc.update("""
                update provider_quota_windows set sends = sends + 1
                 where provider_id = ? and window_seconds = ? and window_start = ? and workspace_id = ''
                   and sends < ?""",
                providerId, window.size().seconds, Timestamp.from(window.start()), window.quota()) == 1;
    }

    /**
     * Makes the window's rows of the provider and the workspace if they are missing (which is how
     * a workspace becomes active in it); true if it made one, so that the refused update is worth
     * trying again. A new window of the provider clears its rows older than the previous window.
     */
    private boolean open(String providerId, String workspace, int weight, Window window) {
        Timestamp start = Timestamp.from(window.start());
        int made = insert(providerId, window, start, workspace, weight);
        int total = insert(providerId, window, start, TOTAL, 0);
        if (total == 1) {
            jdbc.update("delete from provider_quota_windows where provider_id = ? and window_seconds = ? and window_start < ?",
                    providerId, window.size().seconds, Timestamp.from(window.previous()));
        }
        return made + total > 0;
    }

    private int insert(String providerId, Window window, Timestamp start, String workspace, int weight) {
        return jdbc.update("""
                insert into provider_quota_windows (provider_id, window_seconds, window_start, workspace_id, weight, sends)
                values (?, ?, ?, ?, ?, 0)
                on conflict do nothing""", providerId, window.size().seconds, start, workspace, weight);
    }

    private void giveBack(String providerId, String workspace, Window window) {
        update(providerId, workspace, window, -1);
        update(providerId, TOTAL, window, -1);
    }

    private void update(String providerId, String workspace, Window window, int change) {
        jdbc.update("""
                update provider_quota_windows set sends = sends + ?
                 where provider_id = ? and window_seconds = ? and window_start = ? and workspace_id = ?""",
                change, providerId, window.size().seconds, Timestamp.from(window.start()), workspace);
    }

    /**
     * The refusal, carrying the earliest opening of all the quota refusals of this delivery attempt
     * (this one included), so that whichever provider of the chain refuses last defers the message
     * to the first window that opens.
     */
    private ProviderQuotaException refused(Exchange exchange, String providerId, String workspace, Window window,
                                           String why, Instant now) {
        Instant opens = window.end();
        ChainWaits waits = exchange.getProperty(RelayHeaders.CHAIN_WAITS, ChainWaits.class);
        Instant earlier = waits == null ? null : waits.earliest();
        if (earlier != null && earlier.isBefore(opens)) {
            opens = earlier;
        }
        Duration opensIn = Duration.between(now, opens);
        if (opensIn.isNegative()) {
            opensIn = Duration.ZERO;
        }
        String reply = why + "; its next window opens in " + seconds(Duration.between(now, window.end())) + " s";
        meters.counter("relay.provider.quota.refusals", "provider", providerId, "window", window.size().label())
                .increment();
        // One line a provider and window at INFO (a blast is refused many times a window), the rest at DEBUG.
        String key = providerId + "/" + window.size().label();
        if (!window.start().equals(logged.put(key, window.start()))) {
            log.info("quota refused a send of message {} (workspace {}): {}",
                    exchange.getMessage().getHeader(RelayHeaders.MESSAGE_ID), workspace, reply);
        } else {
            log.debug("quota refused a send of message {} (workspace {}): {}",
                    exchange.getMessage().getHeader(RelayHeaders.MESSAGE_ID), workspace, reply);
        }
        ProviderQuotaException refusal = new ProviderQuotaException(providerId, reply, opensIn);
        if (waits != null) {
            waits.add(refusal, now);
        }
        return refusal;
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.3f", duration.toMillis() / 1000.0);
    }

    /** "acme=3,beta=1", parsed once per provider and text; an invalid one is the provider's set-up fault. */
    private Map<String, Integer> weights(String providerId, String text) {
        String spec = text == null ? "" : text.trim();
        Map<String, Integer> cached = parsedWeights.get(providerId + "\n" + spec);
        if (cached != null) {
            return cached;
        }
        Map<String, Integer> weights = new HashMap<>();
        for (String entry : spec.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int equals = entry.indexOf('=');
            Integer weight = null;
            if (equals > 0) {
                try {
                    weight = Integer.valueOf(entry.substring(equals + 1).trim());
                } catch (NumberFormatException e) {
                    weight = null;
                }
            }
            if (weight == null || weight < 1 || weight > 1_000) {
                throw new ProviderConfigurationException(providerId, 0, "quotaWeights of provider " + providerId
                        + ": \"" + entry.trim() + "\" is not workspace=weight with a weight from 1 to 1000", null);
            }
            weights.put(entry.substring(0, equals).trim(), weight);
        }
        parsedWeights.put(providerId + "\n" + spec, Map.copyOf(weights));
        return weights;
    }

    /**
     * What the provider has used of its quotas in the windows open now, across every instance
     * (the providers API): for each quota given (0 = none, left out), its window ("second",
     * "minute", "hour", "day"), the quota, the sends counted and when the window ends.
     */
    public List<Map<String, Object>> usage(String providerId, int perSecond, int perMinute, int perHour, int perDay) {
        Instant now = clock.instant();
        List<Map<String, Object>> usage = new ArrayList<>();
        Map<Size, Integer> quotas = Map.of(Size.DAY, perDay, Size.HOUR, perHour, Size.MINUTE, perMinute,
                Size.SECOND, perSecond);
        for (Size size : Size.values()) {
            int quota = quotas.get(size);
            if (quota <= 0) {
                continue;
            }
            Instant start = windowStart(now, size);
            List<Integer> sends = jdbc.queryForList("""
                    select sends from provider_quota_windows
                     where provider_id = ? and window_seconds = ? and window_start = ? and workspace_id = ''""",
                    Integer.class, providerId, size.seconds, Timestamp.from(start));
            Map<String, Object> window = new LinkedHashMap<>();
            window.put("window", size.label());
            window.put("quota", quota);
            window.put("used", sends.isEmpty() ? 0 : sends.get(0));
            window.put("window_ends_at", start.plusSeconds(size.seconds).toString());
            usage.add(window);
        }
        return usage;
    }

    /** Windows are aligned to the epoch, so every instance agrees on where one begins. */
    private static Instant windowStart(Instant now, Size size) {
        long millis = size.seconds * 1000L;
        return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), millis) * millis);
    }
}
