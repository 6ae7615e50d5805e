package com.mailrelay.retention;

import java.util.Map;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * The API's steps of retention: {@code GET /api/v1/retention} (the dry run, for the workspaces the
 * key sees) and {@code POST /api/v1/retention/run} (admin: run now, the counts left for the audit).
 */
@Component("retentionRequests")
public class RetentionRequests {

    private final Retention retention;
    private final Callers callers;

    public RetentionRequests(Retention retention, Callers callers) {
        this.retention = retention;
        this.callers = callers;
    }

    /** What the next run would drop and delete: a workspace key's own workspace, an admin's named one or all. */
    public RetentionReport preview(Exchange exchange, @Header("workspace") String workspaceParam) {
        return retention.preview(scope(exchange, workspaceParam));
    }

    /** Runs retention now (in the named workspace, or everywhere) and leaves its counts for the audit step. */
    public RetentionReport run(Exchange exchange, @Header("workspace") String workspaceParam) {
        String scope = scope(exchange, workspaceParam);
        RetentionReport report = retention.run(scope);
        @SuppressWarnings("unchecked")
        Map<String, Object> total = (Map<String, Object>) Json.plain(report.total());
        exchange.setProperty(Audited.CHANGE, total);
        exchange.setProperty(Audited.WORKSPACE, scope);
        exchange.setProperty(Audited.TARGET, scope == null ? "*" : scope);
        return report;
    }

    private String scope(Exchange exchange, String workspaceParam) {
        QueryParameters q = new QueryParameters();
        String workspace = q.text("workspace", workspaceParam, 64);
        q.check();
        return callers.scope(exchange, workspace);
    }
}
