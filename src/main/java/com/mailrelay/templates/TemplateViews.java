package com.mailrelay.templates;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.annotations.media.Schema;

/** What the templates API answers and takes (snake_case on the wire). */
public final class TemplateViews {

    private TemplateViews() {
    }

    @Schema(name = "Template", description = "One version of a template with its sources")
    public record TemplateView(
            String workspace,
            String name,
            @Schema(description = "this version; null for a file template, which has no versions") Integer version,
            @Schema(description = "every stored version, oldest first (empty for a file template)") List<Integer> versions,
            @Schema(description = "api (stored through this API) or file (relay.templates.directory, read-only)") String source,
            @Schema(description = "the template's files, relative to relay.templates.directory (file templates)") String file,
            String subject,
            String text,
            String html,
            @Schema(description = "partials it may include with {{> name}}, name to source") Map<String, String> partials,
            @Schema(description = "values used for fields the data leaves out, field to value") Map<String, Object> defaults,
            Instant createdAt,
            String createdBy) {

        static TemplateView of(StoredTemplate template, List<Integer> versions) {
            return new TemplateView(template.workspace(), template.name(), template.version(), versions,
                    template.file() == null ? "api" : "file", template.file(), template.subject(), template.text(),
                    template.html(), template.partials(), template.defaults(), template.createdAt(),
                    template.createdBy());
        }
    }

    @Schema(name = "TemplateSummary", description = "A template in a listing: its latest version")
    public record TemplateSummary(String name, Integer latestVersion, String source, Instant createdAt) {
    }

    @Schema(name = "TemplatePage")
    public record TemplatePage(List<TemplateSummary> templates,
                               @Schema(description = "pass as cursor for the next page; null on the last") String nextCursor) {
    }

    @Schema(name = "TemplateDeleted")
    public record DeletedView(String workspace, String name, int versions, boolean deleted) {
    }

    @Schema(name = "TemplatePreview", description = "The template rendered with the sample data")
    public record PreviewView(String name, Integer version, String subject, String text, String html) {
    }

    @Schema(name = "TemplateRequest", description = "A template (create: with name; update: without, a new version)."
            + " subject and text and/or html are Handlebars sources")
    public record TemplateRequest(
            @Schema(description = "create only: 1 to 64 lower-case letters, digits, - and _ (not - or _ at either end)",
                    example = "welcome") String name,
            @Schema(requiredMode = Schema.RequiredMode.REQUIRED, maxLength = Templates.MAX_SUBJECT,
                    example = "Welcome, {{user.first_name}}") String subject,
            @Schema(description = "the text part's source (not escaped)") String text,
            @Schema(description = "the HTML part's source ({{value}} is HTML-escaped, {{{value}}} is not)") String html,
            @Schema(description = "partials, name to source, included with {{> name}}",
                    additionalPropertiesSchema = String.class) Map<String, String> partials,
            @Schema(description = "defaults of fields the data may leave out: a field as written in the template"
                    + " (e.g. user.first_name) to a string, number or boolean") Map<String, Object> defaults) {
    }

    @Schema(name = "TemplatePreviewRequest")
    public record PreviewRequest(
            @Schema(type = "object", description = "the sample data, as template_data would give one recipient")
            Map<String, Object> data) {
    }
}
