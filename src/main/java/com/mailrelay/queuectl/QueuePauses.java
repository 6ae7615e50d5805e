package com.mailrelay.queuectl;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.api.Audited;
import com.mailrelay.api.Caller;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Pauses and resumes delivery per workspace and/or email type: rows of queue_pauses, which the
 * claim (store/QueueStore) and the Kafka queue's intake (queue/QueueIntake) read in their own
 * queries, so that a pause holds on every instance from its commit on. Accepting is not touched:
 * paused mail waits QUEUED (or DEFERRED) and is claimed at once when its pause is deleted.
 * <p>
 * An admin key pauses any workspace, or every one ('*'); a workspace key only its own. The row a
 * disabled workspace has (reason {@value #WORKSPACE_DISABLED}) is the workspace's state, not an
 * operator's pause: it can be neither replaced nor resumed here (409).
 */
@Component("queuePauses")
public class QueuePauses {

    public static final String EVERY = "*";
    public static final String WORKSPACE_DISABLED = "workspace disabled";

    private static final Logger log = LoggerFactory.getLogger(QueuePauses.class);
    private static final List<String> TYPES = Arrays.stream(EmailType.values()).map(EmailType::id).toList();

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final ObjectMapper json;
    private final Clock clock;
    private final Callers callers;
    private final Workspaces workspaces;

    public QueuePauses(JdbcTemplate jdbc, TransactionTemplate transaction, ObjectMapper json, Clock clock,
                       Callers callers, Workspaces workspaces) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.json = json;
        this.clock = clock;
        this.callers = callers;
        this.workspaces = workspaces;
    }

    /** The listing's answer: {@code {"pauses": [...]}}. */
    public record Pauses(List<PauseView> pauses) {
    }

    /** What a resume answers: the pause it deleted, and those that still hold the same mail back. */
    public record Resumed(PauseView resumed, List<PauseView> stillPaused) {
    }

    /**
     * The pauses the caller may see: every one for an admin key (or those that hold back the
     * {@code ?workspace=} it names), those that hold back its own workspace's mail for a workspace
     * key (its own rows and the '*' ones).
     */
    public Pauses list(Exchange exchange, @Header("workspace") String workspaceParam) {
        QueryParameters q = new QueryParameters();
        String requested = q.text("workspace", workspaceParam, 128);
        q.check();
        String scope = callers.scope(exchange, requested);
        List<PauseView> rows = scope == null
                ? jdbc.query("select * from queue_pauses order by workspace_id, email_type", QueuePauses::view)
                : jdbc.query("select * from queue_pauses where workspace_id in (?, '*') order by workspace_id,"
                        + " email_type", QueuePauses::view, scope);
        return new Pauses(rows);
    }

    /**
     * Pauses delivery of {@code {"workspace", "email_type", "reason"}} (email_type absent: every
     * type; workspace absent: the caller's own — an admin key must name one, or '*'). Pausing what
     * is paused already replaces its reason, author and time.
     */
    public PauseView pause(Exchange exchange, @Body String requestBody) {
        Request request = request(exchange, requestBody);
        Caller caller = Callers.caller(exchange);
        Timestamp now = Timestamp.from(clock.instant());
        PauseView pause = transaction.execute(tx -> {
            int inserted = jdbc.update("""
                    insert into queue_pauses (workspace_id, email_type, reason, paused_by, paused_at)
                    values (?, ?, ?, ?, ?) on conflict do nothing""",
                    request.workspace(), request.emailType(), request.reason(), caller.actor(), now);
            if (inserted == 0) {
                refuseDisabled(request, "pause");
                jdbc.update("""
                        update queue_pauses set reason = ?, paused_by = ?, paused_at = ?
                         where workspace_id = ? and email_type = ?""",
                        request.reason(), caller.actor(), now, request.workspace(), request.emailType());
            }
            return find(request.workspace(), request.emailType());
        });
        log.info("delivery paused: workspace={} type={} by {} ({})", request.workspace(), request.emailType(),
                caller.actor(), request.reason());
        audited(exchange, request, Map.of("email_type", request.emailType(),
                "reason", request.reason() == null ? "" : request.reason()));
        return pause;
    }

    /**
     * Deletes exactly the pause {@code {"workspace", "email_type"}} names (404 when there is none);
     * the mail it held is claimable at once — unless another pause (its workspace's '*', a '*'
     * workspace) still covers it: the answer lists those.
     */
    public Resumed resume(Exchange exchange, @Body String requestBody) {
        Request request = request(exchange, requestBody);
        Caller caller = Callers.caller(exchange);
        PauseView resumed = transaction.execute(tx -> {
            PauseView existing = find(request.workspace(), request.emailType());
            if (existing == null) {
                throw new PauseNotFoundException("delivery of workspace " + request.workspace() + " type "
                        + request.emailType() + " is not paused (GET /api/v1/queue/pauses lists the pauses)");
            }
            refuseDisabled(request, "resume");
            jdbc.update("delete from queue_pauses where workspace_id = ? and email_type = ?", request.workspace(),
                    request.emailType());
            return existing;
        });
        List<PauseView> still = jdbc.query("""
                select * from queue_pauses
                 where workspace_id in (?, '*') and email_type in (?, '*')
                 order by workspace_id, email_type""", QueuePauses::view,
                request.workspace(), request.emailType());
        log.info("delivery resumed: workspace={} type={} by {}{}", request.workspace(), request.emailType(),
                caller.actor(), still.isEmpty() ? "" : " (still held back by " + still.size() + " other pause(s))");
        audited(exchange, request, Map.of("email_type", request.emailType(), "paused_by", resumed.pausedBy()));
        return new Resumed(resumed, still);
    }

    private void audited(Exchange exchange, Request request, Map<String, Object> change) {
        exchange.setProperty(Audited.WORKSPACE, EVERY.equals(request.workspace()) ? null : request.workspace());
        exchange.setProperty(Audited.TARGET, request.workspace() + "/" + request.emailType());
        exchange.setProperty(Audited.CHANGE, new LinkedHashMap<>(change));
    }

    private void refuseDisabled(Request request, String verb) {
        PauseView existing = find(request.workspace(), request.emailType());
        if (existing != null && WORKSPACE_DISABLED.equals(existing.reason())) {
            throw new PauseConflictException("workspace " + request.workspace() + " is disabled: its pause cannot be"
                    + " " + verb + "d here; enabling the workspace resumes it");
        }
    }

    private PauseView find(String workspace, String emailType) {
        List<PauseView> rows = jdbc.query("select * from queue_pauses where workspace_id = ? and email_type = ?",
                QueuePauses::view, workspace, emailType);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** A pause or resume request, checked: every invalid field named at once. */
    private record Request(String workspace, String emailType, String reason) {
    }

    private Request request(Exchange exchange, String requestBody) {
        JsonNode body;
        try {
            body = requestBody == null || requestBody.isBlank() ? json.createObjectNode() : json.readTree(requestBody);
        } catch (Exception e) {
            throw new ValidationException(List.of(new FieldError("body", "malformed JSON")));
        }
        if (body == null || !body.isObject()) {
            throw new ValidationException(List.of(new FieldError("body", "must be a JSON object")));
        }
        List<FieldError> errors = new ArrayList<>();
        String workspace = text(body, "workspace", 128, errors);
        String emailType = text(body, "email_type", 32, errors);
        String reason = text(body, "reason", 500, errors);
        if (emailType == null) {
            emailType = EVERY;
        } else if (!EVERY.equals(emailType) && !TYPES.contains(emailType)) {
            errors.add(new FieldError("email_type", "must be one of " + TYPES + " or '*' (every type)"));
        }
        Caller caller = Callers.caller(exchange);
        if (workspace == null && caller.admin() && errors.stream().noneMatch(e -> e.field().equals("workspace"))) {
            errors.add(new FieldError("workspace", "is required with an admin key: a workspace, or '*' for every"
                    + " workspace"));
        } else if (workspace != null && !EVERY.equals(workspace) && caller.admin()
                && workspaces.find(workspace).isEmpty()) {
            errors.add(new FieldError("workspace", "no workspace '" + workspace + "' is configured"));
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        // A workspace key: its own (another, or '*', is 403).
        String scoped = EVERY.equals(workspace) && caller.admin() ? EVERY : callers.scope(exchange, workspace);
        return new Request(scoped, emailType, reason);
    }

    private static String text(JsonNode body, String field, int max, List<FieldError> errors) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        String value = node.asText().trim();
        if (value.isEmpty()) {
            return null;
        }
        if (value.length() > max || value.chars().anyMatch(Character::isISOControl)) {
            errors.add(new FieldError(field, "must be at most " + max + " characters, without control characters"));
            return null;
        }
        return value;
    }

    private static PauseView view(java.sql.ResultSet row, int rowNum) throws java.sql.SQLException {
        return new PauseView(row.getString("workspace_id"), row.getString("email_type"), row.getString("reason"),
                row.getString("paused_by"), row.getTimestamp("paused_at").toInstant());
    }
}
