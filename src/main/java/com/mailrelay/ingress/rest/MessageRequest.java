package com.mailrelay.ingress.rest;

import java.util.List;
import java.util.Map;

/** The JSON body of {@code POST /api/v1/messages} (snake_case on the wire). */
public record MessageRequest(
        String from,
        List<String> to,
        List<String> cc,
        List<String> bcc,
        String replyTo,
        String subject,
        String text,
        String html,
        Map<String, String> headers,
        List<Attachment> attachments,
        String type,
        List<String> tags,
        Map<String, Object> metadata,
        String campaignId,
        String userId,
        // {{NAME}} values: strings only, checked by the parser so that each error names its field
        Map<String, Object> variables,
        Map<String, Object> recipientVariables,
        // a provider id, for a workspace with provider-override: this message goes there only
        String provider,
        // RFC 3339 with an offset or Z: held QUEUED until then (at most relay.scheduling.horizon ahead)
        String sendAt,
        // critical, high, normal or low: overrides the email type's level, up to the workspace's bound
        String priority,
        // a stored template (templates/) rendered per recipient instead of subject, text and html
        TemplateRef template,
        TemplateData templateData) {

    public record Attachment(String filename, String contentType, String content) {
    }

    /** A stored template by name; its latest version unless one is named. */
    public record TemplateRef(String name, Integer version) {
    }

    /** The template's data: for every recipient, and per recipient (by address) over it. */
    public record TemplateData(Map<String, Object> global, Map<String, Object> recipients) {
    }
}
