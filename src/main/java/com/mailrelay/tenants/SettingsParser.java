package com.mailrelay.tenants;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.Priority;
import com.mailrelay.message.ValidationException.FieldError;
import org.springframework.boot.convert.DurationStyle;

/**
 * A workspace's settings as the admin API takes them (snake_case JSON, the shape of
 * {@link com.mailrelay.config.RelayProperties.Workspace} without its keys and users), each field
 * checked to be canonical and bounded, every bad one named (400). A field left out keeps its value
 * (for a new workspace, the default of application.yml); a secret (webhook key, inbound keys, a
 * DKIM private key) left out keeps the secret already stored, since the API never answers it back.
 */
final class SettingsParser {

    static final Set<String> FIELDS = Set.of("default_type", "sender_domains", "webhook", "inbound", "rate_limit",
            "tracking", "list_unsubscribe", "variables", "dkim", "provider_override", "retention",
            "priorities", "llm");

    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    static final int MAX_SENDER_DOMAINS = 100;
    static final int MAX_VARIABLES = 100;
    static final int MAX_VARIABLE_LENGTH = 1000;
    static final int MAX_DKIM_KEYS = 20;
    static final int MAX_SECRET_LENGTH = 10_000;
    static final int MAX_URL_LENGTH = 2048;
    static final long MAX_RATE = 1_000_000_000L;
    static final Duration MAX_WINDOW = Duration.ofDays(31);
    static final Duration MAX_RETENTION = Duration.ofDays(3650);
    static final int MAX_LIMITS = 20;
    static final int MAX_CUSTOM_USERS = 10_000;
    /** As the REST user_id is bounded. */
    static final int MAX_USER_ID = 255;
    private static final Pattern PLACEHOLDER = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}");
    static final int MAX_PLACEHOLDERS = 20;
    static final int MAX_PROMPT_LENGTH = 4000;
    static final int MAX_FALLBACK_LENGTH = 1000;

    private final List<FieldError> errors = new ArrayList<>();
    private final String prefix;

    SettingsParser(String prefix) {
        this.prefix = prefix;
    }

    List<FieldError> errors() {
        return errors;
    }

    /** The settings with the given fields applied over {@code current} (complete settings). */
    RelayProperties.Workspace apply(Map<?, ?> fields, RelayProperties.Workspace current) {
        for (Object name : fields.keySet()) {
            if (!FIELDS.contains(String.valueOf(name))) {
                invalid(String.valueOf(name), "is not a workspace setting; they are " + FIELDS.stream().sorted().toList());
            }
        }
        EmailType defaultType = current.defaultType();
        if (fields.containsKey("default_type")) {
            defaultType = emailType("default_type", fields.get("default_type"));
        }
        List<String> senderDomains = fields.containsKey("sender_domains")
                ? senderDomains(fields.get("sender_domains")) : current.senderDomains();
        RelayProperties.Webhook webhook = fields.containsKey("webhook")
                ? webhook(fields.get("webhook"), current.webhook()) : current.webhook();
        RelayProperties.InboundKeys inbound = fields.containsKey("inbound")
                ? inbound(fields.get("inbound"), current.inbound()) : current.inbound();
        RelayProperties.RateLimit rateLimit = fields.containsKey("rate_limit")
                ? rateLimit(fields.get("rate_limit"), current.rateLimit()) : current.rateLimit();
        RelayProperties.WorkspaceTracking tracking = fields.containsKey("tracking")
                ? tracking(fields.get("tracking"), current.tracking()) : current.tracking();
        List<EmailType> listUnsubscribe = fields.containsKey("list_unsubscribe")
                ? emailTypes("list_unsubscribe", fields.get("list_unsubscribe")) : current.listUnsubscribe();
        Map<String, String> variables = fields.containsKey("variables")
                ? variables(fields.get("variables")) : current.variables();
        List<RelayProperties.DkimKey> dkim = fields.containsKey("dkim")
                ? dkim(fields.get("dkim"), current.dkim()) : current.dkim();
        boolean providerOverride = current.providerOverride();
        if (fields.containsKey("provider_override")) {
            if (fields.get("provider_override") instanceof Boolean b) {
                providerOverride = b;
            } else {
                invalid("provider_override", "must be true or false");
            }
        }
        RelayProperties.WorkspaceRetention retention = fields.containsKey("retention")
                ? retention(fields.get("retention"), current.retention()) : current.retention();
        RelayProperties.WorkspacePriorities priorities = fields.containsKey("priorities")
                ? priorities(fields.get("priorities"), current.priorities()) : current.priorities();
        RelayProperties.WorkspaceLlm llm = fields.containsKey("llm") ? llm(fields.get("llm"), current.llm())
                : current.llm();
        return new RelayProperties.Workspace(defaultType, List.of(), senderDomains, Map.of(), webhook, inbound,
                rateLimit, tracking, listUnsubscribe, variables, dkim, providerOverride, retention, priorities, llm);
    }

    private void invalid(String field, String message) {
        errors.add(new FieldError(prefix + field, message));
    }

    private EmailType emailType(String field, Object value) {
        if (value instanceof String text) {
            var type = EmailType.fromId(text);
            if (type.isPresent()) {
                return type.get();
            }
        }
        invalid(field, "must be one of " + types());
        return EmailType.TRANSACTIONAL;
    }

    private static List<String> types() {
        return java.util.Arrays.stream(EmailType.values()).map(EmailType::id).toList();
    }

    private List<EmailType> emailTypes(String field, Object value) {
        if (!(value instanceof List<?> list)) {
            invalid(field, "must be a list of email types (" + types() + ")");
            return List.of();
        }
        Set<EmailType> out = new java.util.LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(emailType(field + "[" + i + "]", list.get(i)));
        }
        return List.copyOf(out);
    }

    private List<String> senderDomains(Object value) {
        if (!(value instanceof List<?> list) || list.size() > MAX_SENDER_DOMAINS) {
            invalid("sender_domains", "must be a list of at most " + MAX_SENDER_DOMAINS + " domains");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String field = "sender_domains[" + i + "]";
            if (!(list.get(i) instanceof String text)) {
                invalid(field, "must be a domain");
                continue;
            }
            try {
                String domain = Addresses.canonicalDomain(text.trim());
                if (!domain.equals(text)) {
                    invalid(field, "must be written canonically: " + domain);
                } else if (!domain.contains(".")) {
                    invalid(field, "must be a domain one sends from (with a dot)");
                } else if (!seen.add(domain)) {
                    invalid(field, domain + " is listed twice");
                } else {
                    out.add(domain);
                }
            } catch (IllegalArgumentException e) {
                invalid(field, "'" + text + "' " + e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private Map<?, ?> object(String field, Object value) {
        if (value instanceof Map<?, ?> map) {
            return map;
        }
        invalid(field, "must be an object");
        return null;
    }

    private void only(String field, Map<?, ?> map, Set<String> names) {
        map.keySet().stream().map(String::valueOf).filter(n -> !names.contains(n))
                .forEach(n -> invalid(field + "." + n, "is not a field of " + field + "; they are "
                        + names.stream().sorted().toList()));
    }

    /** A secret: absent keeps the current one, null clears it, a string replaces it. */
    private String secret(String field, Map<?, ?> map, String name, String current) {
        if (!map.containsKey(name)) {
            return current;
        }
        Object value = map.get(name);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text) || text.isBlank() || text.length() > MAX_SECRET_LENGTH
                || Addresses.controlCharacter(text.strip(), true) != null) {
            invalid(field + "." + name, "must be a non-empty string of at most " + MAX_SECRET_LENGTH
                    + " characters, or null to remove it");
            return current;
        }
        return text.strip();
    }

    private RelayProperties.Webhook webhook(Object value, RelayProperties.Webhook current) {
        if (value == null) {
            return new RelayProperties.Webhook(null, null);
        }
        Map<?, ?> map = object("webhook", value);
        if (map == null) {
            return current;
        }
        only("webhook", map, Set.of("url", "key"));
        String url = current.url();
        if (map.containsKey("url")) {
            Object raw = map.get("url");
            url = raw == null ? null : url("webhook.url", raw);
        }
        return new RelayProperties.Webhook(url, secret("webhook", map, "key", current.key()));
    }

    private String url(String field, Object raw) {
        if (raw instanceof String text && text.length() <= MAX_URL_LENGTH) {
            try {
                URI uri = new URI(text);
                String scheme = uri.getScheme() == null ? "" : uri.getScheme();
                if ((scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null
                        && uri.getUserInfo() == null && uri.getFragment() == null) {
                    return text;
                }
            } catch (URISyntaxException e) {
                // named below
            }
        }
        invalid(field, "must be an absolute http or https URL of at most " + MAX_URL_LENGTH
                + " characters, without user info or fragment");
        return null;
    }

    private RelayProperties.InboundKeys inbound(Object value, RelayProperties.InboundKeys current) {
        if (value == null) {
            return new RelayProperties.InboundKeys(null, null);
        }
        Map<?, ?> map = object("inbound", value);
        if (map == null) {
            return current;
        }
        only("inbound", map, Set.of("mailgun_signing_key", "sendgrid_public_key"));
        return new RelayProperties.InboundKeys(secret("inbound", map, "mailgun_signing_key", current.mailgunSigningKey()),
                secret("inbound", map, "sendgrid_public_key", current.sendgridPublicKey()));
    }

    private RelayProperties.RateLimit rateLimit(Object value, RelayProperties.RateLimit current) {
        if (value == null) {
            return new RelayProperties.RateLimit(Duration.ofMinutes(1), null, null, RelayProperties.LimitMode.HARD,
                    List.of(), Map.of());
        }
        Map<?, ?> map = object("rate_limit", value);
        if (map == null) {
            return current;
        }
        only("rate_limit", map, Set.of("window", "messages", "messages_per_user", "mode", "limits",
                "custom_user_limits"));
        Duration window = map.containsKey("window")
                ? duration("rate_limit.window", map.get("window"), Duration.ofSeconds(1), MAX_WINDOW, false)
                : current.window();
        Integer messages = map.containsKey("messages") ? count("rate_limit.messages", map.get("messages"))
                : current.messages();
        Integer perUser = map.containsKey("messages_per_user")
                ? count("rate_limit.messages_per_user", map.get("messages_per_user")) : current.messagesPerUser();
        RelayProperties.LimitMode mode = map.containsKey("mode") ? mode("rate_limit.mode", map.get("mode"))
                : current.mode();
        List<RelayProperties.Limit> limits = map.containsKey("limits")
                ? limits("rate_limit.limits", map.get("limits"), true) : current.limits();
        Map<String, List<RelayProperties.Limit>> custom = map.containsKey("custom_user_limits")
                ? customUserLimits(map.get("custom_user_limits")) : current.customUserLimits();
        return new RelayProperties.RateLimit(window == null ? current.window() : window, messages, perUser,
                mode == null ? RelayProperties.LimitMode.HARD : mode, limits, custom);
    }

    private RelayProperties.LimitMode mode(String field, Object value) {
        if ("hard".equals(value)) {
            return RelayProperties.LimitMode.HARD;
        }
        if ("soft".equals(value)) {
            return RelayProperties.LimitMode.SOFT;
        }
        invalid(field, "must be hard (refuse: 429 / 451 4.7.1) or soft (accept and hold until a window has room)");
        return null;
    }

    /**
     * A list of limits, each {window, messages, per, mode}; {@code withPer} false for a user's own
     * limits (per is the user). No two of one list count the same per and window: they would share
     * one counter.
     */
    private List<RelayProperties.Limit> limits(String field, Object value, boolean withPer) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || list.size() > MAX_LIMITS) {
            invalid(field, "must be a list of at most " + MAX_LIMITS + " limits");
            return List.of();
        }
        List<RelayProperties.Limit> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String item = field + "[" + i + "]";
            Map<?, ?> map = object(item, list.get(i));
            if (map == null) {
                continue;
            }
            only(item, map, withPer ? Set.of("window", "messages", "per", "mode") : Set.of("window", "messages",
                    "mode"));
            Duration window = map.containsKey("window")
                    ? duration(item + ".window", map.get("window"), Duration.ofSeconds(1), MAX_WINDOW, false) : null;
            if (!map.containsKey("window")) {
                invalid(item + ".window", "is required (e.g. 1m, 1h, 24h)");
            }
            Integer messages = map.get("messages") == null ? null : count(item + ".messages", map.get("messages"));
            if (map.get("messages") == null) {
                invalid(item + ".messages", "is required: a whole number from 0 to " + MAX_RATE);
            }
            RelayProperties.LimitPer per = withPer ? RelayProperties.LimitPer.WORKSPACE : RelayProperties.LimitPer.USER;
            if (withPer && map.containsKey("per")) {
                if ("user".equals(map.get("per"))) {
                    per = RelayProperties.LimitPer.USER;
                } else if (!"workspace".equals(map.get("per"))) {
                    invalid(item + ".per", "must be workspace or user");
                }
            }
            RelayProperties.LimitMode mode = map.containsKey("mode") ? mode(item + ".mode", map.get("mode"))
                    : RelayProperties.LimitMode.HARD;
            if (window == null || messages == null || mode == null) {
                continue;
            }
            if (!seen.add(per + "/" + window)) {
                invalid(item, "a second limit per " + per.name().toLowerCase(Locale.ROOT) + " with window "
                        + words(window) + "; give each window once");
                continue;
            }
            out.add(new RelayProperties.Limit(window, messages, per, mode));
        }
        return List.copyOf(out);
    }

    /** custom_user_limits: user id → that user's own limits (a list as in limits, without per). */
    private Map<String, List<RelayProperties.Limit>> customUserLimits(Object value) {
        if (value == null) {
            return Map.of();
        }
        Map<?, ?> map = object("rate_limit.custom_user_limits", value);
        if (map == null) {
            return Map.of();
        }
        if (map.size() > MAX_CUSTOM_USERS) {
            invalid("rate_limit.custom_user_limits", "must name at most " + MAX_CUSTOM_USERS + " users");
            return Map.of();
        }
        Map<String, List<RelayProperties.Limit>> out = new LinkedHashMap<>();
        map.forEach((user, limits) -> {
            String id = String.valueOf(user);
            String field = "rate_limit.custom_user_limits." + id;
            if (id.isEmpty() || id.length() > MAX_USER_ID || Addresses.controlCharacter(id, false) != null) {
                invalid("rate_limit.custom_user_limits", "a user id is 1 to " + MAX_USER_ID
                        + " characters without control characters (as user_id and X-Relay-User are)");
            } else {
                out.put(id, limits(field, limits, false));
            }
        });
        return out;
    }

    private Integer count(String field, Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Integer || value instanceof Long) {
            long n = ((Number) value).longValue();
            if (n >= 0 && n <= MAX_RATE) {
                return (int) n;
            }
        }
        invalid(field, "must be a whole number from 0 to " + MAX_RATE + ", or null for no limit");
        return null;
    }

    /** A duration as application.yml writes it (30s, 5m, 24h, 7d) or ISO-8601 (PT5M), within bounds. */
    private Duration duration(String field, Object value, Duration min, Duration max, boolean nullable) {
        if (value == null && nullable) {
            return null;
        }
        if (value instanceof String text) {
            try {
                Duration d = DurationStyle.detectAndParse(text.trim());
                if (d.compareTo(min) >= 0 && d.compareTo(max) <= 0) {
                    return d;
                }
            } catch (IllegalArgumentException e) {
                // named below
            }
        }
        invalid(field, "must be a duration from " + words(min) + " to " + words(max) + " (e.g. 30s, 5m, 24h, 7d)"
                + (nullable ? ", or null for the default" : ""));
        return null;
    }

    private static String words(Duration d) {
        return d.toDays() >= 1 && d.toHours() % 24 == 0 ? d.toDays() + "d" : d.toSeconds() + "s";
    }

    private RelayProperties.WorkspaceTracking tracking(Object value, RelayProperties.WorkspaceTracking current) {
        Map<?, ?> map = object("tracking", value);
        if (map == null) {
            return current;
        }
        only("tracking", map, Set.of("opens", "clicks"));
        return new RelayProperties.WorkspaceTracking(
                map.containsKey("opens") ? emailTypes("tracking.opens", map.get("opens")) : current.opens(),
                map.containsKey("clicks") ? emailTypes("tracking.clicks", map.get("clicks")) : current.clicks());
    }

    private Map<String, String> variables(Object value) {
        if (value == null) {
            return Map.of();
        }
        Map<?, ?> map = object("variables", value);
        if (map == null) {
            return Map.of();
        }
        if (map.size() > MAX_VARIABLES) {
            invalid("variables", "must have at most " + MAX_VARIABLES + " names");
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        map.forEach((name, inner) -> {
            String field = "variables." + name;
            String text = String.valueOf(name);
            if (!VARIABLE.matcher(text).matches()) {
                invalid(field, "a name is a letter then letters, digits or _ (at most 64)");
            } else if (!names.add(text.toUpperCase(Locale.ROOT))) {
                invalid(field, "is given twice (names are compared without regard to case)");
            } else if (!(inner instanceof String s) || s.length() > MAX_VARIABLE_LENGTH
                    || Addresses.controlCharacter(s, true) != null) {
                invalid(field, "must be a string of at most " + MAX_VARIABLE_LENGTH + " characters");
            } else {
                out.put(text, s);
            }
        });
        return out;
    }

    private List<RelayProperties.DkimKey> dkim(Object value, List<RelayProperties.DkimKey> current) {
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || list.size() > MAX_DKIM_KEYS) {
            invalid("dkim", "must be a list of at most " + MAX_DKIM_KEYS + " keys");
            return current;
        }
        Function<String, RelayProperties.DkimKey> existing = domain -> current.stream()
                .filter(k -> k.domain().equalsIgnoreCase(domain)).findFirst().orElse(null);
        List<RelayProperties.DkimKey> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String field = "dkim[" + i + "]";
            Map<?, ?> map = object(field, list.get(i));
            if (map == null) {
                continue;
            }
            only(field, map, Set.of("domain", "selector", "private_key", "private_key_file"));
            String domain = map.get("domain") instanceof String d ? d : null;
            String selector = map.get("selector") instanceof String s ? s : null;
            if (domain == null || domain.isBlank()) {
                invalid(field + ".domain", "is required");
                continue;
            }
            if (selector == null || selector.isBlank()) {
                invalid(field + ".selector", "is required");
                continue;
            }
            RelayProperties.DkimKey before = existing.apply(domain.trim());
            boolean givesKey = map.containsKey("private_key") || map.containsKey("private_key_file");
            String privateKey = givesKey ? secret(field, map, "private_key", null)
                    : before == null ? null : before.privateKey();
            String file = givesKey ? (map.get("private_key_file") instanceof String f ? f : null)
                    : before == null ? null : before.privateKeyFile();
            if (map.get("private_key_file") != null && !(map.get("private_key_file") instanceof String)) {
                invalid(field + ".private_key_file", "must be a path");
            }
            out.add(new RelayProperties.DkimKey(domain, selector, privateKey, file));
        }
        return List.copyOf(out);
    }

    private RelayProperties.WorkspaceRetention retention(Object value, RelayProperties.WorkspaceRetention current) {
        if (value == null) {
            return new RelayProperties.WorkspaceRetention(null, null);
        }
        Map<?, ?> map = object("retention", value);
        if (map == null) {
            return current;
        }
        only("retention", map, Set.of("raw_mime", "messages"));
        return new RelayProperties.WorkspaceRetention(
                map.containsKey("raw_mime") ? duration("retention.raw_mime", map.get("raw_mime"), Duration.ofHours(1),
                        MAX_RETENTION, true) : current.rawMime(),
                map.containsKey("messages") ? duration("retention.messages", map.get("messages"), Duration.ofHours(1),
                        MAX_RETENTION, true) : current.messages());
    }

    /**
     * priorities: {"types": {email type: level, ...}, "max": level}; a type left out of types
     * keeps its level, null resets both to the defaults.
     */
    private RelayProperties.WorkspacePriorities priorities(Object value, RelayProperties.WorkspacePriorities current) {
        if (value == null) {
            return new RelayProperties.WorkspacePriorities(null, null);
        }
        Map<?, ?> map = object("priorities", value);
        if (map == null) {
            return current;
        }
        only("priorities", map, Set.of("types", "max"));
        Map<EmailType, Priority> types = new java.util.EnumMap<>(EmailType.class);
        if (current != null && current.types() != null) {
            types.putAll(current.types());
        }
        if (map.containsKey("types")) {
            Map<?, ?> given = object("priorities.types", map.get("types"));
            if (given != null) {
                given.forEach((type, level) -> {
                    String field = "priorities.types." + type;
                    var known = EmailType.fromId(String.valueOf(type));
                    if (known.isEmpty()) {
                        invalid(field, "is not an email type; they are " + types());
                    } else {
                        types.put(known.get(), priority(field, level));
                    }
                });
            }
        }
        Priority max = current == null ? null : current.max();
        if (map.containsKey("max")) {
            max = priority("priorities.max", map.get("max"));
        }
        return new RelayProperties.WorkspacePriorities(Map.copyOf(types), max);
    }

    private Priority priority(String field, Object value) {
        if (value instanceof String text) {
            var priority = Priority.fromId(text);
            if (priority.isPresent()) {
                return priority.get();
            }
        }
        invalid(field, "must be one of " + Priority.ids());
        return Priority.NORMAL;
    }

    /**
     * The LLM personalisation: enabled, placeholders (NAME → prompt), fallbacks (NAME → text, each
     * of a placeholder) and model (null: relay.llm.model). Null turns it off and forgets it.
     */
    private RelayProperties.WorkspaceLlm llm(Object value, RelayProperties.WorkspaceLlm current) {
        if (value == null) {
            return new RelayProperties.WorkspaceLlm(false, Map.of(), Map.of(), null);
        }
        Map<?, ?> map = object("llm", value);
        if (map == null) {
            return current;
        }
        only("llm", map, Set.of("enabled", "placeholders", "fallbacks", "model"));
        boolean enabled = current.enabled();
        if (map.containsKey("enabled")) {
            if (map.get("enabled") instanceof Boolean b) {
                enabled = b;
            } else {
                invalid("llm.enabled", "must be true or false");
            }
        }
        Map<String, String> placeholders = map.containsKey("placeholders")
                ? texts("llm.placeholders", map.get("placeholders"), MAX_PROMPT_LENGTH) : current.placeholders();
        Map<String, String> fallbacks = map.containsKey("fallbacks")
                ? texts("llm.fallbacks", map.get("fallbacks"), MAX_FALLBACK_LENGTH) : current.fallbacks();
        fallbacks.keySet().stream().filter(name -> !placeholders.containsKey(name)).sorted()
                .forEach(name -> invalid("llm.fallbacks." + name, "names no placeholder of llm.placeholders"));
        String model = current.model();
        if (map.containsKey("model")) {
            Object raw = map.get("model");
            if (raw == null) {
                model = null;
            } else if (raw instanceof String text && MODEL.matcher(text).matches()) {
                model = text;
            } else {
                invalid("llm.model", "must be a model name (letters, digits and ._:/@-, at most 200), or null for"
                        + " relay.llm.model");
            }
        }
        if (enabled && placeholders.isEmpty()) {
            invalid("llm.placeholders", "must name at least one placeholder when llm is enabled");
        }
        return new RelayProperties.WorkspaceLlm(enabled, placeholders, fallbacks, model);
    }

    /** NAME → text, the names as written between << and >> (upper case), each text bounded and without controls. */
    private Map<String, String> texts(String field, Object value, int maxLength) {
        if (value == null) {
            return Map.of();
        }
        Map<?, ?> map = object(field, value);
        if (map == null) {
            return Map.of();
        }
        if (map.size() > MAX_PLACEHOLDERS) {
            invalid(field, "must have at most " + MAX_PLACEHOLDERS + " names");
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((name, inner) -> {
            String text = String.valueOf(name);
            if (!PLACEHOLDER.matcher(text).matches()) {
                invalid(field + "." + text, "a name is an upper-case letter then upper-case letters, digits or _"
                        + " (at most 64), as in <<TRENDING_QUESTION>>");
            } else if (!(inner instanceof String s) || s.isBlank() || s.length() > maxLength
                    || Addresses.controlCharacter(s, true) != null) {
                invalid(field + "." + text, "must be a non-empty string of at most " + maxLength + " characters");
            } else {
                out.put(text, s);
            }
        });
        return out;
    }
}
