package com.mailrelay.ingress.rest;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.Json;
import com.mailrelay.message.RecipientContent;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.templates.StoredTemplate;
import com.mailrelay.templates.TemplateRenderer;
import com.mailrelay.templates.Templates;
import org.springframework.stereotype.Component;

/**
 * The template of a REST send ({@code template}, {@code template_data}): checked with the other
 * fields, then rendered for every recipient while the request is parsed, so that every render
 * error (a missing field, with its template, version, part and line) is a 400 before anything is
 * stored. The MIME of each recipient is built from its rendered parts when accept asks for its
 * copy ({@link RecipientContent}); tracking, unsubscribe links and {{VARIABLES}} are then applied
 * to it as to any copy.
 */
@Component
public class TemplateSubmission {

    private final Templates templates;
    private final MimeComposer composer;
    private final InputLimits limits;

    public TemplateSubmission(Templates templates, MimeComposer composer, RelayProperties properties) {
        this.templates = templates;
        this.composer = composer;
        this.limits = properties.limits().inputLimits();
    }

    /** The fields a template send may not have, and the template data's own checks. */
    void check(MessageRequest request, List<String> envelope, List<FieldError> errors) {
        if (request.template() == null) {
            if (request.templateData() != null) {
                errors.add(new FieldError("template_data", "is the data of a template: give template too"));
            }
            return;
        }
        for (var given : Map.of("subject", request.subject() != null, "text", request.text() != null,
                "html", request.html() != null).entrySet()) {
            if (given.getValue()) {
                errors.add(new FieldError(given.getKey(), "may not be given with template: the template's own is"
                        + " rendered"));
            }
        }
        MessageRequest.TemplateData data = request.templateData();
        if (data == null) {
            return;
        }
        if (data.recipients() != null) {
            Set<String> recipients = envelope.stream().map(Addresses::key).collect(Collectors.toSet());
            data.recipients().forEach((address, value) -> {
                String field = "template_data.recipients." + RestSubmissionParser.printable(address);
                if (!recipients.contains(Addresses.key(address))) {
                    errors.add(new FieldError(field, "is not a recipient of this message (to, cc or bcc)"));
                } else if (!(value instanceof Map)) {
                    errors.add(new FieldError(field, "must be an object: this recipient's data"));
                }
            });
        }
        limits.variableBytes(InputLimits.utf8(Json.write(data)))
                .ifPresent(problem -> errors.add(new FieldError("template_data", problem)));
    }

    /**
     * Every recipient's subject, text and html rendered; the errors of all of them are added (each
     * naming its recipient when the data differ per recipient). Null when there were errors.
     */
    Content render(UUID id, MessageRequest request, List<MimeComposer.DecodedAttachment> attachments,
                   String workspace, List<String> envelope, RestSubmissionParser.Errors errors) {
        StoredTemplate template = templates.forSend(workspace, request.template().name(),
                request.template().version());
        MessageRequest.TemplateData data = request.templateData();
        Map<String, Object> global = data == null || data.global() == null ? Map.of() : data.global();
        Map<String, Map<String, Object>> own = new HashMap<>();
        if (data != null && data.recipients() != null) {
            data.recipients().forEach((address, value) -> own.put(Addresses.key(address), asMap(value)));
        }
        Map<String, TemplateRenderer.Rendered> rendered = new LinkedHashMap<>();
        Map<String, TemplateRenderer.Rendered> byData = new HashMap<>();
        for (String recipient : envelope) {
            Map<String, Object> mine = own.get(Addresses.key(recipient));
            String field = mine == null ? "template" : "template_data.recipients." + recipient;
            try {
                // Recipients without data of their own share one render.
                TemplateRenderer.Rendered one = mine == null && byData.containsKey("")
                        ? byData.get("") : checked(templates.render(template, merged(global, mine), field),
                        template, field, errors);
                if (mine == null) {
                    byData.put("", one);
                }
                rendered.put(Addresses.key(recipient), one);
            } catch (com.mailrelay.message.ValidationException invalid) {
                invalid.errors().forEach(errors::add);
            }
        }
        return errors.isEmpty() ? new Content(id, request, attachments, rendered) : null;
    }

    private static TemplateRenderer.Rendered checked(TemplateRenderer.Rendered rendered, StoredTemplate template,
                                                     String field, List<FieldError> errors) {
        // A value with a line break cannot break out of the header: it becomes a space, as variables do.
        String subject = rendered.subject().replaceAll("[\\r\\n]+", " ").strip();
        String named = "template " + template.label() + " (subject)";
        if (subject.isEmpty()) {
            errors.add(new FieldError(field, named + ": renders an empty subject"));
        } else if (subject.length() > RestSubmissionParser.MAX_SUBJECT) {
            errors.add(new FieldError(field, named + ": renders a subject longer than "
                    + RestSubmissionParser.MAX_SUBJECT + " characters"));
        } else if (Addresses.controlCharacter(subject, false) != null) {
            errors.add(new FieldError(field, named + ": renders a subject with control characters"));
        }
        if (isBlank(rendered.text()) && isBlank(rendered.html())) {
            errors.add(new FieldError(field, "template " + template.label() + " renders an empty body"));
        }
        return new TemplateRenderer.Rendered(subject, rendered.text(), rendered.html());
    }

    private static Map<String, Object> merged(Map<String, Object> global, Map<String, Object> mine) {
        if (mine == null) {
            return global;
        }
        Map<String, Object> merged = new HashMap<>(global);
        merged.putAll(mine);
        return merged;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }

    /** Each recipient's rendered parts; its MIME is built when its copy is made. */
    final class Content implements RecipientContent {

        private final UUID id;
        private final MessageRequest request;
        private final List<MimeComposer.DecodedAttachment> attachments;
        private final Map<String, TemplateRenderer.Rendered> rendered;

        Content(UUID id, MessageRequest request, List<MimeComposer.DecodedAttachment> attachments,
                Map<String, TemplateRenderer.Rendered> rendered) {
            this.id = id;
            this.request = request;
            this.attachments = attachments;
            this.rendered = rendered;
        }

        @Override
        public Rendered render(String recipient) {
            TemplateRenderer.Rendered parts = rendered.get(Addresses.key(recipient));
            if (parts == null) {
                throw new IllegalStateException("no rendered content for a recipient of message " + id);
            }
            return new Rendered(parts.subject(), composer.compose(id, withParts(request, parts), attachments));
        }

        /** The first recipient's: the message as stored before its copies are made. */
        Rendered first() {
            return render(rendered.keySet().iterator().next());
        }
    }

    private static MessageRequest withParts(MessageRequest r, TemplateRenderer.Rendered parts) {
        return new MessageRequest(r.from(), r.to(), r.cc(), r.bcc(), r.replyTo(), parts.subject(), parts.text(),
                parts.html(), r.headers(), r.attachments(), r.type(), r.tags(), r.metadata(), r.campaignId(),
                r.userId(), r.variables(), r.recipientVariables(), r.provider(), r.sendAt(), r.priority(), r.template(),
                r.templateData());
    }
}
