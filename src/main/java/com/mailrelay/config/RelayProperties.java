package com.mailrelay.config;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.mailrelay.message.EmailType;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.Priority;
import com.mailrelay.message.SendTimes;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Typed view of the {@code relay.*} settings. Every default here is the embedded default;
 * application.yml documents each one for operators.
 */
@Validated
@ConfigurationProperties("relay")
public record RelayProperties(
        @DefaultValue("10MB") @NotNull DataSize maxMessageSize,
        @DefaultValue("database") @NotNull QueueMode queue,
        @DefaultValue @Valid QueueKafka queueKafka,
        @DefaultValue @Valid GroupCommit groupCommit,
        @DefaultValue @Valid Worker worker,
        @DefaultValue @Valid Retry retry,
        @DefaultValue @Valid Smtp smtp,
        @DefaultValue @Valid Routes routes,
        @DefaultValue @Valid Admin admin,
        @DefaultValue @Valid Webhooks webhooks,
        @DefaultValue @Valid Inbound inbound,
        @DefaultValue @Valid Tracking tracking,
        @DefaultValue @Valid Limits limits,
        @DefaultValue @Valid Shutdown shutdown,
        @DefaultValue Map<String, @Valid Workspace> workspaces,
        @DefaultValue @Valid Events events,
        @DefaultValue @Valid Providers providers,
        @DefaultValue @Valid Retention retention,
        @DefaultValue @Valid Metrics metrics,
        @DefaultValue @Valid Tenants tenants,
        @DefaultValue @Valid Scheduling scheduling,
        @DefaultValue @Valid QueuePriorities queuePriorities,
        // Limits of all workspaces together (counted once for the whole relay); their per is not read.
        @DefaultValue List<@Valid Limit> rateLimits,
        @DefaultValue @Valid Templates templates,
        @DefaultValue @Valid Llm llm,
        @DefaultValue @Valid Console console) {

    /**
     * The operator console at /console (README "The console"): sign-in with an admin or workspace
     * key makes a session in this instance's memory, held by an HttpOnly, SameSite=Strict cookie.
     *
     * @param enabled        serve /console and accept its session cookie
     * @param sessionIdle    a session unused this long ends
     * @param sessionMax     a session ends this long after its sign-in, used or not
     * @param maxSessions    sessions kept at once (the least recently used beyond it end)
     * @param signInAttempts failed sign-ins allowed per client address within signInWindow (then 429)
     * @param signInWindow   the window those failures are counted in
     */
    public record Console(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("30m") @NotNull @DurationMin(seconds = 10) Duration sessionIdle,
            @DefaultValue("12h") @NotNull @DurationMin(seconds = 10) Duration sessionMax,
            @DefaultValue("10000") @Min(1) int maxSessions,
            @DefaultValue("10") @Min(1) int signInAttempts,
            @DefaultValue("10m") @NotNull @DurationMin(seconds = 1) Duration signInWindow) {
    }

    /**
     * Scheduled sends (REST {@code send_at}, SMTP {@code X-Relay-Send-At} / {@code X-MC-SendAt}).
     *
     * @param horizon how far ahead a message may be scheduled; a send time further ahead is refused
     *                (400 / 550), and so is one further in the past (taken for a mistake, not for "now")
     */
    public record Scheduling(@DefaultValue("30d") @NotNull @DurationMin(seconds = 1) Duration horizon) {

        /** The send-time checks both ingresses apply with this horizon. */
        public SendTimes sendTimes(Clock clock) {
            return new SendTimes(horizon, clock);
        }
    }

    /**
     * The chat-completions endpoint that fills {@code <<NAME>>} placeholders for workspaces that
     * enable it (llm/; README "LLM personalisation"). Off unless both this and the workspace's
     * relay.workspaces.&lt;id&gt;.llm are enabled.
     *
     * @param enabled        whether any workspace may use it
     * @param baseUrl        the OpenAI-compatible API's address; requests go to {@code {baseUrl}/v1/chat/completions}
     * @param model          the model asked, unless the workspace names its own
     * @param apiKey         sent as {@code Authorization: Bearer}; from the environment, never logged or shown
     * @param timeout        longest the accept waits for the answers of one message (then the fallback text)
     * @param maxTokens      the answer's max_tokens
     * @param temperature    the request's temperature
     * @param maxAnswerLength most characters of an answer put into a message (the rest is cut)
     * @param concurrency    calls in flight at once, across messages
     * @param cacheSize      answers kept, per (prompt, model)
     * @param cacheTtl       how long an answer is reused
     * @param breaker        when the endpoint counts as down (calls then get the fallback at once)
     */
    public record Llm(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("https://api.openai.com") @NotBlank String baseUrl,
            @DefaultValue("gpt-4o-mini") @NotBlank String model,
            String apiKey,
            @DefaultValue("3s") @NotNull @DurationMin(millis = 100) Duration timeout,
            @DefaultValue("200") @Min(1) int maxTokens,
            @DefaultValue("0.7") double temperature,
            @DefaultValue("500") @Min(1) int maxAnswerLength,
            @DefaultValue("8") @Min(1) int concurrency,
            @DefaultValue("10000") @Min(0) int cacheSize,
            @DefaultValue("1h") @NotNull Duration cacheTtl,
            @DefaultValue @Valid LlmBreaker breaker) {

        /** Never the key itself: a record's default toString would print it wherever the settings are logged. */
        @Override
        public String toString() {
            return "Llm[enabled=" + enabled + ", baseUrl=" + baseUrl + ", model=" + model + ", apiKey="
                    + (apiKey == null || apiKey.isBlank() ? "unset" : "set") + ", timeout=" + timeout + "]";
        }
    }

    /**
     * The chat-completions endpoint's circuit breaker (resilience4j): open, every call gets its
     * fallback without waiting for the timeout.
     */
    public record LlmBreaker(
            @DefaultValue("50") @Min(1) int failureRateThreshold,
            @DefaultValue("10") @Min(1) int minimumNumberOfCalls,
            @DefaultValue("20") @Min(1) int slidingWindowSize,
            @DefaultValue("30s") @NotNull Duration waitInOpenState) {
    }

    /**
     * A workspace's LLM personalisation: each {@code <<NAME>>} of {@code placeholders} in a message's
     * subject, text and HTML is replaced by the model's answer to its prompt, the prompt's
     * {@code {{name}}} filled with the recipient's data (email, first_name, last_name, the request's
     * variables, metadata.&lt;key&gt;); on a timeout or an error, by its fallback text (empty if none).
     *
     * @param placeholders NAME → prompt template
     * @param fallbacks    NAME → text used when the model does not answer in time
     * @param model        the model asked for this workspace (null: relay.llm.model)
     */
    public record WorkspaceLlm(
            @DefaultValue("false") boolean enabled,
            @DefaultValue Map<String, String> placeholders,
            @DefaultValue Map<String, String> fallbacks,
            String model) {
    }

    /**
     * How due messages are ordered for the claim (store/ClaimRanks): each priority level's head
     * start and rate. A message's claim rank is its due time less its level's head start, spaced
     * after the previous one of its workspace at that level by 1/rate: one workspace's backlog is
     * spread out while another's new mail ranks near now, and under overload the streams share
     * the claims in proportion to their rates (low still progresses). Neither is a limit: with
     * nothing else due, a backlog is claimed as fast as the workers go.
     */
    public record QueuePriorities(@Valid Level critical, @Valid Level high, @Valid Level normal, @Valid Level low) {

        /** The defaults: head starts 10m, 2m, 30s, 0s; rates 500, 100, 20, 5 a second. */
        private static final Map<Priority, Level> DEFAULTS = Map.of(
                Priority.CRITICAL, new Level(Duration.ofMinutes(10), 500.0),
                Priority.HIGH, new Level(Duration.ofMinutes(2), 100.0),
                Priority.NORMAL, new Level(Duration.ofSeconds(30), 20.0),
                Priority.LOW, new Level(Duration.ZERO, 5.0));

        /** The level's settings, each value left out taking its default. */
        public Level of(Priority priority) {
            Level set = switch (priority) {
                case CRITICAL -> critical;
                case HIGH -> high;
                case NORMAL -> normal;
                case LOW -> low;
            };
            Level fallback = DEFAULTS.get(priority);
            return set == null ? fallback : new Level(set.headStart() == null ? fallback.headStart() : set.headStart(),
                    set.rate() == null ? fallback.rate() : set.rate());
        }
    }

    /**
     * @param headStart how much earlier than its due time a message of this level ranks (at least 0)
     * @param rate      messages per second of rank that one workspace's stream of this level is
     *                  spread at: under overload, the streams' shares are in proportion to it
     */
    public record Level(
            @DurationMin(seconds = 0) Duration headStart,
            @DecimalMin("0.001") Double rate) {
    }

    /**
     * Stored templates (templates/): kept in the database through /api/v1/templates, and read from
     * files for those who keep them in git.
     *
     * @param directory  where file templates are: {@code <workspace>/<name>.subject.hbs}, {@code .text.hbs},
     *                   {@code .html.hbs}, partials in {@code <workspace>/partials/<name>.hbs}; read when used,
     *                   again when a file changed. Unset (the default): no file templates
     * @param maxSource  most characters of one source (text, html, a partial); a subject source at most 2000
     * @param maxOutput  most characters one rendered part may have; a render over it is a 400
     * @param maxPartials most partials one template may declare
     */
    public record Templates(
            String directory,
            @DefaultValue("100000") @Min(1) int maxSource,
            @DefaultValue("1000000") @Min(1) int maxOutput,
            @DefaultValue("20") @Min(0) int maxPartials) {
    }

    /**
     * How long the relay keeps what it stored (retention/ deletes the rest, in small batches on the
     * route retention-run). Message windows count from a final state (SENT, FAILED, REJECTED,
     * CANCELLED: the row's updated_at); a workspace's own relay.workspaces.&lt;id&gt;.retention wins.
     *
     * @param rawMime        the raw MIME of a finished message is dropped (the row and its events stay)
     * @param messages       a finished message is deleted with its events
     * @param attempts       delivery_attempts and webhook_attempts rows (the "why did it fail" logs), by their time
     * @param webhookPending an event still waiting for its webhook this long after it was written is
     *                       given up (delivery_state EXPIRED): the workspace had no webhook, or never caught up
     * @param auditLog       audit_log entries, by their time
     * @param interval       how often retention-run runs (the first run one interval after start)
     * @param batchSize      most rows one batch (one short transaction) drops or deletes
     */
    public record Retention(
            @DefaultValue("7d") @NotNull Duration rawMime,
            @DefaultValue("30d") @NotNull Duration messages,
            @DefaultValue("30d") @NotNull Duration attempts,
            @DefaultValue("7d") @NotNull Duration webhookPending,
            @DefaultValue("365d") @NotNull Duration auditLog,
            @DefaultValue("1h") @NotNull @DurationMin(seconds = 1) Duration interval,
            @DefaultValue("500") @Min(1) int batchSize) {
    }

    /**
     * The gauges read from the database (queue depth, oldest due message, webhook lag) and the
     * breaker states, refreshed on this schedule rather than at each scrape.
     *
     * @param refreshInterval how often they are read: one grouped query and one lookup per webhook workspace
     */
    public record Metrics(@DefaultValue("15s") @NotNull @DurationMin(millis = 100) Duration refreshInterval) {
    }

    /**
     * The workspaces kept in the database (workspace/Workspaces caches them on every instance).
     *
     * @param refreshInterval        how often each instance reads the one-row change counter and, when it
     *                               moved, reloads its cache: how long a change made on another instance
     *                               (a new key, a revoked one, a disabled workspace) takes to apply here
     * @param lastUsedFlushInterval  how often the API keys' last-used times, kept in memory, are written
     */
    public record Tenants(
            @DefaultValue("1s") @NotNull @DurationMin(millis = 50) Duration refreshInterval,
            @DefaultValue("5s") @NotNull @DurationMin(millis = 100) Duration lastUsedFlushInterval) {
    }

    /** Provider health: the periodic probe of every provider instance (GET /api/v1/providers, /actuator/health). */
    public record Providers(@DefaultValue @Valid ProbeSchedule probe) {
    }

    /**
     * @param interval how often each provider instance is probed (its type's lightweight call, never
     *                 a message); 0 = never, only on POST /api/v1/providers/{id}/test
     */
    public record ProbeSchedule(@DefaultValue("0s") @NotNull Duration interval) {
    }

    /** Where events go besides webhooks (routes read these as placeholders; the defaults are the same). */
    public record Events(@DefaultValue @Valid EventsKafka kafka) {
    }

    /**
     * The Kafka event stream.
     *
     * @param maxRequestSize the producer's max.request.size: an event whose record is larger is
     *                       parked (events.stream_error) and the stream goes on
     */
    public record EventsKafka(
            @DefaultValue("false") boolean enabled,
            String brokers,
            @DefaultValue("relay-events") String topic,
            @DefaultValue("500") @Min(1) long pollDelay,
            @DefaultValue("1048576") @Min(1024) int maxRequestSize) {
    }

    /**
     * Caps on what a submission (REST or SMTP) may carry besides its MIME. Metadata and tags are
     * copied into every event of every recipient (webhooks, Kafka), variables into every copy, so
     * each must stay small; the defaults are Mandrill's order of size.
     *
     * @param metadataBytes  {@code metadata} / {@code X-MC-Metadata}, as JSON (UTF-8 bytes)
     * @param tags           tags per message ({@code tags} / {@code X-MC-Tags})
     * @param tagLength      characters per tag
     * @param variables      names in {@code variables}, and in each recipient's {@code recipient_variables}
     *                       (for SMTP: the global and each recipient's {@code X-MC-MergeVars})
     * @param variablesBytes names and values of all of them together (UTF-8 bytes)
     * @param reportedErrors field errors listed in one 400 answer; more are counted in a last note
     * @param batchMessages  messages one {@code POST /api/v1/messages/batch} may carry (more: 413)
     * @param batchBodySize  the body of a batch request, instead of relay.max-message-size: room for
     *                       batch-messages messages of about 40 KB of JSON each, and no more
     */
    public record Limits(
            @DefaultValue("1KB") @NotNull DataSize metadataBytes,
            @DefaultValue("20") @Min(0) int tags,
            @DefaultValue("100") @Min(1) int tagLength,
            @DefaultValue("100") @Min(0) int variables,
            @DefaultValue("100KB") @NotNull DataSize variablesBytes,
            @DefaultValue("50") @Min(1) int reportedErrors,
            @DefaultValue("500") @Min(1) int batchMessages,
            @DefaultValue("20MB") @NotNull DataSize batchBodySize) {

        /** The checks both ingresses apply with these bounds. */
        public InputLimits inputLimits() {
            return new InputLimits(new InputLimits.Bounds(metadataBytes.toBytes(), tags, tagLength, variables,
                    variablesBytes.toBytes(), reportedErrors));
        }
    }

    /** Where accepted messages wait for delivery: the messages table, or a Kafka topic in front of it. */
    public enum QueueMode { DATABASE, KAFKA }

    /**
     * The Kafka queue ({@code relay.queue: kafka}): accepted messages are produced to {@code topic},
     * keyed by workspace, and a consumer group of all relay instances takes them into delivery.
     *
     * @param partitions        partitions of the topic when the relay creates it (an existing topic is left as it is);
     *                          the most consumers, over all instances, that can work at once
     * @param replicationFactor replicas of the topic when the relay creates it; 0 takes the broker's default
     * @param consumers         consumers (one thread each) per relay instance
     * @param maxPollRecords    records a consumer takes per poll; each is delivered before the next poll
     * @param sendTimeout       how long an accept waits for the broker's acknowledgement before it fails (503 / 451)
     * @param producers         transactional producers per relay instance: accepts being produced at once (more wait
     *                          for one, up to send-timeout)
     * @param maxIntakeAttempts tries to take a record into the messages table that fail for reasons of its own (not
     *                          a database outage) before it is parked in queue_dead_letters and its partition moves on
     */
    public record QueueKafka(
            String brokers,
            @DefaultValue("relay-messages") String topic,
            @DefaultValue("12") @Min(1) int partitions,
            @DefaultValue("0") @Min(0) int replicationFactor,
            @DefaultValue("relay-dispatch") String groupId,
            @DefaultValue("4") @Min(1) int consumers,
            @DefaultValue("50") @Min(1) int maxPollRecords,
            @DefaultValue("10s") @NotNull Duration sendTimeout,
            @DefaultValue("4") @Min(1) int producers,
            @DefaultValue("3") @Min(1) int maxIntakeAttempts) {
    }

    /**
     * Group commit of accepts and delivery outcomes: work arriving while a commit is in flight is
     * stored together in the next transaction (see queue.GroupCommit).
     *
     * @param threads  transactions that may be open at once; two keep the database busy while one
     *                 of them waits for its commit to be flushed
     * @param maxBatch most units of work (accepts, outcomes) in one transaction
     * @param h2Sync   on an H2 file database, write and fsync the store after every commit
     *                 (CHECKPOINT SYNC) before answering; without it H2 writes commits in the
     *                 background and a crash can lose messages already answered 202 / 250
     */
    public record GroupCommit(
            @DefaultValue("2") @Min(1) int threads,
            @DefaultValue("200") @Min(1) int maxBatch,
            @DefaultValue("true") boolean h2Sync) {
    }

    /**
     * Open and click tracking and unsubscribe links.
     *
     * @param secret  signs every tracking and unsubscribe token; all instances of one relay need the
     *                same value (without one, a random secret per process is used and links stop
     *                working at the next restart)
     * @param baseUrl the relay's public URL as recipients reach it, the start of every such link
     * @param tokenLifetime how long a link minted now works (the expiry is inside the token); tokens
     *                      minted before tokens had an expiry work this long after their message was accepted
     * @param repeatWindow  opens (clicks) of one link within this time of the last one recorded are
     *                      counted on that event ({@code events.repeats}) instead of writing another
     */
    public record Tracking(
            String secret,
            @DefaultValue("http://localhost:8080") @NotNull String baseUrl,
            @DefaultValue("180d") @NotNull Duration tokenLifetime,
            @DefaultValue("1h") @NotNull Duration repeatWindow) {
    }

    /**
     * Queue workers: how often they poll, how much they claim, how long a claim lasts.
     * Defaults in the packaged application.yml, because routes read them as placeholders.
     */
    public record Worker(
            boolean enabled,
            @Min(1) int threads,
            @Min(1) int batchSize,
            @NotNull Duration pollDelay,
            // How long a claim lasts before another worker may take the message. It is renewed
            // (every lease/3) while this instance works on the message, so it only runs out when
            // the instance died or stopped renewing.
            @NotNull Duration lease,
            // The longest one provider call may take (the circuit breaker's time limit; a provider
            // route may set its own deadlineMillis). Keep it below the lease.
            @DefaultValue("2m") @NotNull Duration attemptDeadline) {
    }

    /** The YAML route files users edit, and how changes to them are taken up. */
    public record Routes(
            @DefaultValue("routes") String directory,
            @DefaultValue("true") boolean reloadEnabled,
            @DefaultValue("1s") Duration reloadInterval,
            // How long a replaced route's in-flight exchanges may take to finish; those still in it
            // after this are given back (they end as transient failures and are retried) so that
            // the new version takes over within seconds, whatever the old one is stuck on.
            @DefaultValue("2s") Duration drainTimeout,
            // PUT /api/v1/routes/{file} writes route files: off unless turned on.
            @DefaultValue("false") boolean uploadEnabled,
            // Opt-ins beyond the routing allow-list of RouteAllowList, by name: endpoint schemes
            // (e.g. http), expression languages (e.g. xpath) and EIPs (e.g. enrich).
            @DefaultValue List<String> allowedSchemes,
            @DefaultValue List<String> allowedLanguages,
            @DefaultValue List<String> allowedEips,
            // Operators' own provider templates (*.kamelet.yaml), taken up before the route files;
            // empty: the folder templates beside the routes directory. Absent folder: none.
            @DefaultValue("") String templatesDirectory) {
    }

    /** Credentials of the management API (SHA-256 digests of admin keys). */
    public record Admin(@DefaultValue List<String> apiKeySha256) {
    }

    /** Durable retry schedule for transient failures: exponential backoff with jitter. */
    public record Retry(
            @DefaultValue("8") @Min(1) int maxAttempts,
            @DefaultValue("24h") Duration maxAge,
            @DefaultValue("30s") Duration initialBackoff,
            @DefaultValue("2.0") double multiplier,
            @DefaultValue("1h") Duration maxBackoff,
            // +/- this fraction of the delay, so that messages deferred together do not retry together
            @DefaultValue("0.2") double jitter) {
    }

    /**
     * A tenant. API keys are given as SHA-256 hex digests and SMTP passwords as BCrypt hashes,
     * never in clear.
     *
     * @param senderDomains domains this workspace may send from; empty allows any for its own
     *                      credentials. Trusted-network submissions are matched to a workspace
     *                      by these domains.
     * @param smtpUsers     SMTP AUTH user name → BCrypt hash of the password
     */
    public record Workspace(
            @DefaultValue("transactional") EmailType defaultType,
            @DefaultValue List<String> apiKeySha256,
            @DefaultValue List<String> senderDomains,
            @DefaultValue Map<String, String> smtpUsers,
            @DefaultValue @Valid Webhook webhook,
            @DefaultValue @Valid InboundKeys inbound,
            @DefaultValue @Valid RateLimit rateLimit,
            @DefaultValue @Valid WorkspaceTracking tracking,
            // Email types that get List-Unsubscribe and List-Unsubscribe-Post (RFC 8058) headers.
            @DefaultValue("marketing") List<EmailType> listUnsubscribe,
            // Custom {{NAME}} variables of the workspace; request variables and recipient names win.
            @DefaultValue Map<String, String> variables,
            // DKIM keys of the workspace's sending domains (dkim.DkimKeys checks them at start).
            @DefaultValue List<@Valid DkimKey> dkim,
            // Whether a submission may name its provider (REST "provider", SMTP X-Relay-Provider),
            // bypassing the routes' choice; off, such a submission is refused.
            @DefaultValue("false") boolean providerOverride,
            // How long this workspace's mail is kept; unset values take relay.retention's.
            @DefaultValue @Valid WorkspaceRetention retention,
            // The priority level of each email type, and the highest a message may ask for.
            @DefaultValue @Valid WorkspacePriorities priorities,
            // LLM personalisation of <<NAME>> placeholders (off by default; llm/).
            @DefaultValue @Valid WorkspaceLlm llm) {
    }

    /**
     * A workspace's priority levels (relay.queue-priorities says what a level gets).
     *
     * @param types the level of each email type named; the others keep theirs (transactional and
     *              system high, notification normal, marketing low)
     * @param max   the highest level a message may ask for (REST {@code priority}, SMTP
     *              {@code X-Relay-Priority}); above it the message is refused. Critical only where
     *              it is allowed here
     */
    public record WorkspacePriorities(
            @DefaultValue Map<EmailType, Priority> types,
            @DefaultValue("high") Priority max) {

        /** The level a message of {@code type} gets when it asks for none. */
        public Priority of(EmailType type) {
            Priority set = types == null ? null : types.get(type);
            return set != null ? set : defaultOf(type);
        }

        public static Priority defaultOf(EmailType type) {
            return switch (type) {
                case TRANSACTIONAL, SYSTEM -> Priority.HIGH;
                case NOTIFICATION -> Priority.NORMAL;
                case MARKETING -> Priority.LOW;
            };
        }

        /** The bound, high when unset. */
        public Priority bound() {
            return max == null ? Priority.HIGH : max;
        }
    }

    /**
     * A workspace's own retention, overriding relay.retention where set (retention/ applies it).
     *
     * @param rawMime  how long after a final state (SENT, FAILED, REJECTED, CANCELLED) the raw MIME is kept
     * @param messages how long after a final state the message and its events are kept
     */
    public record WorkspaceRetention(Duration rawMime, Duration messages) {
    }

    /**
     * One DKIM signing key of a workspace: mail whose From is at {@code domain} (or a subdomain of
     * it) is signed with d={@code domain}, s={@code selector}. The key is an RSA private key of at
     * least 2048 bits in PEM (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"), given inline
     * (typically {@code ${ENV_VAR}}) or as a file; it is a secret, never logged or shown.
     */
    public record DkimKey(
            @NotBlank String domain,
            @NotBlank String selector,
            String privateKey,
            String privateKeyFile) {

        /** Never the key itself: a record's default toString would print it wherever the settings are logged. */
        @Override
        public String toString() {
            return "DkimKey[domain=" + domain + ", selector=" + selector + "]";
        }
    }

    /**
     * The keys that authenticate a workspace's inbound provider events; a provider without its
     * key has no endpoint (404).
     *
     * @param mailgunSigningKey Mailgun's HTTP webhook signing key (HMAC-SHA256 of timestamp + token)
     * @param sendgridPublicKey the verification key SendGrid shows for its signed Event Webhook:
     *                          base64 of an EC (P-256) public key
     */
    public record InboundKeys(String mailgunSigningKey, String sendgridPublicKey) {
    }

    /**
     * Most messages accepted per fixed window (aligned to the epoch), counted across every
     * instance on the database. Unset means unlimited.
     *
     * @param messages        for the whole workspace
     * @param messagesPerUser for each user: a REST submission's {@code user_id}, an SMTP message's
     *                        {@code X-Relay-User} or else its SMTP AUTH user name
     * @param mode            what {@code messages} and {@code messagesPerUser} do when their window is full
     * @param limits          more limits beside those two, each with its own window (per minute AND per day...)
     * @param customUserLimits a user id's own limits, in place of {@code messagesPerUser} and every
     *                        {@code per: user} limit of {@code limits} (their {@code per} is not read)
     */
    public record RateLimit(
            @DefaultValue("1m") Duration window,
            @Min(0) Integer messages,
            @Min(0) Integer messagesPerUser,
            @DefaultValue("hard") LimitMode mode,
            @DefaultValue List<@Valid Limit> limits,
            @DefaultValue Map<String, List<@Valid Limit>> customUserLimits) {

        public boolean limited() {
            return messages != null || messagesPerUser != null || (limits != null && !limits.isEmpty())
                    || (customUserLimits != null && !customUserLimits.isEmpty());
        }
    }

    /**
     * One limit: at most {@code messages} per fixed window of {@code window} (aligned to the epoch:
     * a 1d window is a UTC day), for the workspace or for each of its users.
     */
    public record Limit(
            @NotNull @DurationMin(seconds = 1) Duration window,
            @NotNull @Min(0) Integer messages,
            @DefaultValue("workspace") LimitPer per,
            @DefaultValue("hard") LimitMode mode) {
    }

    /** Whom a limit counts: the whole workspace, or each user of it apart. */
    public enum LimitPer { WORKSPACE, USER }

    /**
     * What a full window does to the next message: HARD refuses it (429 with Retry-After, SMTP
     * 451 4.7.1); SOFT accepts it and holds it QUEUED until the first window with room.
     */
    public enum LimitMode { HARD, SOFT }

    /** The email types whose HTML gets an open pixel, and whose links are rewritten to count clicks. */
    public record WorkspaceTracking(
            @DefaultValue("marketing") List<EmailType> opens,
            @DefaultValue("marketing") List<EmailType> clicks) {
    }

    /** Where a workspace's events are posted (Mandrill format) and the key that signs them. */
    public record Webhook(String url, String key) {
        public boolean configured() {
            return url != null && !url.isBlank();
        }
    }

    /** Delivery of the event outbox to the workspaces' webhooks. */
    public record Webhooks(
            @DefaultValue("true") boolean enabled,
            // Events posted together; Mandrill sends up to 1000 per request.
            @DefaultValue("100") @Min(1) int batchSize,
            // How often pending events are looked for: also how long an event may wait to join a batch.
            @DefaultValue("1s") Duration pollDelay,
            // Connect and response timeout of each POST, in milliseconds (the HTTP endpoint reads it so).
            @DefaultValue("10000") @Min(1) int timeoutMillis,
            @DefaultValue("10s") Duration initialBackoff,
            @DefaultValue("10m") Duration maxBackoff,
            // A batch still failing when its oldest event is this old is given up (FAILED, visible in the API).
            @DefaultValue("24h") Duration maxAge,
            // Most bytes of event JSON in one POST (an event larger than this alone goes out alone).
            @DefaultValue("1MB") @NotNull DataSize batchBytes,
            // Workspaces whose webhooks are posted at once by this instance: so many dead receivers
            // can be waited on before the others wait too.
            @DefaultValue("8") @Min(1) int concurrency,
            // How long a claimed batch belongs to its worker; past it (a crashed instance) another may
            // post it again. Longer than a POST can take (connect + response timeout).
            @DefaultValue("2m") @NotNull Duration lease) {
    }

    /**
     * Graceful shutdown of the HTTP side (SIGTERM). Readiness goes DOWN first; new requests then get
     * 503 with Retry-After while those in flight complete, for at most {@code drainTimeout}.
     *
     * @param drainTimeout     longest wait for in-flight requests before the web server and Camel stop
     * @param retryAfter       the Retry-After of the 503 answered to requests that arrive while draining
     * @param forceExitAfter   the process halts this long after its shutdown (SIGTERM) began, whatever
     *                         still runs; 0 leaves it to the phases' own timeouts. A context closed
     *                         while the JVM goes on (tests) is never halted
     */
    public record Shutdown(
            @DefaultValue("20s") @NotNull Duration drainTimeout,
            @DefaultValue("5s") @NotNull Duration retryAfter,
            @DefaultValue("90s") @NotNull Duration forceExitAfter) {
    }

    /** Inbound provider event webhooks (Mailgun, SendGrid): how fresh and how unique a request must be. */
    public record Inbound(
            // A signature whose timestamp is further than this from now (either way) is refused:
            // a captured request cannot be replayed later. Mailgun tokens are remembered this long.
            @DefaultValue("5m") Duration maxAge,
            // How long provider event ids are remembered, so that a retried event is recorded once;
            // longer than the providers retry (SendGrid: 72 hours).
            @DefaultValue("4d") Duration eventIdRetention,
            // How often tokens and event ids past their time are deleted.
            @DefaultValue("1m") Duration cleanupInterval,
            // Bodies of the public (unauthenticated) endpoints: provider webhooks, unsubscribe forms.
            // SendGrid posts batches of at most 768 KB and Mailgun one event of a few KB.
            @DefaultValue("1MB") @NotNull DataSize maxBodySize) {
    }

    /** The SMTP submission server (RFC 6409 style: authenticated, or from trusted networks). */
    public record Smtp(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("2525") int port,
            @DefaultValue("0.0.0.0") String bindAddress,
            // Name in the greeting and Received headers; the machine's name when empty.
            String hostName,
            // AUTH is offered only inside TLS unless this is set (it sends passwords in clear).
            @DefaultValue("false") boolean allowInsecureAuth,
            // CIDR blocks whose clients may submit without AUTH; the sender domain picks the workspace.
            @DefaultValue List<String> trustedNetworks,
            @DefaultValue("200") @Min(1) int maxConnections,
            // Connections open at once from one client address (IPv6: one /64); more get 421 4.7.0.
            @DefaultValue("20") @Min(1) int maxConnectionsPerAddress,
            @DefaultValue("5m") Duration idleTimeout,
            // Longest a connection may last, busy or not; then 421 4.4.2 at its next read.
            @DefaultValue("10m") @DurationMin(seconds = 1) Duration sessionDeadline,
            // At shutdown, how long sessions may take to finish their transactions (then closed).
            @DefaultValue("20s") Duration drainTimeout,
            // Failed logins one address may make within auth-failure-window; after them AUTH is
            // refused (454 4.7.0) without checking any password until the window has passed.
            @DefaultValue("5") @Min(1) int authMaxFailures,
            // How long failed logins are remembered, counted from an address's last failure.
            @DefaultValue("15m") @DurationMin(seconds = 1) Duration authFailureWindow,
            // Client addresses whose failures are remembered at most (memory stays bounded).
            @DefaultValue("10000") @Min(1) int authMaxTrackedAddresses,
            @DefaultValue @Valid Tls tls) {
    }

    /**
     * STARTTLS key material: a PKCS#12 key store, or else one generated (self-signed) at the first
     * start and kept at {@code generatedKeyStore}.
     */
    public record Tls(
            String keyStore,
            String keyStorePassword,
            @DefaultValue("data/smtp-tls.p12") String generatedKeyStore) {
    }
}
