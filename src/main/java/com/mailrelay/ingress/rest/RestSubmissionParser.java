package com.mailrelay.ingress.rest;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.Digests;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.Priority;
import com.mailrelay.message.RecipientContent;
import com.mailrelay.message.SendTimes;
import com.mailrelay.message.Submission;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.strategy.ProviderOverrides;
import com.mailrelay.workspace.PriorityLevels;
import com.mailrelay.workspace.Workspaces;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.ParseException;
import org.springframework.stereotype.Component;

/**
 * Turns the JSON body of {@code POST /api/v1/messages} into a {@link Submission}: strict parsing
 * (unknown fields are errors, so a typo never silently drops data), every field checked, every
 * problem reported at once, then the MIME built once.
 */
@Component
public class RestSubmissionParser {

    static final int MAX_SUBJECT = 998;               // RFC 5322 §2.1.1 line limit
    static final int MAX_SHORT_FIELD = 255;
    private static final Pattern HEADER_NAME = Pattern.compile("[!-9;-~]{1,76}");   // RFC 5322 ftext
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[!-~]{1,255}");
    /** Headers the relay builds from their own fields; a custom header may not override them. */
    private static final Set<String> RESERVED_HEADERS = Set.of("from", "to", "cc", "bcc", "reply-to", "subject",
            "date", "message-id", "mime-version", "content-type", "content-transfer-encoding", "sender",
            "return-path", "received", "resent-bcc");

    private static final ObjectMapper REQUEST_JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Workspaces workspaces;
    private final MimeComposer composer;
    private final InputLimits limits;
    private final ProviderOverrides providerOverrides;
    private final SendTimes sendTimes;
    private final PriorityLevels priorityLevels;
    private final TemplateSubmission templates;

    public RestSubmissionParser(Workspaces workspaces, MimeComposer composer, RelayProperties properties,
                                ProviderOverrides providerOverrides, Clock clock, PriorityLevels priorityLevels,
                                TemplateSubmission templates) {
        this.workspaces = workspaces;
        this.composer = composer;
        this.limits = properties.limits().inputLimits();
        this.providerOverrides = providerOverrides;
        this.sendTimes = properties.scheduling().sendTimes(clock);
        this.priorityLevels = priorityLevels;
        this.templates = templates;
    }

    /**
     * The field errors of one request, of which only the first relay.limits.reported-errors are
     * kept: a body of a million bad addresses must not become a million error objects.
     */
    static final class Errors extends ArrayList<FieldError> {

        private final int max;
        private long more;

        Errors(int max) {
            this.max = max;
        }

        @Override
        public boolean add(FieldError error) {
            if (size() < max) {
                return super.add(error);
            }
            more++;
            return true;
        }

        ValidationException exception() {
            List<FieldError> reported = new ArrayList<>(this);
            if (more > 0) {
                reported.add(new FieldError("errors", more + " more problems were found; only the first " + max
                        + " are listed (relay.limits.reported-errors)"));
            }
            return new ValidationException(reported);
        }
    }

    public Submission parse(String workspaceId, byte[] body, String idempotencyKey) {
        MessageRequest request = read(body);
        Errors errors = new Errors(limits.reportedErrors());
        checkKey("Idempotency-Key", idempotencyKey, errors);
        return submission(workspaceId, request, errors, idempotencyKey,
                idempotencyKey == null ? null : Digests.sha256Hex(body));
    }

    /**
     * One item of {@code POST /api/v1/messages/batch}, already read as JSON with the rest of the
     * batch: a message exactly as {@link #parse} takes it, plus its own {@code idempotency_key}
     * (the rules of the Idempotency-Key header). Its request hash is that of the message without
     * the key, written back compactly, so that the same item sent again hashes the same.
     */
    public Submission parseItem(String workspaceId, JsonNode item) {
        if (item == null || !item.isObject()) {
            throw new ValidationException(List.of(new FieldError("message",
                    "must be a JSON object: a message as POST /api/v1/messages takes it")));
        }
        ObjectNode message = ((ObjectNode) item).deepCopy();
        JsonNode keyNode = message.remove(ITEM_KEY);
        MessageRequest request = read(message);
        Errors errors = new Errors(limits.reportedErrors());
        String key = null;
        if (keyNode != null && !keyNode.isNull()) {
            if (keyNode.isTextual()) {
                key = keyNode.textValue();
                checkKey(ITEM_KEY, key, errors);
            } else {
                errors.add(new FieldError(ITEM_KEY, "must be a string of 1 to 255 printable ASCII characters"));
            }
        }
        return submission(workspaceId, request, errors, key, key == null ? null : Digests.sha256Hex(compact(message)));
    }

    /** The field of a batch item that is its Idempotency-Key. */
    static final String ITEM_KEY = "idempotency_key";

    private static void checkKey(String field, String key, List<FieldError> errors) {
        if (key != null && !IDEMPOTENCY_KEY.matcher(key).matches()) {
            errors.add(new FieldError(field, "must be 1 to 255 printable ASCII characters"));
        }
    }

    private Submission submission(String workspaceId, MessageRequest request, Errors errors, String idempotencyKey,
                                  String requestHash) {
        checkAddress("from", request.from(), errors);
        if (request.from() != null && Addresses.problem(request.from()).isEmpty()) {
            String domain = Addresses.domainOf(Addresses.bare(request.from()));
            if (!workspaces.mayUseSenderDomain(workspaceId, domain)) {
                errors.add(new FieldError("from", "the sender domain " + domain + " is not allowed for this workspace"));
            }
        }
        if (request.to() == null || request.to().isEmpty()) {
            errors.add(new FieldError("to", "at least one recipient is required"));
        }
        checkAddresses("to", request.to(), errors);
        checkAddresses("cc", request.cc(), errors);
        checkAddresses("bcc", request.bcc(), errors);
        Set<String> seen = new HashSet<>();
        List<String> envelope = Stream.of(request.to(), request.cc(), request.bcc())
                .filter(list -> list != null)
                .flatMap(List::stream)
                .filter(address -> Addresses.problem(address).isEmpty())
                .map(Addresses::bare)
                // Once per address whatever its case, as the suppression list sees it: one copy each.
                .filter(address -> seen.add(Addresses.key(address)))
                .toList();
        if (envelope.size() > Submission.MAX_RECIPIENTS) {
            errors.add(new FieldError("to", "at most " + Submission.MAX_RECIPIENTS
                    + " recipients (to, cc and bcc together) per message"));
        }
        if (request.replyTo() != null) {
            checkAddress("reply_to", request.replyTo(), errors);
        }
        if (request.template() == null) {
            checkSubject(request.subject(), errors);
        }
        templates.check(request, envelope, errors);
        if (request.template() == null && isBlank(request.text()) && isBlank(request.html())) {
            errors.add(new FieldError("text", "a body is required: give text, html or both"));
        }
        checkHeaders(request.headers(), errors);
        List<MimeComposer.DecodedAttachment> attachments = decodeAttachments(request.attachments(), errors);
        EmailType type = resolveType(workspaceId, request.type(), errors);
        checkTags(request.tags(), errors);
        limits.metadata("metadata", request.metadata())
                .forEach(problem -> errors.add(new FieldError(problem.field(), problem.message())));
        checkShort("campaign_id", request.campaignId(), errors);
        checkShort("user_id", request.userId(), errors);
        if (request.provider() != null) {
            providerOverrides.refusal(workspaceId, request.provider())
                    .ifPresent(problem -> errors.add(new FieldError("provider", problem)));
        }
        Priority priority = priority(workspaceId, request.priority(), errors);
        Map<String, String> variables = variables("variables", request.variables(), errors);
        Map<String, Map<String, String>> recipientVariables = recipientVariables(request.recipientVariables(),
                envelope, errors);
        long variableBytes = InputLimits.bytes(variables)
                + recipientVariables.values().stream().mapToLong(InputLimits::bytes).sum();
        limits.variableBytes(variableBytes).ifPresent(problem -> errors.add(new FieldError(
                request.recipientVariables() == null ? "variables" : "recipient_variables", problem)));
        SendTimes.Checked sendAt = request.sendAt() == null ? null : sendTimes.rfc3339(request.sendAt());
        if (sendAt != null && !sendAt.valid()) {
            errors.add(new FieldError("send_at", sendAt.problem()));
        }
        if (!errors.isEmpty()) {
            throw errors.exception();
        }

        UUID id = MessageIds.next();
        TemplateSubmission.Content content = null;
        if (request.template() != null) {
            content = templates.render(id, request, attachments, workspaceId, envelope, errors);
            if (content == null) {
                throw errors.exception();
            }
        }
        RecipientContent.Rendered first = content == null ? null : content.first();
        byte[] mime = first == null ? composer.compose(id, request, attachments) : first.mime();
        return new Submission(id, workspaceId, type, Addresses.bare(request.from()), envelope,
                first == null ? request.subject() : first.subject(),
                mime, request.tags() == null ? List.of() : request.tags(),
                request.metadata() == null ? Map.of() : request.metadata(), request.campaignId(),
                request.userId(), idempotencyKey, requestHash,
                new MergeData(variables, recipientVariables, hasPlaceholder(request.subject(), request.text(),
                        request.html())), request.provider())
                .withSendAt(sendAt == null ? null : sendAt.at())
                .withPriority(priority == null ? null : priority.level())
                .withContent(content);
    }

    /** priority: one of the levels, at most the workspace's bound; null when not given. */
    private Priority priority(String workspaceId, String value, List<FieldError> errors) {
        if (value == null) {
            return null;
        }
        Optional<Priority> priority = Priority.fromId(value);
        if (priority.isEmpty()) {
            errors.add(new FieldError("priority", "must be one of " + Priority.ids()));
            return null;
        }
        priorityLevels.refusal(workspaceId, priority.get())
                .ifPresent(problem -> errors.add(new FieldError("priority", problem)));
        return priority.get();
    }

    /** variables: an object of NAME → string, at most relay.limits.variables of them. */
    private Map<String, String> variables(String field, Map<String, Object> values, List<FieldError> errors) {
        if (values == null) {
            return Map.of();
        }
        limits.variableCount(values.size()).ifPresent(problem -> errors.add(new FieldError(field, problem)));
        Map<String, String> checked = new java.util.HashMap<>();
        values.forEach((name, value) -> {
            if (!VARIABLE_NAME.matcher(name).matches()) {
                errors.add(new FieldError(field + "." + printable(name),
                        "is not a variable name (a letter, then letters, digits or _; at most 64)"));
            } else if (!(value instanceof String text)) {
                errors.add(new FieldError(field + "." + name, "must be a string"));
            } else if (InputLimits.variableValue(text).isPresent()) {
                errors.add(new FieldError(field + "." + name, InputLimits.variableValue(text).get()));
            } else {
                checked.put(name, text);
            }
        });
        return checked;
    }

    /**
     * recipient_variables: an object of recipient address → variables, each address one of the
     * message's in any spelling of it (keyed as recipients are compared, {@link Addresses#key}).
     */
    private Map<String, Map<String, String>> recipientVariables(Map<String, Object> values,
                                                                List<String> envelope, List<FieldError> errors) {
        if (values == null) {
            return Map.of();
        }
        Set<String> recipients = envelope.stream().map(Addresses::key).collect(Collectors.toSet());
        Map<String, Map<String, String>> checked = new java.util.HashMap<>();
        values.forEach((address, value) -> {
            String field = "recipient_variables." + printable(address);
            if (!recipients.contains(Addresses.key(address))) {
                errors.add(new FieldError(field, "is not a recipient of this message (to, cc or bcc)"));
            } else if (!(value instanceof Map<?, ?> map)) {
                errors.add(new FieldError(field, "must be an object of variable names to strings"));
            } else {
                @SuppressWarnings("unchecked")
                Map<String, Object> variables = (Map<String, Object>) map;
                checked.put(Addresses.key(address), variables(field, variables, errors));
            }
        });
        return checked;
    }

    private static boolean hasPlaceholder(String... texts) {
        return Stream.of(texts).anyMatch(text -> text != null && text.contains("{{"));
    }

    private static MessageRequest read(byte[] body) {
        if (body == null || body.length == 0) {
            throw new ValidationException(List.of(new FieldError("body", "is required: a JSON object")));
        }
        try {
            MessageRequest request = REQUEST_JSON.readValue(body, MessageRequest.class);
            if (request == null) {
                throw new ValidationException(List.of(new FieldError("body", "must be a JSON object, not null")));
            }
            return request;
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    /** A batch item's message, mapped from the tree with the same strictness as a body. */
    private static MessageRequest read(ObjectNode message) {
        try {
            return REQUEST_JSON.treeToValue(message, MessageRequest.class);
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    /**
     * A whole body read as JSON, not yet as a message (a batch reads its items so): empty,
     * malformed or null bodies are refused with the words {@link #parse} uses for them.
     */
    static JsonNode tree(byte[] body) {
        if (body == null || body.length == 0) {
            throw new ValidationException(List.of(new FieldError("body", "is required: a JSON object")));
        }
        try {
            JsonNode tree = REQUEST_JSON.readTree(body);
            if (tree == null || tree.isNull() || tree.isMissingNode()) {
                throw new ValidationException(List.of(new FieldError("body", "must be a JSON object, not null")));
            }
            return tree;
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    private static byte[] compact(ObjectNode message) {
        try {
            return REQUEST_JSON.writeValueAsBytes(message);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree that was just read cannot be written", e);
        }
    }

    /** What a body or an item that is not a readable message is told, field by field where Jackson says. */
    private static ValidationException unreadable(IOException failure) {
        if (failure instanceof JsonParseException e) {
            return new ValidationException(List.of(new FieldError("body", "malformed JSON at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": "
                    + e.getOriginalMessage())));
        }
        if (failure instanceof UnrecognizedPropertyException e) {
            return new ValidationException(List.of(new FieldError(path(e), "unknown field")));
        }
        if (failure instanceof JsonMappingException e) {
            return new ValidationException(List.of(new FieldError(path(e).isEmpty() ? "body" : path(e),
                    "has the wrong type: " + e.getOriginalMessage())));
        }
        return new ValidationException(List.of(new FieldError("body", "unreadable: " + failure.getMessage())));
    }

    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static void checkAddress(String field, String value, List<FieldError> errors) {
        Addresses.problem(value).ifPresent(problem -> errors.add(new FieldError(field, problem)));
    }

    private static void checkAddresses(String field, List<String> values, List<FieldError> errors) {
        if (values == null) {
            return;
        }
        for (int i = 0; i < values.size(); i++) {
            checkAddress(field + "[" + i + "]", values.get(i), errors);
        }
    }

    private static void checkSubject(String subject, List<FieldError> errors) {
        if (subject == null || subject.isBlank()) {
            errors.add(new FieldError("subject", "is required"));
        } else if (subject.length() > MAX_SUBJECT) {
            errors.add(new FieldError("subject", "is longer than " + MAX_SUBJECT + " characters"));
        } else if (hasLineBreak(subject)) {
            errors.add(new FieldError("subject", "must not contain CR or LF"));
        } else {
            checkControl("subject", subject, errors);
        }
    }

    private static void checkHeaders(Map<String, String> headers, List<FieldError> errors) {
        if (headers == null) {
            return;
        }
        headers.forEach((name, value) -> {
            String field = "headers." + printable(name);
            if (!HEADER_NAME.matcher(name).matches()) {
                errors.add(new FieldError(field, "is not a valid header name"));
            } else if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                errors.add(new FieldError(field, "is set by the relay; use the message field instead"));
            } else if (value == null) {
                errors.add(new FieldError(field, "must have a value"));
            } else if (hasLineBreak(value)) {
                errors.add(new FieldError(field, "must not contain CR or LF"));
            } else if (value.length() > MAX_SUBJECT) {
                errors.add(new FieldError(field, "is longer than " + MAX_SUBJECT + " characters"));
            } else {
                checkControl(field, value, errors);
            }
        });
    }

    private static List<MimeComposer.DecodedAttachment> decodeAttachments(
            List<MessageRequest.Attachment> attachments, List<FieldError> errors) {
        if (attachments == null) {
            return List.of();
        }
        List<MimeComposer.DecodedAttachment> decoded = new ArrayList<>();
        for (int i = 0; i < attachments.size(); i++) {
            String field = "attachments[" + i + "]";
            MessageRequest.Attachment attachment = attachments.get(i);
            if (attachment == null) {
                errors.add(new FieldError(field, "must be an object"));
                continue;
            }
            String filename = attachment.filename();
            if (filename == null || filename.isBlank()) {
                errors.add(new FieldError(field + ".filename", "is required"));
            } else if (hasLineBreak(filename) || filename.length() > MAX_SHORT_FIELD) {
                errors.add(new FieldError(field + ".filename",
                        "must be at most " + MAX_SHORT_FIELD + " characters without CR or LF"));
            } else {
                checkControl(field + ".filename", filename, errors);
            }
            String contentType = attachment.contentType() == null ? "application/octet-stream"
                    : attachment.contentType();
            try {
                if (Addresses.controlCharacter(contentType, false) != null) {
                    throw new ParseException("line break");
                }
                if (new ContentType(contentType).match("multipart/*")) {
                    errors.add(new FieldError(field + ".content_type",
                            "may not be multipart: an attachment is one part (send its parts as attachments)"));
                }
            } catch (ParseException e) {
                errors.add(new FieldError(field + ".content_type", "is not a valid MIME type (type/subtype)"));
            }
            if (attachment.content() == null) {
                errors.add(new FieldError(field + ".content", "is required (base64)"));
                continue;
            }
            try {
                byte[] bytes = Base64.getDecoder().decode(attachment.content().replaceAll("\\s", ""));
                decoded.add(new MimeComposer.DecodedAttachment(filename, contentType, bytes));
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError(field + ".content", "is not valid base64"));
            }
        }
        return decoded;
    }

    private EmailType resolveType(String workspaceId, String type, List<FieldError> errors) {
        if (type == null) {
            return workspaces.find(workspaceId).map(RelayProperties.Workspace::defaultType)
                    .orElse(EmailType.TRANSACTIONAL);
        }
        return EmailType.fromId(type).orElseGet(() -> {
            errors.add(new FieldError("type", "must be one of " + Stream.of(EmailType.values())
                    .map(EmailType::id).collect(Collectors.joining(", "))));
            return EmailType.TRANSACTIONAL;
        });
    }

    private void checkTags(List<String> tags, List<FieldError> errors) {
        if (tags == null) {
            return;
        }
        limits.tagCount(tags.size()).ifPresent(problem -> errors.add(new FieldError("tags", problem)));
        for (int i = 0; i < tags.size(); i++) {
            int index = i;
            limits.tag(tags.get(i)).ifPresent(problem -> errors.add(new FieldError("tags[" + index + "]", problem)));
        }
    }

    private static void checkShort(String field, String value, List<FieldError> errors) {
        if (value != null && (value.length() > MAX_SHORT_FIELD || hasLineBreak(value))) {
            errors.add(new FieldError(field, "must be at most " + MAX_SHORT_FIELD + " characters without CR or LF"));
        } else {
            checkControl(field, value, errors);
        }
    }

    /** C0 controls other than TAB (and DEL): PostgreSQL cannot store a NUL, and none belongs in a header. */
    private static void checkControl(String field, String value, List<FieldError> errors) {
        String control = Addresses.controlCharacter(value, false);
        if (control != null) {
            errors.add(new FieldError(field, "must not contain control characters (found " + control + ")"));
        }
    }

    /** A client's name or address as part of a field path: its control characters shown, not echoed. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(256).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    private static boolean hasLineBreak(String value) {
        return value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0;
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }
}
