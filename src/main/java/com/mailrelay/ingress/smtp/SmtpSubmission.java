package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UnsupportedEncodingException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Accepted;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.MessageTooLargeException;
import com.mailrelay.message.Submission;
import com.mailrelay.message.UnreadableMessageException;
import com.mailrelay.message.RateLimitedException;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.MessageStatus;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import org.apache.camel.CamelExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * One SMTP mail transaction (MAIL, RCPT..., DATA). Decides the workspace at MAIL FROM, checks
 * every address as it comes, and at the end of DATA hands the message — the bytes as received,
 * less Bcc and X-Relay-Type — to the same {@code direct:accept} path as REST. The 250 reply is
 * sent only after that path has committed; any failure to store is a 451, so the client retries.
 */
final class SmtpSubmission implements MessageHandler {

    private static final Logger log = LoggerFactory.getLogger(SmtpSubmission.class);
    /**
     * Bcc and Resent-Bcc must never reach recipients; X-Relay-Type is an instruction to the relay, and so are
     * X-MC-MergeVars (their values may be meant for one recipient only).
     */
    private static final Set<String> REMOVED_HEADERS = Set.of("bcc", "resent-bcc", "x-relay-type", "x-mc-mergevars");
    private static final byte[] PLACEHOLDER_START = "{{".getBytes(StandardCharsets.US_ASCII);
    private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() { };
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MessageContext context;
    private final SmtpIngress ingress;
    private String workspace;
    private String sender;
    private final List<String> recipients = new ArrayList<>();

    SmtpSubmission(MessageContext context, SmtpIngress ingress) {
        this.context = context;
        this.ingress = ingress;
    }

    @Override
    public void from(String address) throws RejectException {
        String canonical = checkSender(address);
        String domain = Addresses.domainOf(canonical);
        String user = authenticatedUser();
        if (user != null) {
            workspace = ingress.workspaces().smtpAccount(user).orElseThrow().workspace();
            if (!ingress.workspaces().mayUseSenderDomain(workspace, domain)) {
                throw reject(550, "5.7.1 Sender domain " + domain + " is not allowed for this account");
            }
        } else if (ingress.trustedNetworks().contains(clientAddress())) {
            workspace = ingress.workspaces().forSenderDomain(domain).orElseThrow(() ->
                    reject(550, "5.7.1 Sender domain " + domain + " belongs to no workspace"));
        } else {
            throw reject(530, "5.7.0 Authentication required");
        }
        sender = canonical;
    }

    /** The canonical MAIL FROM address: a bare RFC 5321 mailbox, or 553 5.1.7 saying what is wrong. */
    private String checkSender(String address) throws RejectException {
        if (address == null || address.isEmpty()) {
            throw reject(553, "5.1.7 A sender address is required (the null sender <> is not accepted)");
        }
        try {
            return Addresses.canonical(address);
        } catch (Addresses.InvalidAddressException e) {
            throw reject(553, "5.1.7 Bad sender address syntax: the path " + e.getMessage());
        }
    }

    /**
     * Each recipient is kept in its canonical form only (see {@link Addresses#canonical}): what
     * the suppression list, de-duplication, events and tracking links then compare.
     */
    @Override
    public void recipient(String address) throws RejectException {
        String canonical;
        try {
            canonical = Addresses.canonical(address);
        } catch (Addresses.InvalidAddressException e) {
            throw reject(553, "5.1.3 Bad recipient address syntax: the path " + e.getMessage());
        }
        if (recipients.size() >= Submission.MAX_RECIPIENTS) {
            throw reject(452, "4.5.3 Too many recipients (at most " + Submission.MAX_RECIPIENTS + " per message)");
        }
        // Once per address whatever its case, as the suppression list sees it: one copy each.
        if (recipients.stream().noneMatch(canonical::equalsIgnoreCase)) {
            recipients.add(canonical);
        }
    }

    @Override
    public String data(InputStream data) throws RejectException, IOException {
        long limit = ingress.maxMessageSize();
        byte[] raw = data.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        if (raw.length > limit) {
            long total = raw.length + data.transferTo(OutputStream.nullOutputStream());
            log.info("SMTP message from {} refused: {} bytes over the limit of {}", clientText(), total, limit);
            throw reject(552, "5.3.4 Message size exceeds fixed maximum message size of " + limit + " bytes");
        }
        HeaderSection.Result message = HeaderSection.strip(raw, REMOVED_HEADERS);
        checkControlCharacters(message);
        String subject = subject(message.first("subject"));
        checkAuthorDomains(message, "from", "From");
        checkAuthorDomains(message, "sender", "Sender");
        Submission submission = new Submission(MessageIds.next(), workspace, emailType(message.first("x-relay-type")),
                sender, List.copyOf(recipients), subject, message.message(),
                tags(message.first("x-mc-tags")), metadata(message.first("x-mc-metadata")), null, null, null, null,
                mergeData(message.fields().getOrDefault("x-mc-mergevars", List.of()), message.message()));
        try {
            Accepted accepted = ingress.accept(submission);
            if (accepted.status() == MessageStatus.REJECTED) {
                return "2.0.0 Ok: every recipient is suppressed, rejected as " + accepted.id();
            }
            return "2.0.0 Ok: queued as " + accepted.id();
        } catch (MessageTooLargeException e) {
            throw reject(552, "5.3.4 " + e.getMessage());
        } catch (RuntimeException e) {
            Throwable cause = e instanceof CamelExecutionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof UnreadableMessageException unreadable) {
                log.info("SMTP message from {} refused: {}", clientText(), unreadable.getMessage());
                throw reject(554, "5.6.0 " + unreadable.getMessage());
            }
            if (cause instanceof RateLimitedException limited) {
                log.info("SMTP message from {} refused: {}", clientText(), limited.getMessage());
                throw reject(451, "4.7.1 " + limited.getMessage());
            }
            log.error("SMTP message from {} not stored; answering 451", clientText(), cause);
            throw reject(451, "4.3.0 Temporary failure: the message was not stored, try again later");
        }
    }

    @Override
    public void done() {
    }

    private EmailType emailType(String header) throws RejectException {
        if (header == null) {
            return ingress.workspaces().find(workspace).map(RelayProperties.Workspace::defaultType)
                    .orElse(EmailType.TRANSACTIONAL);
        }
        return EmailType.fromId(header.toLowerCase(Locale.ROOT)).orElseThrow(() -> reject(550,
                "5.6.0 X-Relay-Type must be one of " + Stream.of(EmailType.values()).map(EmailType::id)
                        .collect(Collectors.joining(", "))));
    }

    /**
     * No header may carry a control character other than TAB (line ends are the header
     * section's own): a NUL cannot be stored by PostgreSQL, and none belongs in a header.
     */
    private void checkControlCharacters(HeaderSection.Result message) throws RejectException {
        for (var field : message.fields().entrySet()) {
            String name = field.getKey();
            String inName = Addresses.controlCharacter(name, false);
            if (inName != null) {
                throw reject(550, "5.6.0 A header name contains a control character (" + inName + ")");
            }
            for (String value : field.getValue()) {
                String control = Addresses.controlCharacter(value, false);
                if (control != null) {
                    throw reject(550, "5.6.0 Header " + displayName(name) + " contains a control character ("
                            + control + ")");
                }
            }
        }
    }

    /** The decoded subject (kept in the messages table: no control character, at most 998 characters). */
    private String subject(String header) throws RejectException {
        if (header == null) {
            return null;
        }
        String decoded;
        try {
            decoded = MimeUtility.decodeText(header);
        } catch (UnsupportedEncodingException e) {
            decoded = header;
        }
        String control = Addresses.controlCharacter(decoded, false);
        if (control != null) {
            throw reject(550, "5.6.0 Header Subject contains a control character (" + control + ") once decoded");
        }
        return InputLimits.truncated(decoded, 998);
    }

    /**
     * From: and Sender: name who the recipient sees as the author: their domains obey the same
     * rule as MAIL FROM (the account's sender-domains, and never a domain another workspace claims).
     */
    private void checkAuthorDomains(HeaderSection.Result message, String field, String header) throws RejectException {
        for (String value : message.fields().getOrDefault(field, List.of())) {
            InternetAddress[] addresses;
            try {
                addresses = InternetAddress.parseHeader(value, false);
            } catch (AddressException e) {
                throw reject(550, "5.6.0 Header " + header + " is not a valid address list: " + e.getMessage());
            }
            for (InternetAddress address : members(addresses)) {
                String canonical = Addresses.canonicalOf(address.getAddress()).orElseThrow(() -> reject(550,
                        "5.6.0 Header " + header + " has an invalid address: " + address.getAddress()));
                String domain = Addresses.domainOf(canonical);
                if (!ingress.workspaces().mayUseSenderDomain(workspace, domain)) {
                    throw reject(550, "5.7.1 " + header + ": domain " + domain + " is not allowed for this account");
                }
            }
        }
    }

    /** The addresses of a header, group members included (an empty group names no one). */
    private static List<InternetAddress> members(InternetAddress[] addresses) throws RejectException {
        List<InternetAddress> members = new ArrayList<>();
        for (InternetAddress address : addresses) {
            if (address.isGroup()) {
                try {
                    members.addAll(Arrays.asList(address.getGroup(false)));
                } catch (AddressException e) {
                    throw new RejectException(550, "5.6.0 Header group is not valid: " + e.getMessage());
                }
            } else {
                members.add(address);
            }
        }
        return members;
    }

    /** A header name as written in replies: Mandrill's canonical capitals are not needed, the name is. */
    private static String displayName(String lowerCaseName) {
        return lowerCaseName.length() > 76 ? lowerCaseName.substring(0, 76) + "..." : lowerCaseName;
    }

    /** Mandrill's X-MC-Tags: a comma-separated list, with the tag rules of REST. */
    private List<String> tags(String header) throws RejectException {
        if (header == null) {
            return List.of();
        }
        List<String> tags = Arrays.stream(header.split(",")).map(String::trim).filter(tag -> !tag.isEmpty()).toList();
        InputLimits limits = ingress.inputLimits();
        Optional<String> count = limits.tagCount(tags.size());
        if (count.isPresent()) {
            throw reject(550, "5.6.0 X-MC-Tags: " + count.get());
        }
        for (String tag : tags) {
            Optional<String> problem = limits.tag(tag);
            if (problem.isPresent()) {
                throw reject(550, "5.6.0 X-MC-Tags: each tag " + problem.get());
            }
        }
        return tags;
    }

    /** Mandrill's X-MC-Metadata: a JSON object, within relay.limits.metadata-bytes. */
    private Map<String, Object> metadata(String header) throws RejectException {
        if (header == null) {
            return Map.of();
        }
        Map<String, Object> metadata;
        try {
            metadata = JSON.readValue(header, JSON_OBJECT);
        } catch (IOException e) {
            metadata = null;
        }
        if (metadata == null) {
            throw reject(550, "5.6.0 X-MC-Metadata must be a JSON object");
        }
        List<InputLimits.Problem> problems = ingress.inputLimits().metadata("X-MC-Metadata", metadata);
        if (!problems.isEmpty()) {
            throw reject(550, "5.6.0 " + problems.get(0).field() + " " + problems.get(0).message());
        }
        return metadata;
    }

    /**
     * Mandrill's X-MC-MergeVars: each header a JSON object of NAME → value for every recipient, or,
     * with a "_rcpt" member, for that recipient only. The message is personalised when it has
     * such headers or "{{" appears in its bytes (placeholders inside base64-encoded parts are found
     * only when one of these, or tracking, applies).
     */
    private MergeData mergeData(List<String> headers, byte[] message) throws RejectException {
        InputLimits limits = ingress.inputLimits();
        Map<String, String> global = new HashMap<>();
        Map<String, Map<String, String>> perRecipient = new HashMap<>();
        for (String header : headers) {
            Map<String, Object> object;
            try {
                object = JSON.readValue(header, JSON_OBJECT);
            } catch (IOException e) {
                object = null;
            }
            if (object == null) {
                throw reject(550, "5.6.0 X-MC-MergeVars must be a JSON object");
            }
            Object rcpt = object.remove("_rcpt");
            // Keyed as the recipients are compared, so "Bob@X.ORG" finds the recipient bob@x.org.
            Map<String, String> target = rcpt == null ? global
                    : perRecipient.computeIfAbsent(Addresses.key(String.valueOf(rcpt)), r -> new HashMap<>());
            for (var entry : object.entrySet()) {
                Object value = entry.getValue();
                if (value instanceof Map || value instanceof List) {
                    throw reject(550, "5.6.0 X-MC-MergeVars values must be strings, numbers or booleans");
                }
                String text = value == null ? "" : String.valueOf(value);
                String control = Addresses.controlCharacter(entry.getKey(), false);
                Optional<String> problem = control != null
                        ? Optional.of("names must not contain control characters (found " + control + ")")
                        : InputLimits.variableValue(text).map(p -> "values " + p);
                if (problem.isPresent()) {
                    throw reject(550, "5.6.0 X-MC-MergeVars " + problem.get());
                }
                target.put(entry.getKey(), text);
            }
            Optional<String> count = limits.variableCount(target.size());
            if (count.isPresent()) {
                throw reject(550, "5.6.0 X-MC-MergeVars: " + count.get()
                        + (rcpt == null ? "" : " for one recipient"));
            }
        }
        long bytes = InputLimits.bytes(global);
        for (Map<String, String> variables : perRecipient.values()) {
            bytes += InputLimits.bytes(variables);
        }
        Optional<String> size = limits.variableBytes(bytes);
        if (size.isPresent()) {
            throw reject(550, "5.6.0 X-MC-MergeVars: " + size.get());
        }
        boolean placeholders = !headers.isEmpty() || contains(message, PLACEHOLDER_START);
        return new MergeData(global, perRecipient, placeholders);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private String authenticatedUser() {
        if (context instanceof Session session && session.isAuthenticated()) {
            return context.getAuthenticationHandler().map(handler -> String.valueOf(handler.getIdentity()))
                    .orElse(null);
        }
        return null;
    }

    private InetAddress clientAddress() {
        return ((InetSocketAddress) context.getRemoteAddress()).getAddress();
    }

    private String clientText() {
        return clientAddress().getHostAddress();
    }

    private RejectException reject(int code, String message) {
        log.info("SMTP {} {} {}: {}", clientText(), code, message, workspace == null ? "" : "workspace " + workspace);
        return new RejectException(code, message);
    }
}
