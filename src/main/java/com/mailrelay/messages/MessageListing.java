package com.mailrelay.messages;

import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Priority;
import com.mailrelay.store.MessageQueries;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/messages}: the messages a key may see, oldest first by accept time (or newest
 * first with {@code order=newest}), one page
 * (at most {@value #MAX_LIMIT}) per request, filtered by status, workspace, type, campaign, tag,
 * recipient, accept time and whether they wait for a send time ({@code scheduled=true}), in any combination; {@code ?cursor=} the previous page's
 * {@code next_cursor}. A workspace key lists its own workspace; an admin key every workspace, or
 * the one it names. Never reads a message's MIME (store/MessageQueries).
 */
@Component("messageListing")
public class MessageListing {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    static final Set<String> STATUSES = Arrays.stream(MessageStatus.values()).map(Enum::name)
            .collect(Collectors.toUnmodifiableSet());
    static final Set<String> TYPES = Arrays.stream(EmailType.values()).map(Enum::name)
            .collect(Collectors.toUnmodifiableSet());

    /** scheduled=true: only what waits for a send_at still ahead; false (or absent): not filtered. */
    static final Set<String> SCHEDULED = Set.of("TRUE", "FALSE");

    static final Set<String> ORDERS = Set.of("OLDEST", "NEWEST");

    private final MessageQueries queries;
    private final Callers callers;
    private final Clock clock;

    public MessageListing(MessageQueries queries, Callers callers, Clock clock) {
        this.queries = queries;
        this.callers = callers;
        this.clock = clock;
    }

    /** A listed message: its row without the MIME. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Item(String id, String status, String workspace, String type, String from,
                       @JsonRawValue String recipients, String subject, int sizeBytes, @JsonRawValue String tags,
                       String campaignId, int attempts, String provider, String providerReply, Instant queuedAt,
                       Instant nextAttemptAt, Instant sentAt, Instant updatedAt, String link, Instant sendAt,
                       String priority) {

        static Item of(MessageQueries.Listed m) {
            return new Item(m.id().toString(), m.status(), m.workspace(), m.emailType(), m.from(), m.recipients(),
                    m.subject(), m.sizeBytes(), m.tags(), m.campaign(), m.attempts(), m.provider(), m.lastError(),
                    m.queuedAt(), m.nextAttemptAt(), m.sentAt(), m.updatedAt(), "/api/v1/messages/" + m.id(),
                    m.sendAt(), Priority.ofLevel(m.priority()).id());
        }
    }

    /** One page; next_cursor is null on the last one. */
    public record Page(List<Item> messages, String nextCursor) {
    }

    public Page list(Exchange exchange, @Header("status") String statusParam, @Header("workspace") String workspaceParam,
                     @Header("type") String typeParam, @Header("campaign") String campaignParam,
                     @Header("tag") String tagParam, @Header("recipient") String recipientParam,
                     @Header("since") String sinceParam, @Header("until") String untilParam,
                     @Header("cursor") String cursorParam, @Header("limit") String limitParam,
                     @Header("scheduled") String scheduledParam, @Header("order") String orderParam) {
        QueryParameters q = new QueryParameters();
        String status = q.oneOf("status", statusParam, STATUSES);
        String workspace = q.text("workspace", workspaceParam, 64);
        String type = q.oneOf("type", typeParam, TYPES);
        String campaign = q.text("campaign", campaignParam, 255);
        String tag = q.text("tag", tagParam, 100);
        String recipient = q.text("recipient", recipientParam, 254);
        Instant since = q.instant("since", sinceParam);
        Instant until = q.instant("until", untilParam);
        MessageQueries.Cursor cursor = Cursors.read(q, "cursor", cursorParam);
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        boolean scheduled = "TRUE".equals(q.oneOf("scheduled", scheduledParam, SCHEDULED));
        boolean newest = "NEWEST".equals(q.oneOf("order", orderParam, ORDERS));
        if (cursor != null && cursor.newest() != newest) {
            q.invalid("cursor", "was given by a listing with order=" + (cursor.newest() ? "newest" : "oldest")
                    + ": send the same order with it");
        }
        if (since != null && until != null && since.isAfter(until)) {
            q.invalid("since", "must not be after until");
        }
        if (scheduled && status != null && !"QUEUED".equals(status)) {
            q.invalid("scheduled", "lists QUEUED messages waiting for their send_at: status must be QUEUED or absent");
        }
        q.check();
        String scope = callers.scope(exchange, workspace);
        List<MessageQueries.Listed> rows = queries.page(new MessageQueries.Filter(scope, status,
                type == null ? null : type.toLowerCase(Locale.ROOT), campaign, tag, recipient, since, until,
                scheduled ? clock.instant() : null), cursor, limit, newest);
        if (rows.size() <= limit) {
            return new Page(rows.stream().map(Item::of).toList(), null);
        }
        List<MessageQueries.Listed> page = rows.subList(0, limit);
        MessageQueries.Cursor last = page.get(limit - 1).cursor();
        return new Page(page.stream().map(Item::of).toList(),
                Cursors.write(new MessageQueries.Cursor(last.queuedAt(), last.id(), newest)));
    }
}
