package com.mailrelay.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Caller;
import com.mailrelay.api.Callers;
import com.mailrelay.message.Json;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The audit log: every admin and tenant configuration action (workspaces, keys, SMTP users, route
 * upload and reload, replay, discard, pause), recorded after it succeeded, as the last step before a
 * route answers:
 * <pre>
 *   // optional, set by the bean that changed it: exchange property Audited.CHANGE (what changed),
 *   // Audited.WORKSPACE (the workspace acted on), Audited.TARGET (when the target is not an argument)
 *   .bean("auditLog", "record(*, 'queue.pause', ${header.workspace})")
 * </pre>
 * Who is the {@link Caller} of the request (its address included); what is the action and its
 * target; the change is written as JSON with every value under a secret-looking name (password,
 * secret, key, token, hash, authorization) replaced — an audit log is read by more people than the
 * keys it describes. The workspace is the target's, taken from the property {@link Audited#WORKSPACE} or
 * else the caller's.
 */
@Component("auditLog")
public class AuditLog {

    static final String REDACTED = "[redacted]";

    private static final Pattern SECRET = Pattern.compile(
            ".*(password|secret|key|token|hash|authorization|credential).*");
    private static final int MAX_CHANGE = 8000;

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

    private final JdbcTemplate jdbc;

    public AuditLog(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Records an action of the request's caller on target; the change is the property {@link Audited#CHANGE}. */
    public void record(Exchange exchange, String action, String target) {
        Caller caller = Callers.caller(exchange);
        String workspace = exchange.getProperty(Audited.WORKSPACE, String.class);
        String named = target != null ? target : exchange.getProperty(Audited.TARGET, String.class);
        record(caller, action, workspace != null ? workspace : caller.workspace(), named,
                exchange.getProperty(Audited.CHANGE));
    }

    /** Records an action outside a request (e.g. {@link Caller#RELAY} applying application.yml). */
    public void record(Caller caller, String action, String workspace, String target, Object change) {
        String json = change == null ? null : Json.write(redact(Json.plain(change)));
        if (json != null && json.length() > MAX_CHANGE) {
            json = Json.write(Map.of("truncated", true, "length", json.length()));
        }
        jdbc.update("insert into audit_log (at, actor, remote_address, action, workspace_id, target, change_json)"
                        + " values (?, ?, ?, ?, ?, ?, ?)",
                Timestamp.from(Instant.now()), cut(caller.actor(), 200), caller.remoteAddress(), cut(action, 64),
                workspace, cut(target, 256), json);
        log.info("audit: {} {} {}{} from {}", caller.actor(), action, workspace == null ? "" : workspace + " ",
                target == null ? "" : target, caller.remoteAddress() == null ? "the relay" : caller.remoteAddress());
    }

    /** The value with every entry under a secret-looking name replaced, at any depth. */
    static Object redact(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((name, inner) -> out.put(String.valueOf(name),
                    secret(String.valueOf(name)) && inner != null ? REDACTED : redact(inner)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(AuditLog::redact).toList();
        }
        return value;
    }

    private static boolean secret(String name) {
        return SECRET.matcher(name.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "")).matches();
    }

    private static String cut(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
