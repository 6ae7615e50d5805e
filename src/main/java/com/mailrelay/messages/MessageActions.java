package com.mailrelay.messages;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Caller;
import com.mailrelay.api.Callers;
import com.mailrelay.store.MessageOperations;
import com.mailrelay.store.MessageOperations.Outcome;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * {@code DELETE /api/v1/messages/{id}} (cancel a QUEUED or DEFERRED message) and
 * {@code POST /api/v1/messages/{id}/retry} (a DEFERRED message due now): each returns the
 * {@link Outcome} of its one conditional update (store/MessageOperations), and the route answers
 * it: {@link #done} when it changed the message, {@link #refuse} (404, 409, 410) when it did not.
 * A workspace key acts on its own workspace's messages, an admin key on any.
 */
@Component("messageActions")
public class MessageActions {

    private final MessageOperations operations;
    private final Callers callers;

    public MessageActions(MessageOperations operations, Callers callers) {
        this.operations = operations;
        this.callers = callers;
    }

    /** What an action did to one message. */
    public record Result(String id, String action, String status, String previousStatus) {
    }

    public Outcome cancel(Exchange exchange, @Header("id") String id) {
        return operations.cancel(uuid(id), callers.scope(exchange, null), Callers.caller(exchange).actor());
    }

    public Outcome retry(Exchange exchange, @Header("id") String id) {
        return operations.retryNow(uuid(id), callers.scope(exchange, null), Callers.caller(exchange).actor());
    }

    /**
     * The answer of an action that changed the message ({@code action}: cancel, retry, replay,
     * discard), leaving what the audit step records: the change, and the workspace when an admin acted.
     */
    public Result done(Exchange exchange, Outcome outcome, @Header("id") String id, String action) {
        String status = switch (action) {
            case "cancel" -> "CANCELLED";
            case "replay" -> "QUEUED";
            default -> outcome.found();   // retry: still DEFERRED, due now; discard: still FAILED
        };
        Caller caller = Callers.caller(exchange);
        if (caller.admin()) {
            exchange.setProperty(Audited.WORKSPACE, outcome.workspace());
        }
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("count", 1);
        change.put("previous_status", outcome.found());
        Object reason = exchange.getProperty(DeadLetters.DISCARD_REASON);
        if (reason != null) {
            change.put("discard_reason", reason);
        }
        exchange.setProperty(Audited.CHANGE, change);
        return new Result(id.trim(), action, status, outcome.found());
    }

    /** Why an action changed nothing: no such message (404), its MIME gone (410), or its status (409). */
    public void refuse(Outcome outcome, @Header("id") String id, String action) {
        String what = switch (action) {
            case "cancel" -> "only a QUEUED or DEFERRED message can be cancelled";
            case "retry" -> "only a DEFERRED message can be retried now (a QUEUED one is due already)";
            default -> "only a dead letter (a FAILED message not discarded) can be " + action + "ed";
        };
        if (outcome.found() == null) {
            throw new MessageNotFoundException("no message with id " + id + " that this key may see");
        }
        if ("FAILED".equals(outcome.found()) && outcome.discarded()) {
            throw new MessageStateException("message " + id + " is a discarded dead letter: " + what);
        }
        if ("replay".equals(action) && "FAILED".equals(outcome.found()) && outcome.mimeDropped()) {
            throw new MimeDroppedException("message " + id + " cannot be replayed: its stored MIME was dropped by"
                    + " retention (relay.retention.raw-mime)");
        }
        throw new MessageStateException("message " + id + " is " + outcome.found() + ": " + what);
    }

    /** The id of the path; one that is no UUID names no message. */
    static UUID uuid(String id) {
        return MessageLookup.parseId(id == null ? null : id.trim())
                .orElseThrow(() -> new MessageNotFoundException("no message with id " + id + " that this key may see"));
    }
}
