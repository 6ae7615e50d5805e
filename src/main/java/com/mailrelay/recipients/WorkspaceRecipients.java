package com.mailrelay.recipients;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.store.Suppressions;
import com.mailrelay.tenants.NotFoundException;
import com.mailrelay.workspace.WorkspaceStore;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A workspace's recipient list as the admin API reads it ({@code /api/v1/workspaces/{id}/recipients}):
 * by address a page at a time, searched by the text an address contains and filtered by status
 * ({@code SUPPRESSED}: any but ACTIVE). A workspace key reaches its own workspace, the admin key any.
 * {@link WorkspaceRecipientRoutes} decides what is answered.
 */
@Component("workspaceRecipients")
public class WorkspaceRecipients {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 1000;
    static final Set<String> STATUSES = Set.of("ACTIVE", "BOUNCED", "UNSUBSCRIBED", "COMPLAINED", "SUPPRESSED");

    private final JdbcTemplate jdbc;
    private final WorkspaceStore store;
    private final Callers callers;

    public WorkspaceRecipients(JdbcTemplate jdbc, WorkspaceStore store, Callers callers) {
        this.jdbc = jdbc;
        this.store = store;
        this.callers = callers;
    }

    /** The page of recipients and the cursor of the next one (null on the last). */
    public record RecipientPage(List<Suppressions.Recipient> recipients, String nextCursor) {
    }

    /**
     * The {id} of the path as the workspace the request works on: a workspace key's own (403 for
     * another), any for the admin key; 404 when there is none of that id. It is also the workspace
     * of the audit entry.
     */
    public String workspace(Exchange exchange, @Header("id") String id) {
        String scoped = callers.scope(exchange, id);
        if (scoped == null || store.workspace(scoped) == null) {
            throw new NotFoundException("no workspace has the id " + id);
        }
        exchange.setProperty(Audited.WORKSPACE, scoped);
        return scoped;
    }

    /** GET: {@code ?status=&q=&cursor=&limit=}, by address. */
    public RecipientPage list(@Header(RelayHeaders.WORKSPACE) String workspace, @Header("status") String statusParam,
                              @Header("q") String queryParam, @Header("cursor") String cursorParam,
                              @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        String status = q.oneOf("status", statusParam, STATUSES);
        String contains = q.text("q", queryParam, 320);
        String after = q.textCursor("cursor", cursorParam);
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        q.check();
        StringBuilder sql = new StringBuilder("select email, status, bounce_count, last_bounce_at, reason, first_name,"
                + " last_name, updated_at from recipients where workspace_id = ?");
        List<Object> args = new ArrayList<>(List.of(workspace));
        if ("SUPPRESSED".equals(status)) {
            sql.append(" and status <> 'ACTIVE'");
        } else if (status != null) {
            sql.append(" and status = ?");
            args.add(status);
        }
        if (contains != null && !contains.isBlank()) {
            sql.append(" and lower(email) like ? escape '!'");
            args.add("%" + like(contains.trim().toLowerCase(Locale.ROOT)) + "%");
        }
        if (after != null) {
            sql.append(" and email > ?");
            args.add(after);
        }
        sql.append(" order by email limit ?");
        args.add(limit + 1);
        List<Suppressions.Recipient> rows = jdbc.query(sql.toString(), (row, n) -> new Suppressions.Recipient(
                row.getString("email"), row.getString("status"), row.getInt("bounce_count"),
                row.getTimestamp("last_bounce_at"), row.getString("reason"), row.getString("first_name"),
                row.getString("last_name"), row.getTimestamp("updated_at")), args.toArray());
        List<Suppressions.Recipient> page = rows.stream().limit(limit).toList();
        String next = rows.size() > limit ? QueryParameters.textCursorOf(page.get(limit - 1).email()) : null;
        return new RecipientPage(page, next);
    }

    /** After a PUT: the audit entry's target (the address) and change (its status and reason now). */
    public void audited(Exchange exchange, Suppressions.Recipient recipient) {
        exchange.setProperty(Audited.TARGET, recipient.email());
        exchange.setProperty(Audited.CHANGE, Map.of("status", recipient.status(),
                "reason", recipient.reason() == null ? "" : recipient.reason()));
    }

    private static String like(String text) {
        return text.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }
}
