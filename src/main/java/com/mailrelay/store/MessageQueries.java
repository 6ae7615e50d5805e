package com.mailrelay.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import com.mailrelay.message.Json;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The management reads of the messages table: listing pages ({@code GET /api/v1/messages}), dead
 * letters ({@code GET /api/v1/dead-letters}) and a message's stored bytes ({@code .../raw}).
 * <p>
 * A listing page is one query: the filters, then {@code (queued_at, id) > cursor}, ordered by
 * {@code (queued_at, id)}, {@code limit + 1} rows. queued_at and id never change once a row is
 * written, so a cursor of the last row seen returns every row once, in order, whatever arrives or
 * changes status meanwhile; a row written later with an earlier queued_at (a Kafka record taken
 * late, a continuation of put-off recipients, which keeps its original's age) may be behind the
 * cursor already, as any mail arriving during a listing may or may not be in it. Each filter that
 * narrows by a column has an index ending in (queued_at, id) (V19__message_listing.sql), so a page
 * is an ordered range read of the index, never a sort. The select lists name their columns:
 * raw_mime (up to relay.max-message-size per row) is never read by a listing.
 * <p>
 * Recipient and tag are JSON arrays in text columns. They are matched exactly — the address or tag
 * as a quoted JSON string, {@code "a@x.org"}, so that {@code a@x.org} does not match
 * {@code ba@x.org} — inside the index range the other filters give; they have no index of their own
 * (that would be a side table written with every accept, for every recipient, on the hot path).
 * A recipient search therefore reads the rows of its range until it has a page: give it a
 * workspace and a time window on a large table.
 */
@Component
public class MessageQueries {

    /** The columns of a listed message, never raw_mime. */
    public static final String LISTED = "m.id, m.workspace_id, m.email_type, m.status, m.from_addr, m.recipients, m.subject,"
            + " m.size_bytes, m.tags, m.campaign_id, m.attempts, m.provider_id, m.last_error, m.queued_at,"
            + " m.next_attempt_at, m.sent_at, m.updated_at, m.send_at, m.priority";

    private final JdbcTemplate jdbc;

    public MessageQueries(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Where a page starts: after this (queued_at, id), in the listing's order.
     *
     * @param newest the listing runs newest first: the page is the rows before this one
     */
    public record Cursor(Instant queuedAt, UUID id, boolean newest) {

        public Cursor(Instant queuedAt, UUID id) {
            this(queuedAt, id, false);
        }
    }

    /**
     * The filters of a listing; null: not filtered.
     *
     * @param scheduledAfter only messages still waiting for a send time later than this (QUEUED,
     *                       send_at after it): what is scheduled, as of that instant
     */
    public record Filter(String workspace, String status, String emailType, String campaign, String tag,
                         String recipient, Instant since, Instant until, Instant scheduledAfter) {

        /** Not narrowed to what is scheduled. */
        public Filter(String workspace, String status, String emailType, String campaign, String tag,
                      String recipient, Instant since, Instant until) {
            this(workspace, status, emailType, campaign, tag, recipient, since, until, null);
        }
    }

    /**
     * The filters of the dead letters (FAILED, not discarded); since and until are on the time it
     * failed (updated_at: nothing changes a FAILED row but a replay or a discard); emailType the
     * message's type; ids, when not null, only these messages (a selection of the console).
     */
    public record DeadLetterFilter(String workspace, String provider, String reason, Instant since, Instant until,
                                   String emailType, List<UUID> ids) {

        /** Not narrowed by type nor by ids. */
        public DeadLetterFilter(String workspace, String provider, String reason, Instant since, Instant until) {
            this(workspace, provider, reason, since, until, null, null);
        }
    }

    /**
     * The dead letters of one reason (the message's last error, its first {@value #GROUP_REASON}
     * characters) and provider (null: none was reached): how many, and when the first and the last
     * of them failed.
     */
    public record DeadLetterGroup(String reason, String provider, long count, Instant firstFailedAt,
                                  Instant lastFailedAt) {
    }

    /** The characters of a reason that group dead letters (the reason filter takes as many). */
    public static final int GROUP_REASON = 500;

    /** A listed message (no MIME); recipients and tags as their stored JSON. */
    public record Listed(UUID id, String workspace, String emailType, String status, String from, String recipients,
                         String subject, int sizeBytes, String tags, String campaign, int attempts, String provider,
                         String lastError, Instant queuedAt, Instant nextAttemptAt, Instant sentAt,
                         Instant updatedAt, Instant sendAt, int priority) {

        public Cursor cursor() {
            return new Cursor(queuedAt, id);
        }
    }

    /** A dead letter: the message, and its last delivery attempt's reply when one was recorded. */
    public record DeadLetter(Listed message, String lastAttemptProvider, String lastAttemptCode,
                             String lastAttemptReply, Instant lastAttemptAt) {
    }

    /** The stored bytes of a message: null when the row has none any more (retention dropped them). */
    public record Raw(UUID id, String workspace, byte[] bytes) {
    }

    /** One page of at most {@code limit} messages after {@code after}, and one row more if more follow. */
    public List<Listed> page(Filter filter, Cursor after, int limit) {
        return page(filter, after, limit, false);
    }

    /** The same, newest first when {@code newest} (the index read backwards, still no sort). */
    public List<Listed> page(Filter filter, Cursor after, int limit, boolean newest) {
        List<Object> args = new ArrayList<>();
        return jdbc.query(pageQuery(filter, after, limit, newest, args), this::listed, args.toArray());
    }

    /**
     * The database's plan of that page's query, one line per row of EXPLAIN: how an operator (or a
     * test) sees which index a combination of filters uses.
     */
    public List<String> plan(Filter filter, Cursor after, int limit) {
        return plan(filter, after, limit, false);
    }

    public List<String> plan(Filter filter, Cursor after, int limit, boolean newest) {
        List<Object> args = new ArrayList<>();
        String sql = "explain " + pageQuery(filter, after, limit, newest, args);
        return jdbc.query(sql, (rs, n) -> rs.getString(1), args.toArray());
    }

    private static String pageQuery(Filter filter, Cursor after, int limit, boolean newest, List<Object> args) {
        StringBuilder sql = new StringBuilder("select " + LISTED + " from messages m where 1 = 1");
        condition(sql, args, " and m.workspace_id = ?", filter.workspace());
        condition(sql, args, " and m.status = ?", filter.status());
        condition(sql, args, " and m.email_type = ?", filter.emailType());
        condition(sql, args, " and m.campaign_id = ?", filter.campaign());
        condition(sql, args, " and m.tags like ? escape '\\'", filter.tag() == null ? null : quoted(filter.tag()));
        condition(sql, args, " and lower(m.recipients) like ? escape '\\'",
                filter.recipient() == null ? null : quoted(filter.recipient().toLowerCase(Locale.ROOT)));
        condition(sql, args, " and m.queued_at >= ?", timestamp(filter.since()));
        condition(sql, args, " and m.queued_at < ?", timestamp(filter.until()));
        if (filter.scheduledAfter() != null) {
            // Scheduled: QUEUED, so the range of a status index; send_at is matched inside it, as tag
            // and recipient are (a scheduled row is QUEUED until its time, and little else stays QUEUED).
            condition(sql, args, " and m.status = ?", filter.status() == null ? "QUEUED" : null);
            condition(sql, args, " and m.send_at > ?", timestamp(filter.scheduledAfter()));
        }
        ordered(sql, args, after, limit, newest);
        return sql.toString();
    }

    /** One page of dead letters: FAILED, not discarded, filtered, in (queued_at, id) order. */
    public List<DeadLetter> deadLetters(DeadLetterFilter filter, Cursor after, int limit) {
        StringBuilder sql = new StringBuilder("select " + LISTED + ", a.provider_id as attempt_provider,"
                + " a.code as attempt_code, a.reply as attempt_reply, a.started_at as attempt_at"
                + " from messages m left join delivery_attempts a"
                + " on a.id = (select max(d.id) from delivery_attempts d where d.message_id = m.id)"
                + " where m.status = 'FAILED' and m.discarded_at is null");
        List<Object> args = new ArrayList<>();
        deadLetterConditions(sql, args, filter);
        ordered(sql, args, after, limit);
        return jdbc.query(sql.toString(), (rs, n) -> new DeadLetter(listed(rs, n),
                rs.getString("attempt_provider"), rs.getString("attempt_code"), rs.getString("attempt_reply"),
                instant(rs.getTimestamp("attempt_at"))), args.toArray());
    }

    /**
     * The dead letters the filter names, grouped by reason and provider, largest group first, at
     * most {@code limit} groups and one more if more follow.
     */
    public List<DeadLetterGroup> deadLetterGroups(DeadLetterFilter filter, int limit) {
        String reason = "substring(m.last_error, 1, " + GROUP_REASON + ")";
        StringBuilder sql = new StringBuilder("select " + reason + " as reason, m.provider_id, count(*) as n,"
                + " min(m.updated_at) as first_failed, max(m.updated_at) as last_failed"
                + " from messages m where m.status = 'FAILED' and m.discarded_at is null");
        List<Object> args = new ArrayList<>();
        deadLetterConditions(sql, args, filter);
        sql.append(" group by ").append(reason).append(", m.provider_id order by n desc, reason, m.provider_id limit ?");
        args.add(limit + 1);
        return jdbc.query(sql.toString(), (rs, n) -> new DeadLetterGroup(rs.getString("reason"),
                rs.getString("provider_id"), rs.getLong("n"), instant(rs.getTimestamp("first_failed")),
                instant(rs.getTimestamp("last_failed"))), args.toArray());
    }

    /** How many dead letters the filter names. */
    public long countDeadLetters(DeadLetterFilter filter) {
        StringBuilder sql = new StringBuilder("select count(*) from messages m"
                + " where m.status = 'FAILED' and m.discarded_at is null");
        List<Object> args = new ArrayList<>();
        deadLetterConditions(sql, args, filter);
        Long count = jdbc.queryForObject(sql.toString(), Long.class, args.toArray());
        return count == null ? 0 : count;
    }

    /** The stored bytes of a message the scope may see (null scope: any); null when there is no such message. */
    public Raw raw(UUID id, String scope) {
        StringBuilder sql = new StringBuilder("select id, workspace_id, raw_mime, size_bytes from messages where id = ?");
        List<Object> args = new ArrayList<>(List.of(id));
        condition(sql, args, " and workspace_id = ?", scope);
        List<Raw> rows = jdbc.query(sql.toString(), (rs, n) -> {
            byte[] bytes = rs.getBytes("raw_mime");
            // Retention drops the MIME of old final messages: null, or emptied where the column must hold a value.
            boolean dropped = bytes == null || (bytes.length == 0 && rs.getInt("size_bytes") > 0);
            return new Raw(rs.getObject("id", UUID.class), rs.getString("workspace_id"), dropped ? null : bytes);
        }, args.toArray());
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** The WHERE conditions of a dead-letter filter, after {@code status = 'FAILED' and discarded_at is null}. */
    static void deadLetterConditions(StringBuilder sql, List<Object> args, DeadLetterFilter filter) {
        condition(sql, args, " and m.workspace_id = ?", filter.workspace());
        condition(sql, args, " and m.provider_id = ?", filter.provider());
        condition(sql, args, " and lower(m.last_error) like ? escape '\\'",
                filter.reason() == null ? null : "%" + like(filter.reason().toLowerCase(Locale.ROOT)) + "%");
        condition(sql, args, " and m.updated_at >= ?", timestamp(filter.since()));
        condition(sql, args, " and m.updated_at < ?", timestamp(filter.until()));
        condition(sql, args, " and m.email_type = ?", filter.emailType());
        if (filter.ids() != null) {
            if (filter.ids().isEmpty()) {
                sql.append(" and 1 = 0");
            } else {
                sql.append(" and m.id in (").append(String.join(", ", Collections.nCopies(filter.ids().size(),
                        "?"))).append(")");
                args.addAll(filter.ids());
            }
        }
    }

    /** Pages after the cursor, in (queued_at, id) order, limit + 1 rows. */
    private static void ordered(StringBuilder sql, List<Object> args, Cursor after, int limit) {
        ordered(sql, args, after, limit, false);
    }

    /** The same, or newest first: the rows before the cursor, in descending (queued_at, id) order. */
    private static void ordered(StringBuilder sql, List<Object> args, Cursor after, int limit, boolean newest) {
        if (after != null) {
            // A row-value comparison: one range of the (…, queued_at, id) index on PostgreSQL.
            sql.append(newest ? " and (m.queued_at, m.id) < (?, ?)" : " and (m.queued_at, m.id) > (?, ?)");
            args.add(Timestamp.from(after.queuedAt()));
            args.add(after.id());
        }
        sql.append(newest ? " order by m.queued_at desc, m.id desc limit ?" : " order by m.queued_at, m.id limit ?");
        args.add(limit + 1);
    }

    private Listed listed(ResultSet rs, int rowNum) throws SQLException {
        return new Listed(rs.getObject("id", UUID.class), rs.getString("workspace_id"), rs.getString("email_type"),
                rs.getString("status"), rs.getString("from_addr"), rs.getString("recipients"), rs.getString("subject"),
                rs.getInt("size_bytes"), rs.getString("tags"), rs.getString("campaign_id"), rs.getInt("attempts"),
                rs.getString("provider_id"), rs.getString("last_error"), instant(rs.getTimestamp("queued_at")),
                instant(rs.getTimestamp("next_attempt_at")), instant(rs.getTimestamp("sent_at")),
                instant(rs.getTimestamp("updated_at")), instant(rs.getTimestamp("send_at")),
                rs.getInt("priority"));
    }

    /** A LIKE pattern matching the value as one element of a JSON array of strings, exactly. */
    static String quoted(String value) {
        return "%" + like(Json.write(value)) + "%";
    }

    private static String like(String value) {
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    static void condition(StringBuilder sql, List<Object> args, String clause, Object value) {
        if (value != null) {
            sql.append(clause);
            args.add(value);
        }
    }

    private static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
