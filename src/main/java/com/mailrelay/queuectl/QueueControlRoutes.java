package com.mailrelay.queuectl;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * Queue control and usage, for operators and tenants:
 * <ul>
 *   <li>{@code GET /api/v1/queue/pauses}, {@code POST /api/v1/queue/pause},
 *       {@code POST /api/v1/queue/resume} ({@link QueuePauses}): pause and resume delivery of a
 *       workspace and/or email type; accepting goes on. Audited (queue.pause, queue.resume).</li>
 *   <li>{@code GET /api/v1/stats} ({@link QueueStats}): events and messages over time buckets, the
 *       queue now.</li>
 *   <li>{@code GET /api/v1/usage}, {@code GET /api/v1/rate-limit} and the seed's
 *       {@code GET /api/rate-limit} ({@link Usage}): rate-limit usage against the limits.</li>
 *   <li>{@code queue-pauses-gauge}: relay_queue_paused, read every few seconds on every instance.</li>
 * </ul>
 * A workspace key sees and pauses its own workspace; the admin key any, or every one.
 */
@Component
public class QueueControlRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/queue")
                .get("/pauses").id("rest-list-queue-pauses").produces("application/json")
                    .description("The delivery pauses the key may see: every one for an admin key, those holding back"
                            + " its own workspace's mail for a workspace key")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("Only the pauses that hold back this workspace's mail (its own and '*')")
                    .endParam()
                    .outType(QueuePauses.Pauses.class)
                    .responseMessage().code(400).message("A parameter is invalid").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(403).message("A workspace key asked for another workspace")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:queue-pauses-list")
                .post("/pause").id("rest-queue-pause")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Pauses delivery of a workspace ('*': every one, admin key only) and email type"
                            + " ('*' or absent: every type); accepting goes on and the mail waits QUEUED. Body:"
                            + " {\"workspace\", \"email_type\", \"reason\"}")
                    .outType(PauseView.class)
                    .responseMessage().code(400).message("A field is invalid (named)").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(403).message("A workspace key named another workspace, or '*'")
                    .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(409).message("The workspace is disabled: its pause is its state")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:queue-pause")
                .post("/resume").id("rest-queue-resume")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Deletes the pause the body names ({\"workspace\", \"email_type\"}); its mail is"
                            + " claimable at once unless another pause still covers it (listed in still_paused)")
                    .outType(QueuePauses.Resumed.class)
                    .responseMessage().code(400).message("A field is invalid (named)").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(403).message("A workspace key named another workspace, or '*'")
                    .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(404).message("No such pause").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(409).message("The workspace is disabled: enable it to resume")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:queue-resume");

        rest("/api/v1")
                .get("/stats").id("rest-get-stats").produces("application/json")
                    .description("Sent, deferred, failed, bounced, rejected, opened and clicked over minute, hour or"
                            + " day buckets (UTC), messages accepted in the window by status, and the queue now")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("One workspace (an admin key; a workspace key sees its own only)").endParam()
                    .param().name("since").type(RestParamType.query).dataType("string").required(false)
                        .description("Start of the window, RFC 3339 (default: until - 1 day with hour buckets,"
                                + " - 1 hour with minute buckets, - 7 days with day buckets)").endParam()
                    .param().name("until").type(RestParamType.query).dataType("string").required(false)
                        .description("End of the window, RFC 3339, exclusive (default: now); at most 6 hours after"
                                + " since with minute buckets, 7 days with hour buckets, 31 with day buckets").endParam()
                    .param().name("bucket").type(RestParamType.query).dataType("string").required(false)
                        .description("minute, hour (default) or day").endParam()
                    .param().name("group_by").type(RestParamType.query).dataType("string").required(false)
                        .description("Comma-separated: workspace, email_type, provider, campaign").endParam()
                    .outType(QueueStats.StatsView.class)
                    .responseMessage().code(400).message("A parameter is invalid (named)")
                    .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(403).message("A workspace key asked for another workspace")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:stats-get")
                .get("/usage").id("rest-get-usage").produces("application/json")
                    .description("Rate-limit usage per workspace and per user against the limits, in the current"
                            + " window, and today's sends")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("One workspace (an admin key; a workspace key sees its own only)").endParam()
                    .outType(Usage.UsageView.class)
                    .responseMessage().code(400).message("A parameter is invalid (named)")
                    .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(403).message("A workspace key asked for another workspace")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:usage-get");
        rateLimitVerb(rest("/api/v1"), "rest-get-rate-limit-v1");

        // The relay we replace answered here; its runbook's "check current usage" keeps working.
        rateLimitVerb(rest("/api"), "rest-get-rate-limit");

        from("direct:queue-pauses-list").routeId("queue-pauses-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("queuePauses", "list")
                .bean("restResponses", "reply(*, 200)");

        from("direct:queue-pause").routeId("queue-pause").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("queuePauses", "pause")
                .bean("queuePausedGauge", "refresh")
                .bean("auditLog", "record(*, 'queue.pause', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:queue-resume").routeId("queue-resume").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("queuePauses", "resume")
                .bean("queuePausedGauge", "refresh")
                .bean("auditLog", "record(*, 'queue.resume', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:stats-get").routeId("stats-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("queueStats", "stats")
                .bean("restResponses", "reply(*, 200)");

        from("direct:usage-get").routeId("usage-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("usage", "usage")
                .bean("restResponses", "reply(*, 200)");

        from("direct:rate-limit-get").routeId("rate-limit-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("usage", "rateLimit")
                .bean("restResponses", "reply(*, 200)");

        // A pause made on any instance shows in every instance's relay_queue_paused within seconds.
        from("timer:queue-pauses-gauge?delay=1000&period=2000").routeId("queue-pauses-gauge")
                .bean("queuePausedGauge", "refresh");
    }

    /** GET {base}/rate-limit: the same answer under the seed's path and under /api/v1. */
    private static void rateLimitVerb(RestDefinition base, String id) {
        base.get("/rate-limit").id(id).produces("application/json")
                .description("Rate-limit usage in the shape the relay it replaces answered at GET /api/rate-limit")
                .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                    .description("One workspace (an admin key; a workspace key sees its own only)").endParam()
                .responseMessage().code(200).message("{total_sent_today, workspace_count, workspaces: {<id>:"
                        + " {sent, limit, used, window_seconds, resets_at, users}}}").endResponseMessage()
                .responseMessage().code(403).message("A workspace key asked for another workspace")
                .responseModel(ApiError.class).endResponseMessage()
                .to("direct:rate-limit-get");
    }
}
