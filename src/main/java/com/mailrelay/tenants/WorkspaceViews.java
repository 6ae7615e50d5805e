package com.mailrelay.tenants;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.EmailType;
import com.mailrelay.workspace.WorkspaceStore;

/**
 * What the admin API answers about workspaces, keys and SMTP users. A secret (webhook key, inbound
 * keys, a DKIM private key, an API key, a password) is never in a view: only whether it is set.
 * The one exception is the answer that creates a key or password, which shows it once.
 */
public final class WorkspaceViews {

    private WorkspaceViews() {
    }

    /** In place of a secret's value. */
    public record Secret(boolean set) {
        static Secret of(String value) {
            return new Secret(value != null && !value.isBlank());
        }
    }

    public record WorkspaceView(String id, boolean enabled, String source, Instant createdAt, Instant updatedAt,
                                SettingsView settings) {
        static WorkspaceView of(WorkspaceStore.Row row) {
            return new WorkspaceView(row.id(), row.enabled(), row.source(), row.createdAt(), row.updatedAt(),
                    SettingsView.of(row.settings()));
        }
    }

    public record WorkspacePage(List<WorkspaceView> workspaces, String nextCursor) {
    }

    /** A new workspace, and its first key's secret when one was asked for (shown this once). */
    public record CreatedView(WorkspaceView workspace, NewKeyView apiKey) {
    }

    public record SettingsView(String defaultType, List<String> senderDomains, WebhookView webhook,
                               InboundView inbound, RateLimitView rateLimit, TrackingView tracking,
                               List<String> listUnsubscribe, Map<String, String> variables, List<DkimView> dkim,
                               boolean providerOverride, RetentionView retention, PrioritiesView priorities,
                               LlmView llm) {
        static SettingsView of(RelayProperties.Workspace w) {
            return new SettingsView(w.defaultType().id(), w.senderDomains(),
                    new WebhookView(w.webhook().url(), Secret.of(w.webhook().key())),
                    new InboundView(Secret.of(w.inbound().mailgunSigningKey()),
                            Secret.of(w.inbound().sendgridPublicKey())),
                    RateLimitView.of(w.rateLimit()),
                    new TrackingView(ids(w.tracking().opens()), ids(w.tracking().clicks())),
                    ids(w.listUnsubscribe()), w.variables(),
                    w.dkim().stream().map(k -> new DkimView(k.domain(), k.selector(), Secret.of(k.privateKey()),
                            k.privateKeyFile())).toList(),
                    w.providerOverride(),
                    new RetentionView(w.retention().rawMime(), w.retention().messages()),
                    PrioritiesView.of(w.priorities()),
                    new LlmView(w.llm().enabled(), w.llm().placeholders(), w.llm().fallbacks(), w.llm().model()));
        }

        /** The fields as plain maps, for the audit log's change (secrets are already only "set"). */
        Map<String, Object> fields() {
            @SuppressWarnings("unchecked")
            Map<String, Object> plain = (Map<String, Object>) com.mailrelay.message.Json.plain(this);
            return plain;
        }
    }

    private static List<String> ids(List<EmailType> types) {
        return types.stream().map(EmailType::id).toList();
    }

    public record WebhookView(String url, Secret key) {
    }

    public record InboundView(Secret mailgunSigningKey, Secret sendgridPublicKey) {
    }

    public record RateLimitView(Duration window, Integer messages, Integer messagesPerUser, String mode,
                                List<LimitView> limits, Map<String, List<LimitView>> customUserLimits) {
        static RateLimitView of(RelayProperties.RateLimit r) {
            Map<String, List<LimitView>> custom = new java.util.LinkedHashMap<>();
            if (r.customUserLimits() != null) {
                r.customUserLimits().forEach((user, limits) -> custom.put(user,
                        limits.stream().map(LimitView::of).toList()));
            }
            return new RateLimitView(r.window(), r.messages(), r.messagesPerUser(), lower(r.mode()),
                    r.limits() == null ? List.of() : r.limits().stream().map(LimitView::of).toList(), custom);
        }
    }

    /** One limit of a workspace; per is "user" for a user's own (custom) limits. */
    public record LimitView(Duration window, Integer messages, String per, String mode) {
        static LimitView of(RelayProperties.Limit l) {
            return new LimitView(l.window(), l.messages(), lower(l.per()), lower(l.mode()));
        }
    }

    private static String lower(Enum<?> value) {
        return value == null ? null : value.name().toLowerCase(java.util.Locale.ROOT);
    }

    public record TrackingView(List<String> opens, List<String> clicks) {
    }

    public record DkimView(String domain, String selector, Secret privateKey, String privateKeyFile) {
    }

    public record RetentionView(Duration rawMime, Duration messages) {
    }

    /** Every email type's level (those not set shown with their default) and the bound. */
    public record PrioritiesView(Map<String, String> types, String max) {
        static PrioritiesView of(RelayProperties.WorkspacePriorities p) {
            RelayProperties.WorkspacePriorities given = p == null ? new RelayProperties.WorkspacePriorities(null, null) : p;
            Map<String, String> types = new java.util.TreeMap<>();
            for (EmailType type : EmailType.values()) {
                types.put(type.id(), given.of(type).id());
            }
            return new PrioritiesView(types, given.bound().id());
        }
    }

    /** The workspace's LLM personalisation (the endpoint's key is relay.llm's, never a workspace's). */
    public record LlmView(boolean enabled, Map<String, String> placeholders, Map<String, String> fallbacks,
                          String model) {
    }

    /** An API key as listed: never its secret (nor its digest). */
    public record KeyView(String name, String source, Instant createdAt, Instant lastUsedAt, Instant revokedAt) {
        static KeyView of(WorkspaceStore.KeyRow row, Instant lastUsed) {
            Instant used = row.lastUsedAt();
            if (lastUsed != null && (used == null || lastUsed.isAfter(used))) {
                used = lastUsed;
            }
            return new KeyView(row.name(), row.source(), row.createdAt(), used, row.revokedAt());
        }
    }

    public record KeyPage(List<KeyView> apiKeys, String nextCursor) {
    }

    /** A key just made: its secret, shown this once (the relay keeps only its SHA-256). */
    public record NewKeyView(String workspace, String name, String secret, Instant createdAt) {
    }

    public record UserView(String username, String source, Instant createdAt, Instant rotatedAt) {
        static UserView of(WorkspaceStore.UserRow row) {
            return new UserView(row.username(), row.source(), row.createdAt(), row.rotatedAt());
        }
    }

    public record UserPage(List<UserView> smtpUsers, String nextCursor) {
    }

    /** A user made or rotated: the password when the relay generated it, shown this once (null when the caller gave it). */
    public record NewPasswordView(String workspace, String username, String password, Instant at) {
    }

    public record DeletedView(String workspace, String username, boolean deleted) {
    }
}
