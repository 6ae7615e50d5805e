package com.mailrelay.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.mailrelay.accept.EmailType;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
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
        @DefaultValue @Valid Shutdown shutdown,
        @DefaultValue Map<String, @Valid Workspace> workspaces) {

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
     */
    public record QueueKafka(
            String brokers,
            @DefaultValue("relay-messages") String topic,
            @DefaultValue("12") @Min(1) int partitions,
            @DefaultValue("0") @Min(0) int replicationFactor,
            @DefaultValue("relay-dispatch") String groupId,
            @DefaultValue("4") @Min(1) int consumers,
            @DefaultValue("50") @Min(1) int maxPollRecords,
            @DefaultValue("10s") @NotNull Duration sendTimeout) {
    }

    /**
     * Group commit of accepts and delivery outcomes: work arriving while a commit is in flight is
     * stored together in the next transaction (see queue.GroupCommit).
     *
     * @param threads  transactions that may be open at once; two keep the database busy while one
     *                 of them waits for its commit to be flushed
     * @param maxBatch most units of work (accepts, outcomes) in one transaction
     */
    public record GroupCommit(
            @DefaultValue("2") @Min(1) int threads,
            @DefaultValue("200") @Min(1) int maxBatch) {
    }

    /**
     * Open and click tracking and unsubscribe links.
     *
     * @param secret  signs every tracking and unsubscribe token; all instances of one relay need the
     *                same value (without one, a random secret per process is used and links stop
     *                working at the next restart)
     * @param baseUrl the relay's public URL as recipients reach it, the start of every such link
     */
    public record Tracking(
            String secret,
            @DefaultValue("http://localhost:8080") @NotNull String baseUrl) {
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
            // Longer than the slowest provider call (SMTP timeouts are 30 s): a lease that runs
            // out while a worker is still sending lets another worker send the message again.
            @NotNull Duration lease) {
    }

    /** The YAML route files users edit, and how changes to them are taken up. */
    public record Routes(
            @DefaultValue("routes") String directory,
            @DefaultValue("true") boolean reloadEnabled,
            @DefaultValue("1s") Duration reloadInterval,
            // How long a replaced route may take to finish its in-flight exchanges before it is stopped.
            @DefaultValue("30s") Duration drainTimeout,
            // PUT /api/v1/routes/{file} writes route files: off unless turned on.
            @DefaultValue("false") boolean uploadEnabled) {
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
            @DefaultValue Map<String, String> variables) {
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
     * @param messagesPerUser for each {@code user_id} a REST submission names
     */
    public record RateLimit(
            @DefaultValue("1m") Duration window,
            @Min(0) Integer messages,
            @Min(0) Integer messagesPerUser) {

        public boolean limited() {
            return messages != null || messagesPerUser != null;
        }
    }

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
            @DefaultValue("24h") Duration maxAge) {
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
            @DefaultValue("5m") Duration idleTimeout,
            // Failed logins from one address beyond this number are answered more and more slowly.
            @DefaultValue("3") int authFailuresBeforeDelay,
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
