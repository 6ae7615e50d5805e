package com.mailrelay.messages;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.Json;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.store.MessageOperations;
import com.mailrelay.store.MessageQueries;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * Dead letters: FAILED messages an operator has not discarded. {@code GET /api/v1/dead-letters}
 * lists them with why they failed (the message's last error), the provider and the reply of its
 * last delivery attempt, and {@code .../groups} counts them by reason and provider (the console's
 * view); a replay sends one, or every one a filter names — a selection of ids among its fields — (at most
 * {@value #MAX_BULK} per call), back to the queue — QUEUED, due now, attempts reset; a discard
 * takes them off the list with a reason (they stay FAILED). A workspace key sees and acts on its
 * own workspace's, an admin key on any workspace's (or the one its filter names).
 */
@Component("deadLetters")
public class DeadLetters {

    /** Most messages one replay or discard by filter changes; the answer says whether more matched. */
    public static final int MAX_BULK = 10_000;
    /** The exchange property holding a discard's reason, for the audit step. */
    static final String DISCARD_REASON = "relayDiscardReason";

    /** Most messages a selection (the filter's ids) names. */
    public static final int MAX_IDS = MessageListing.MAX_LIMIT;

    /** The ids of a selection an audit entry lists (the change_json column holds 8000 characters). */
    private static final int AUDITED_IDS = 100;

    private static final Set<String> FILTER_FIELDS = Set.of("workspace", "provider", "reason", "type", "since", "until",
            "ids", "limit");

    private final MessageQueries queries;
    private final MessageOperations operations;
    private final Callers callers;

    public DeadLetters(MessageQueries queries, MessageOperations operations, Callers callers) {
        this.queries = queries;
        this.operations = operations;
        this.callers = callers;
    }

    /** A dead letter, with the last reply a provider gave for it when one was recorded. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Item(String id, String workspace, String type, String from, @JsonRawValue String recipients,
                       String subject, String campaignId, int attempts, String provider, String reason,
                       Instant queuedAt, Instant failedAt, LastAttempt lastAttempt, String link) {
    }

    /** The last delivery attempt: who answered what, when. */
    public record LastAttempt(String provider, String code, String reply, Instant at) {
    }

    public record Page(List<Item> deadLetters, String nextCursor) {
    }

    /** The dead letters of one reason and provider: how many, and when the first and the last failed. */
    public record Group(String reason, String provider, long count, Instant firstFailedAt, Instant lastFailedAt) {
    }

    /**
     * The groups of the dead letters a filter names, largest first; total is how many dead letters
     * the filter names in all (what a replay or discard by the same filter would change, at most
     * {@value #MAX_BULK} a call), more whether groups were left off.
     */
    public record Groups(List<Group> groups, long total, boolean more) {
    }

    /** What a replay or discard by filter did: how many it changed, and whether more matched. */
    public record Bulk(String action, int count, boolean more) {
    }

    public Page list(Exchange exchange, @Header("workspace") String workspaceParam,
                     @Header("provider") String providerParam, @Header("reason") String reasonParam,
                     @Header("type") String typeParam, @Header("since") String sinceParam,
                     @Header("until") String untilParam, @Header("cursor") String cursorParam,
                     @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        MessageQueries.DeadLetterFilter filter = filter(q, workspaceParam, providerParam, reasonParam, typeParam,
                sinceParam, untilParam, null);
        MessageQueries.Cursor cursor = Cursors.read(q, "cursor", cursorParam);
        int limit = q.limit("limit", limitParam, MessageListing.DEFAULT_LIMIT, MessageListing.MAX_LIMIT);
        q.check();
        MessageQueries.DeadLetterFilter scoped = scoped(exchange, filter);
        List<MessageQueries.DeadLetter> rows = queries.deadLetters(scoped, cursor, limit);
        boolean more = rows.size() > limit;
        List<MessageQueries.DeadLetter> page = more ? rows.subList(0, limit) : rows;
        return new Page(page.stream().map(DeadLetters::item).toList(),
                more ? Cursors.write(page.get(limit - 1).message().cursor()) : null);
    }

    /** The dead letters grouped by reason and provider, with the filters of the list (no cursor: largest groups first). */
    public Groups groups(Exchange exchange, @Header("workspace") String workspaceParam,
                         @Header("provider") String providerParam, @Header("reason") String reasonParam,
                         @Header("type") String typeParam, @Header("since") String sinceParam,
                         @Header("until") String untilParam, @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        MessageQueries.DeadLetterFilter filter = filter(q, workspaceParam, providerParam, reasonParam, typeParam,
                sinceParam, untilParam, null);
        int limit = q.limit("limit", limitParam, MessageListing.DEFAULT_LIMIT, MessageListing.MAX_LIMIT);
        q.check();
        MessageQueries.DeadLetterFilter scoped = scoped(exchange, filter);
        List<MessageQueries.DeadLetterGroup> rows = queries.deadLetterGroups(scoped, limit);
        boolean more = rows.size() > limit;
        List<Group> groups = (more ? rows.subList(0, limit) : rows).stream()
                .map(g -> new Group(g.reason(), g.provider(), g.count(), g.firstFailedAt(), g.lastFailedAt())).toList();
        long total = more ? queries.countDeadLetters(scoped) : groups.stream().mapToLong(Group::count).sum();
        return new Groups(groups, total, more);
    }

    public MessageOperations.Outcome replay(Exchange exchange, @Header("id") String id) {
        return operations.replay(MessageActions.uuid(id), callers.scope(exchange, null),
                Callers.caller(exchange).actor());
    }

    /** Discards one dead letter; the body is {@code {"discard_reason": "..."}}. */
    public MessageOperations.Outcome discard(Exchange exchange, @Header("id") String id, @Body String body) {
        Map<String, Object> fields = object(body, Set.of("discard_reason"));
        String reason = discardReason(fields);
        exchange.setProperty(DISCARD_REASON, reason);
        return operations.discard(MessageActions.uuid(id), callers.scope(exchange, null),
                Callers.caller(exchange).actor(), reason);
    }

    /**
     * Replays the dead letters the body's filter names: {@code {"workspace", "provider", "reason",
     * "type", "since", "until", "ids", "limit"}} (ids: a selection, at most {@value #MAX_IDS}).
     */
    public Bulk replayMatching(Exchange exchange, @Body String body) {
        Map<String, Object> fields = object(body, FILTER_FIELDS);
        QueryParameters q = new QueryParameters();
        MessageQueries.DeadLetterFilter filter = filter(q, fields);
        int max = q.limit("limit", string(fields.get("limit")), MAX_BULK, MAX_BULK);
        q.check();
        MessageQueries.DeadLetterFilter scoped = scoped(exchange, filter);
        MessageOperations.Bulk done = operations.replay(scoped, max, Callers.caller(exchange).actor());
        audit(exchange, scoped, fields, done, null);
        return new Bulk("replay", done.changed(), done.more());
    }

    /** Discards the dead letters the body's filter names; the body also carries {@code discard_reason}. */
    public Bulk discardMatching(Exchange exchange, @Body String body) {
        Set<String> allowed = new java.util.HashSet<>(FILTER_FIELDS);
        allowed.add("discard_reason");
        Map<String, Object> fields = object(body, allowed);
        QueryParameters q = new QueryParameters();
        MessageQueries.DeadLetterFilter filter = filter(q, fields);
        int max = q.limit("limit", string(fields.get("limit")), MAX_BULK, MAX_BULK);
        String reason = q.text("discard_reason", string(fields.get("discard_reason")), 500);
        if (reason == null) {
            q.invalid("discard_reason", "is required: why these dead letters are discarded (at most 500 characters)");
        }
        q.check();
        MessageQueries.DeadLetterFilter scoped = scoped(exchange, filter);
        MessageOperations.Bulk done = operations.discard(scoped, max, Callers.caller(exchange).actor(), reason);
        audit(exchange, scoped, fields, done, reason);
        return new Bulk("discard", done.changed(), done.more());
    }

    private void audit(Exchange exchange, MessageQueries.DeadLetterFilter scoped, Map<String, Object> fields,
                       MessageOperations.Bulk done, String reason) {
        Map<String, Object> filter = new LinkedHashMap<>(fields);
        filter.remove("discard_reason");
        if (filter.get("ids") instanceof List<?> ids && ids.size() > AUDITED_IDS) {
            // The ids of a large selection would not fit the audit entry; each message's own event names the action.
            filter.put("ids", ids.subList(0, AUDITED_IDS));
            filter.put("ids_selected", ids.size());
        }
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("count", done.changed());
        change.put("more", done.more());
        change.put("filter", filter);
        if (reason != null) {
            change.put("discard_reason", reason);
        }
        exchange.setProperty(Audited.CHANGE, change);
        if (scoped.workspace() != null) {
            exchange.setProperty(Audited.WORKSPACE, scoped.workspace());
        }
    }

    /** The filter with the workspace the caller may act on (its own for a workspace key). */
    private MessageQueries.DeadLetterFilter scoped(Exchange exchange, MessageQueries.DeadLetterFilter filter) {
        return new MessageQueries.DeadLetterFilter(callers.scope(exchange, filter.workspace()), filter.provider(),
                filter.reason(), filter.since(), filter.until(), filter.emailType(), filter.ids());
    }

    private static MessageQueries.DeadLetterFilter filter(QueryParameters q, Map<String, Object> fields) {
        return filter(q, string(fields.get("workspace")), string(fields.get("provider")), string(fields.get("reason")),
                string(fields.get("type")), string(fields.get("since")), string(fields.get("until")),
                ids(q, fields.get("ids")));
    }

    private static MessageQueries.DeadLetterFilter filter(QueryParameters q, String workspace, String provider,
                                                          String reason, String type, String since, String until,
                                                          List<UUID> ids) {
        String emailType = q.oneOf("type", type, MessageListing.TYPES);
        MessageQueries.DeadLetterFilter filter = new MessageQueries.DeadLetterFilter(q.text("workspace", workspace, 64),
                q.text("provider", provider, 128), q.text("reason", reason, MessageQueries.GROUP_REASON),
                q.instant("since", since), q.instant("until", until),
                emailType == null ? null : emailType.toLowerCase(Locale.ROOT), ids);
        if (filter.since() != null && filter.until() != null && filter.since().isAfter(filter.until())) {
            q.invalid("since", "must not be after until");
        }
        return filter;
    }

    /** A selection: a JSON array of message ids, at most {@value #MAX_IDS}; null when absent. */
    private static List<UUID> ids(QueryParameters q, Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof List<?> list) || list.isEmpty() || list.size() > MAX_IDS) {
            q.invalid("ids", "must be an array of 1 to " + MAX_IDS + " message ids");
            return null;
        }
        List<UUID> ids = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object id = list.get(i);
            Optional<UUID> parsed = id instanceof String text ? MessageLookup.parseId(text.trim()) : Optional.empty();
            if (parsed.isEmpty()) {
                q.invalid("ids[" + i + "]", "must be a message id");
            } else if (!ids.contains(parsed.get())) {
                ids.add(parsed.get());
            }
        }
        return ids;
    }

    private static String discardReason(Map<String, Object> fields) {
        QueryParameters q = new QueryParameters();
        String reason = q.text("discard_reason", string(fields.get("discard_reason")), 500);
        if (reason == null) {
            q.invalid("discard_reason", "is required: why this dead letter is discarded (at most 500 characters)");
        }
        q.check();
        return reason;
    }

    /** The body as a JSON object of the allowed fields: an unknown one (a misspelt filter) is a 400, never ignored. */
    private static Map<String, Object> object(String body, Set<String> allowed) {
        Object parsed;
        try {
            parsed = body == null || body.isBlank() ? Map.of() : Json.read(body);
        } catch (RuntimeException e) {
            throw new ValidationException(List.of(new FieldError("body", "must be a JSON object")));
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new ValidationException(List.of(new FieldError("body", "must be a JSON object")));
        }
        List<FieldError> unknown = map.keySet().stream().map(String::valueOf).filter(name -> !allowed.contains(name))
                .sorted().map(name -> new FieldError(name, "is not a field of this request; it takes "
                        + allowed.stream().sorted().toList())).toList();
        if (!unknown.isEmpty()) {
            throw new ValidationException(unknown);
        }
        for (Map.Entry<?, ?> entry : map.entrySet()) {
            Object value = entry.getValue();
            if ("ids".equals(entry.getKey()) && value instanceof List<?>) {
                continue;
            }
            if (value != null && !(value instanceof String) && !(value instanceof Number)) {
                throw new ValidationException(List.of(new FieldError(String.valueOf(entry.getKey()),
                        "must be a string")));
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) map;
        return fields;
    }

    private static String string(Object value) {
        return value == null ? null : String.valueOf(value);
    }

    private static Item item(MessageQueries.DeadLetter d) {
        MessageQueries.Listed m = d.message();
        LastAttempt last = d.lastAttemptAt() == null ? null
                : new LastAttempt(d.lastAttemptProvider(), d.lastAttemptCode(), d.lastAttemptReply(), d.lastAttemptAt());
        return new Item(m.id().toString(), m.workspace(), m.emailType(), m.from(), m.recipients(), m.subject(),
                m.campaign(), m.attempts(), m.provider(), m.lastError(), m.queuedAt(), m.updatedAt(), last,
                "/api/v1/messages/" + m.id());
    }
}
