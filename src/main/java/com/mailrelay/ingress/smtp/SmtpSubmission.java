package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UnsupportedEncodingException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Accepted;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Priority;
import com.mailrelay.message.SendTimes;
import com.mailrelay.message.Submission;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.subethamail.smtp.MessageContext;
import org.subethamail.smtp.MessageHandler;
import org.subethamail.smtp.RejectException;
import org.subethamail.smtp.server.Session;

/**
 * One SMTP mail transaction (MAIL, RCPT..., DATA). Decides the workspace at MAIL FROM, checks
 * every address as it comes, and at the end of DATA hands the message — the bytes as received,
 * less Bcc and X-Relay-Type — to the {@code smtp-submit} route, into the same {@code direct:accept}
 * path as REST. The 250 reply is sent only after that path has committed; a refusal or a failure
 * to store is answered as the route's {@code smtp-replies} configuration says (any failure to
 * store is a 451, so the client retries). The replies here are the protocol's own checks.
 */
final class SmtpSubmission implements MessageHandler {

    private static final Logger log = LoggerFactory.getLogger(SmtpSubmission.class);
    /**
     * Bcc and Resent-Bcc must never reach recipients; X-Relay-Type, X-Relay-Provider, X-Relay-Priority,
     * X-Relay-User and the send times (X-Relay-Send-At, X-MC-SendAt) are instructions to the relay, and so
     * are X-MC-MergeVars (their values may be meant for one recipient only).
     */
    private static final Set<String> REMOVED_HEADERS = Set.of("bcc", "resent-bcc", "x-relay-type", "x-relay-provider",
            "x-mc-mergevars", "x-relay-send-at", "x-mc-sendat", "x-relay-priority", "x-relay-user");
    /** As the REST user_id is bounded. */
    static final int MAX_USER_ID = 255;

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
            // The user may have been deleted (through the admin API) since this session logged in.
            workspace = ingress.workspaces().smtpAccount(user).orElseThrow(() ->
                    reject(530, "5.7.0 User " + user + " no longer exists; authenticate again")).workspace();
            if (!ingress.workspaces().mayUseSenderDomain(workspace, domain)) {
                throw reject(550, "5.7.1 Sender domain " + domain + " is not allowed for this account");
            }
        } else if (ingress.trustedNetworks().contains(clientAddress())) {
            workspace = ingress.workspaces().forSenderDomain(domain).orElseThrow(() ->
                    reject(550, "5.7.1 Sender domain " + domain + " belongs to no workspace"));
        } else {
            throw reject(530, "5.7.0 Authentication required");
        }
        if (!ingress.workspaces().enabled(workspace)) {
            // Disabled since the login, or a trusted-network sender of a disabled workspace's domain.
            throw reject(550, "5.7.1 Workspace " + workspace + " is disabled; it accepts no mail");
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
        EmailType type = emailType(message.first("x-relay-type"));
        String provider = provider(message.first("x-relay-provider"));
        Instant sendAt = sendAt(message);
        Integer priority = priority(message.first("x-relay-priority"));
        String user = user(message.first("x-relay-user"));
        InputLimits limits = ingress.inputLimits();
        Submission submission;
        try {
            submission = new Submission(MessageIds.next(), workspace, type, sender, List.copyOf(recipients), subject,
                    message.message(), MandrillHeaders.tags(message.first("x-mc-tags"), limits),
                    MandrillHeaders.metadata(message.first("x-mc-metadata"), limits), null, user, null, null,
                    MandrillHeaders.mergeData(message.fields().getOrDefault("x-mc-mergevars", List.of()),
                            message.message(), limits), provider).withSendAt(sendAt).withPriority(priority);
        } catch (MandrillHeaders.Invalid e) {
            throw reject(550, "5.6.0 " + e.getMessage());
        }
        // The smtp-submit route: an Accepted once committed, or the reply its configuration chose.
        Object outcome = ingress.submit(submission, clientText());
        if (outcome instanceof Accepted accepted) {
            if (accepted.status() == MessageStatus.REJECTED) {
                return "2.0.0 Ok: every recipient is suppressed, rejected as " + accepted.id();
            }
            return "2.0.0 Ok: queued as " + accepted.id();
        }
        SmtpReply reply = (SmtpReply) outcome;
        throw reject(reply.code(), reply.text());
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
     * When to send: X-Relay-Send-At (RFC 3339, as REST's send_at) or Mandrill's X-MC-SendAt (UTC,
     * YYYY-MM-DD HH:MM:SS); null without either. Two send times are refused rather than one picked.
     */
    private Instant sendAt(HeaderSection.Result message) throws RejectException {
        List<String> relay = message.fields().getOrDefault("x-relay-send-at", List.of());
        List<String> mandrill = message.fields().getOrDefault("x-mc-sendat", List.of());
        if (relay.size() + mandrill.size() > 1) {
            throw reject(550, "5.6.0 X-Relay-Send-At: give one send time, in X-Relay-Send-At or X-MC-SendAt, once");
        }
        if (!mandrill.isEmpty()) {
            try {
                return MandrillHeaders.sendAt(mandrill.get(0), ingress.sendTimes());
            } catch (MandrillHeaders.Invalid e) {
                throw reject(550, "5.6.0 " + e.getMessage());
            }
        }
        if (relay.isEmpty()) {
            return null;
        }
        SendTimes.Checked checked = ingress.sendTimes().rfc3339(relay.get(0));
        if (!checked.valid()) {
            throw reject(550, "5.6.0 X-Relay-Send-At " + checked.problem());
        }
        return checked.at();
    }

    /** The level X-Relay-Priority asks for (checked as REST's priority field is), or null without the header. */
    private Integer priority(String header) throws RejectException {
        if (header == null) {
            return null;
        }
        Priority priority = Priority.fromId(header.trim().toLowerCase(Locale.ROOT)).orElseThrow(() -> reject(550,
                "5.6.0 X-Relay-Priority must be one of " + Priority.ids()));
        var refusal = ingress.priorityLevels().refusal(workspace, priority);
        if (refusal.isPresent()) {
            throw reject(550, "5.7.1 X-Relay-Priority " + priority.id() + " " + refusal.get());
        }
        return priority.level();
    }

    /**
     * The user the per-user limits count: X-Relay-User (an application sending for its own users
     * over one login), else the SMTP AUTH user name; none for a trusted-network sender without the
     * header. Bounded and checked as REST's user_id is.
     */
    private String user(String header) throws RejectException {
        if (header == null) {
            return authenticatedUser();
        }
        String id = header.trim();
        if (id.isEmpty() || id.length() > MAX_USER_ID) {
            throw reject(550, "5.6.0 X-Relay-User must be 1 to " + MAX_USER_ID + " characters");
        }
        return id;
    }

    /** The provider X-Relay-Provider names (checked as REST's provider field is), or null without the header. */
    private String provider(String header) throws RejectException {
        if (header == null) {
            return null;
        }
        String id = header.trim();
        var refusal = ingress.providerOverrides().refusal(workspace, id);
        if (refusal.isPresent()) {
            throw reject(550, "5.7.1 X-Relay-Provider " + refusal.get());
        }
        return id;
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
