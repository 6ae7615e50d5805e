package com.mailrelay.ingress.rest;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.AdditionalPropertiesValue;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/**
 * The body of {@code POST /api/v1/messages} as the OpenAPI document shows it: the components of
 * {@link MessageRequest} (a test holds them equal) with the checks of {@link RestSubmissionParser}
 * that a schema can state — required fields, lengths, no line breaks, the email types, and no
 * unknown field. The parser still checks everything itself, so that each error names its field;
 * a single value where a list is shown is taken as a list of one.
 */
@Schema(name = "MessageRequest", additionalProperties = AdditionalPropertiesValue.FALSE,
        requiredProperties = {"from", "to"},
        description = "A message to send: subject and text, html or both; or a template (its subject, text and html"
                + " rendered per recipient with template_data), not both. Field errors are answered all at once (400)")
public record MessageRequestSchema(
        @Schema(requiredMode = RequiredMode.REQUIRED, minLength = 3, example = "App <app@example.com>",
                description = "the sender: an address, optionally with a display name; its domain must be one the workspace may send from")
        String from,
        @ArraySchema(minItems = 1, schema = @Schema(example = "alice@example.org"),
                arraySchema = @Schema(requiredMode = RequiredMode.REQUIRED,
                        description = "recipients; to, cc and bcc together at most " + MessageRequestSchema.MAX_RECIPIENTS
                                + " distinct addresses"))
        List<String> to,
        @ArraySchema(arraySchema = @Schema(description = "copy recipients"))
        List<String> cc,
        @ArraySchema(arraySchema = @Schema(description = "blind copy recipients (in the envelope, not the headers)"))
        List<String> bcc,
        @Schema(description = "the Reply-To address")
        String replyTo,
        @Schema(minLength = 1, maxLength = RestSubmissionParser.MAX_SUBJECT,
                pattern = "^[^\\r\\n]*\\S[^\\r\\n]*$",
                description = "the subject: one line, not blank, {{variables}} replaced; required unless template is given")
        String subject,
        @Schema(description = "the plain text body")
        String text,
        @Schema(description = "the HTML body (links are tracked where the workspace tracks clicks)")
        String html,
        @Schema(description = "extra headers, name to value (one line each, at most " + RestSubmissionParser.MAX_SUBJECT
                + " characters); From, To, Subject and the other headers the relay writes may not be set here",
                additionalPropertiesSchema = String.class)
        Map<String, String> headers,
        @ArraySchema(arraySchema = @Schema(description = "files attached to the message"))
        List<Attachment> attachments,
        @Schema(allowableValues = {"transactional", "marketing", "system", "notification"},
                description = "the email type, which selects the dispatch route; the workspace's default if absent")
        String type,
        @ArraySchema(arraySchema = @Schema(description =
                "labels for reports and webhooks: at most relay.limits.tags (default 20), each at most "
                        + "relay.limits.tag-length characters (default 100)"))
        List<String> tags,
        @Schema(type = "object", description = "your own data, returned in events and webhooks: at most "
                + "relay.limits.metadata-bytes (default 1KB) as JSON")
        Object metadata,
        @Schema(maxLength = RestSubmissionParser.MAX_SHORT_FIELD, pattern = "^[^\\r\\n]*$",
                description = "a campaign, for stats and filters")
        String campaignId,
        @Schema(maxLength = RestSubmissionParser.MAX_SHORT_FIELD, pattern = "^[^\\r\\n]*$",
                description = "your user the message is for or from, for rate limits and filters")
        String userId,
        @Schema(additionalPropertiesSchema = String.class, description = "values of {{NAME}} placeholders in the "
                + "subject and bodies: names are a letter then letters, digits or _ (at most 64), values strings; "
                + "at most relay.limits.variables of them (default 100)")
        Map<String, String> variables,
        @Schema(description = "per recipient (an address of to, cc or bcc): variables that override those of "
                + "variables, name to string")
        Map<String, Map<String, String>> recipientVariables,
        @Schema(description = "a provider id: this message goes through that provider only (workspaces with provider-override)")
        String provider,
        @Schema(format = "date-time", example = "2026-12-01T10:00:00Z",
                description = "when to send it (RFC 3339 with an offset or Z): held QUEUED until then, listed"
                        + " with scheduled=true, cancellable; at most relay.scheduling.horizon ahead (default 30d)."
                        + " A time in the past sends now")
        String sendAt,
        @Schema(allowableValues = {"critical", "high", "normal", "low"}, description = "how urgently it is claimed "
                + "for delivery, instead of its email type's level; at most the workspace's priorities.max (default high)")
        String priority,
        @Schema(description = "a stored template (POST /api/v1/templates, or a file): its subject, text and html are"
                + " rendered for each recipient with template_data; subject, text and html may not be given with it")
        TemplateRef template,
        @Schema(description = "the template's data: global for every recipient, recipients per address (of to, cc or"
                + " bcc) over it; at most relay.limits.variables-bytes (default 100KB) as JSON")
        TemplateData templateData) {

    static final int MAX_RECIPIENTS = com.mailrelay.message.Submission.MAX_RECIPIENTS;

    @Schema(name = "TemplateRef", additionalProperties = AdditionalPropertiesValue.FALSE)
    public record TemplateRef(
            @Schema(requiredMode = RequiredMode.REQUIRED, example = "welcome",
                    description = "the template's name") String name,
            @Schema(minimum = "1", description = "a version of a stored template (default: the latest)") Integer version) {
    }

    @Schema(name = "TemplateData", additionalProperties = AdditionalPropertiesValue.FALSE)
    public record TemplateData(
            @Schema(type = "object", description = "data for every recipient: values, objects and lists") Object global,
            @Schema(type = "object", description = "per recipient address: data that overrides global's top-level fields")
            Object recipients) {
    }

    @Schema(name = "Attachment", additionalProperties = AdditionalPropertiesValue.FALSE)
    public record Attachment(
            @Schema(requiredMode = RequiredMode.REQUIRED, minLength = 1,
                    maxLength = RestSubmissionParser.MAX_SHORT_FIELD,
                    pattern = "^[^\\r\\n]*$", description = "the file name shown to the recipient")
            String filename,
            @Schema(description = "its MIME type (not multipart); application/octet-stream if absent",
                    example = "application/pdf")
            String contentType,
            @Schema(requiredMode = RequiredMode.REQUIRED, format = "byte", description = "the file's bytes, base64")
            String content) {
    }
}
