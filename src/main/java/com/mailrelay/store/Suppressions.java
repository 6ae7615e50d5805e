package com.mailrelay.store;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.RecipientNames;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The per-workspace recipient list, keyed by {@link Addresses#key}: every spelling of an address
 * (quoted local part, upper case, Unicode or punycode domain) finds the same row. Callers run inside their own transaction (accept, outcome),
 * so a suppression and the state change that caused it commit together.
 */
@Component
public class Suppressions {

    public enum Status { ACTIVE, BOUNCED, UNSUBSCRIBED, COMPLAINED }

    public record Recipient(String email, String status, int bounceCount, Timestamp lastBounceAt, String reason,
                            String firstName, String lastName, Timestamp updatedAt) {
    }

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;
    private final Clock clock;

    public Suppressions(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.clock = clock;
    }

    /** A submission's recipients split by the suppression list. */
    public record Envelope(List<String> recipients, List<String> rejected) {
    }

    /** Who of these recipients is sent to, and who is rejected (suppressed), in their order. */
    public Envelope envelope(String workspace, List<String> addresses) {
        Set<String> suppressed = suppressed(workspace, addresses);
        List<String> recipients = addresses.stream()
                .filter(address -> !suppressed.contains(Addresses.key(address))).toList();
        List<String> rejected = addresses.stream()
                .filter(address -> suppressed.contains(Addresses.key(address))).toList();
        return new Envelope(recipients, rejected);
    }

    /** Which of these addresses the workspace must not send to. */
    public Set<String> suppressed(String workspace, Collection<String> addresses) {
        if (addresses.isEmpty()) {
            return Set.of();
        }
        List<String> lower = addresses.stream().map(Addresses::key).toList();
        return new HashSet<>(named.queryForList("""
                select email from recipients
                 where workspace_id = :workspace and email in (:emails) and status <> 'ACTIVE'""",
                Map.of("workspace", workspace, "emails", lower), String.class));
    }

    /** A hard bounce: the address is suppressed and its bounce counted. */
    public void bounced(String workspace, String address, String reason) {
        Timestamp now = Timestamp.from(clock.instant());
        String email = Addresses.key(address);
        // Insert-if-absent first, so that two bounces for a new address at once cannot both insert.
        ensure(workspace, email, now);
        jdbc.update("""
                update recipients set status = 'BOUNCED', bounce_count = bounce_count + 1, last_bounce_at = ?,
                                      reason = ?, updated_at = ?
                 where workspace_id = ? and email = ?""", now, reason, now, workspace, email);
    }

    /** Sets a recipient's status by hand (the API): ACTIVE lifts a suppression. */
    public Recipient set(String workspace, String address, Status status, String reason) {
        Timestamp now = Timestamp.from(clock.instant());
        String email = Addresses.key(address);
        ensure(workspace, email, now);
        jdbc.update("update recipients set status = ?, reason = ?, updated_at = ? where workspace_id = ? and email = ?",
                status.name(), reason, now, workspace, email);
        return find(workspace, email).orElseThrow();
    }

    /** Sets a recipient's names (the API), for {{FIRST_NAME}} and {{LAST_NAME}}; a null leaves one as it is. */
    public void name(String workspace, String address, String firstName, String lastName) {
        Timestamp now = Timestamp.from(clock.instant());
        String email = Addresses.key(address);
        ensure(workspace, email, now);
        jdbc.update("""
                update recipients set first_name = coalesce(cast(? as varchar(255)), first_name),
                                      last_name = coalesce(cast(? as varchar(255)), last_name),
                                      updated_at = ?
                 where workspace_id = ? and email = ?""", firstName, lastName, now, workspace, email);
    }

    /**
     * The recipient asked to unsubscribe. Only an ACTIVE recipient changes (a bounced or
     * complaining one stays suppressed as it is), so asking again changes nothing.
     *
     * @return whether the recipient was unsubscribed now (false: it was suppressed already)
     */
    public boolean unsubscribe(String workspace, String address, String reason) {
        Timestamp now = Timestamp.from(clock.instant());
        String email = Addresses.key(address);
        ensure(workspace, email, now);
        return jdbc.update("""
                update recipients set status = 'UNSUBSCRIBED', reason = ?, updated_at = ?
                 where workspace_id = ? and email = ? and status = 'ACTIVE'""", reason, now, workspace, email) == 1;
    }

    /** The names on record for these addresses, by {@link Addresses#key} (addresses without any are left out). */
    public Map<String, RecipientNames> names(String workspace, Collection<String> addresses) {
        List<String> lower = addresses.stream().map(Addresses::key).toList();
        Map<String, RecipientNames> names = new HashMap<>();
        named.query("""
                select email, first_name, last_name from recipients
                 where workspace_id = :workspace and email in (:emails)
                   and (first_name is not null or last_name is not null)""",
                Map.of("workspace", workspace, "emails", lower), row -> {
                    names.put(row.getString("email"),
                            new RecipientNames(row.getString("first_name"), row.getString("last_name")));
                });
        return names;
    }

    private void ensure(String workspace, String email, Timestamp now) {
        jdbc.update("""
                insert into recipients (workspace_id, email, status, updated_at) values (?, ?, 'ACTIVE', ?)
                on conflict do nothing""", workspace, email, now);
    }

    public Optional<Recipient> find(String workspace, String address) {
        return jdbc.query("""
                select email, status, bounce_count, last_bounce_at, reason, first_name, last_name, updated_at
                  from recipients
                 where workspace_id = ? and email = ?""", (row, n) -> recipient(row),
                workspace, Addresses.key(address)).stream().findFirst();
    }

    public List<Recipient> list(String workspace, String status, int limit) {
        String select = "select email, status, bounce_count, last_bounce_at, reason, first_name, last_name, updated_at"
                + " from recipients"
                + " where workspace_id = ?";
        if (status == null) {
            return jdbc.query(select + " order by email limit ?", (row, n) -> recipient(row), workspace, limit);
        }
        return jdbc.query(select + " and status = ? order by email limit ?", (row, n) -> recipient(row),
                workspace, status, limit);
    }

    private static Recipient recipient(java.sql.ResultSet row) throws java.sql.SQLException {
        return new Recipient(row.getString("email"), row.getString("status"), row.getInt("bounce_count"),
                row.getTimestamp("last_bounce_at"), row.getString("reason"), row.getString("first_name"),
                row.getString("last_name"), row.getTimestamp("updated_at"));
    }
}
