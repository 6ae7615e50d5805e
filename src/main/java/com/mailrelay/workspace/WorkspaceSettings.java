package com.mailrelay.workspace;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.Priority;

/**
 * A workspace's settings as the {@code workspaces.settings_json} column keeps them: the shape of
 * {@link RelayProperties.Workspace} (its names as they are, durations in ISO-8601) without its API
 * keys and SMTP users, which have tables of their own. Read back, every value left out takes the
 * default that application.yml would give it, so that a column written by an older relay still
 * reads as a complete workspace.
 */
public final class WorkspaceSettings {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .addModule(new ParameterNamesModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .build();

    private WorkspaceSettings() {
    }

    /** The column's JSON of these settings (without keys and users, defaults filled in). */
    public static String write(RelayProperties.Workspace settings) {
        try {
            return MAPPER.writeValueAsString(withoutCredentials(complete(settings)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write workspace settings", e);
        }
    }

    public static RelayProperties.Workspace read(String json) {
        try {
            return complete(MAPPER.readValue(json, RelayProperties.Workspace.class));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("workspace settings are not readable JSON: " + e.getOriginalMessage());
        }
    }

    /** The settings with their credentials left out (those live in api_keys and smtp_users). */
    public static RelayProperties.Workspace withoutCredentials(RelayProperties.Workspace w) {
        return new RelayProperties.Workspace(w.defaultType(), List.of(), w.senderDomains(), Map.of(), w.webhook(),
                w.inbound(), w.rateLimit(), w.tracking(), w.listUnsubscribe(), w.variables(), w.dkim(),
                w.providerOverride(), w.retention(), w.priorities(), w.llm());
    }

    /** Every null replaced by the default application.yml binding would give. */
    public static RelayProperties.Workspace complete(RelayProperties.Workspace w) {
        RelayProperties.RateLimit limit = w.rateLimit() == null ? new RelayProperties.RateLimit(null, null, null, null,
                null, null) : w.rateLimit();
        RelayProperties.WorkspaceTracking tracking = w.tracking() == null
                ? new RelayProperties.WorkspaceTracking(null, null) : w.tracking();
        return new RelayProperties.Workspace(
                w.defaultType() == null ? EmailType.TRANSACTIONAL : w.defaultType(),
                orEmpty(w.apiKeySha256()),
                orEmpty(w.senderDomains()),
                w.smtpUsers() == null ? Map.of() : w.smtpUsers(),
                w.webhook() == null ? new RelayProperties.Webhook(null, null) : w.webhook(),
                w.inbound() == null ? new RelayProperties.InboundKeys(null, null) : w.inbound(),
                new RelayProperties.RateLimit(limit.window() == null ? Duration.ofMinutes(1) : limit.window(),
                        limit.messages(), limit.messagesPerUser(),
                        limit.mode() == null ? RelayProperties.LimitMode.HARD : limit.mode(),
                        orEmpty(limit.limits()).stream().map(WorkspaceSettings::complete).toList(),
                        limit.customUserLimits() == null ? Map.of() : completeUsers(limit.customUserLimits())),
                new RelayProperties.WorkspaceTracking(marketingIfNull(tracking.opens()),
                        marketingIfNull(tracking.clicks())),
                marketingIfNull(w.listUnsubscribe()),
                w.variables() == null ? Map.of() : w.variables(),
                orEmpty(w.dkim()),
                w.providerOverride(),
                w.retention() == null ? new RelayProperties.WorkspaceRetention(null, null) : w.retention(),
                priorities(w.priorities()), llm(w.llm()));
    }

    /** The type map complete (every type its level) and the bound set, so that a view shows what applies. */
    private static RelayProperties.WorkspacePriorities priorities(RelayProperties.WorkspacePriorities p) {
        Map<EmailType, Priority> types = new java.util.EnumMap<>(EmailType.class);
        RelayProperties.WorkspacePriorities given = p == null ? new RelayProperties.WorkspacePriorities(null, null) : p;
        for (EmailType type : EmailType.values()) {
            types.put(type, given.of(type));
        }
        return new RelayProperties.WorkspacePriorities(Map.copyOf(types), given.bound());
    }

    private static RelayProperties.Limit complete(RelayProperties.Limit limit) {
        return new RelayProperties.Limit(limit.window(), limit.messages(),
                limit.per() == null ? RelayProperties.LimitPer.WORKSPACE : limit.per(),
                limit.mode() == null ? RelayProperties.LimitMode.HARD : limit.mode());
    }

    private static Map<String, List<RelayProperties.Limit>> completeUsers(
            Map<String, List<RelayProperties.Limit>> users) {
        Map<String, List<RelayProperties.Limit>> out = new java.util.LinkedHashMap<>();
        users.forEach((user, limits) -> out.put(user, orEmpty(limits).stream()
                .map(limit -> new RelayProperties.Limit(limit.window(), limit.messages(),
                        RelayProperties.LimitPer.USER, limit.mode() == null ? RelayProperties.LimitMode.HARD
                        : limit.mode())).toList()));
        return out;
    }

    private static RelayProperties.WorkspaceLlm llm(RelayProperties.WorkspaceLlm llm) {
        if (llm == null) {
            return new RelayProperties.WorkspaceLlm(false, Map.of(), Map.of(), null);
        }
        return new RelayProperties.WorkspaceLlm(llm.enabled(),
                llm.placeholders() == null ? Map.of() : llm.placeholders(),
                llm.fallbacks() == null ? Map.of() : llm.fallbacks(), llm.model());
    }

    private static <T> List<T> orEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static List<EmailType> marketingIfNull(List<EmailType> types) {
        return types == null ? List.of(EmailType.MARKETING) : types;
    }
}
