package com.mailrelay.tenants;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import com.mailrelay.message.Json;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.workspace.SettingsCheck;
import com.mailrelay.workspace.WorkspaceSettings;
import com.mailrelay.workspace.WorkspaceStore;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.stereotype.Component;

/**
 * The steps of the workspace admin API (tenants/WorkspaceAdminRoutes decides who may call which):
 * workspaces created, read, changed, disabled and enabled; API keys made (the secret shown once,
 * kept as SHA-256), listed and revoked; SMTP users made, rotated and deleted (BCrypt). Every change
 * goes through {@link WorkspaceStore#change} (one transaction that bumps the change counter), then
 * this instance's cache is read again at once ({@link Workspaces#changed}); the others follow
 * within relay.tenants.refresh-interval. Each step leaves for the audit step what it changed,
 * without a secret.
 * <p>
 * What application.yml declares stays application.yml's: its workspaces' settings, keys and users
 * cannot be changed through the API (409 naming the setting), since the next start would write
 * them back. A config workspace may still get more keys and users through the API, and be disabled.
 */
@Component("workspaceAdmin")
public class WorkspaceAdmin {

    private static final Logger log = LoggerFactory.getLogger(WorkspaceAdmin.class);

    /** Exchange property: the name of the key made with a new workspace (the route audits it too). */
    public static final String NEW_KEY = "relayTenantsNewKey";

    static final Pattern WORKSPACE_ID = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?");
    static final Pattern KEY_NAME = Pattern.compile("[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?");
    static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._@+-]{0,126}[A-Za-z0-9])?");
    static final int MIN_PASSWORD = 12;
    static final int MAX_PASSWORD = 200;
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final WorkspaceStore store;
    private final Workspaces workspaces;
    private final Callers callers;
    private final List<SettingsCheck> checks;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder();

    public WorkspaceAdmin(WorkspaceStore store, Workspaces workspaces, Callers callers, List<SettingsCheck> checks,
                          Clock clock) {
        this.store = store;
        this.workspaces = workspaces;
        this.callers = callers;
        this.checks = checks;
        this.clock = clock;
    }

    // ---- workspaces

    /** POST /api/v1/workspaces: {"id", "key_name"?, "settings"?}. */
    public WorkspaceViews.CreatedView create(Exchange exchange, String body) {
        Map<?, ?> request = object(body);
        List<FieldError> errors = new ArrayList<>();
        for (Object name : request.keySet()) {
            if (!List.of("id", "key_name", "settings").contains(String.valueOf(name))) {
                errors.add(new FieldError(String.valueOf(name), "is not a field here; they are [id, key_name, settings]"));
            }
        }
        String id = request.get("id") instanceof String s ? s : null;
        if (id == null || !WORKSPACE_ID.matcher(id).matches()) {
            errors.add(new FieldError("id", "must be 1 to 64 lower-case letters, digits and hyphens"
                    + " (not at either end)"));
        }
        String keyName = null;
        if (request.containsKey("key_name")) {
            keyName = keyName("key_name", request.get("key_name"), errors);
        }
        Map<?, ?> fields = Map.of();
        if (request.containsKey("settings")) {
            if (request.get("settings") instanceof Map<?, ?> map) {
                fields = map;
            } else {
                errors.add(new FieldError("settings", "must be an object"));
            }
        }
        RelayProperties.Workspace settings = settings(id == null ? "" : id, fields,
                WorkspaceSettings.complete(emptySettings()), "settings.", errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        if (store.workspace(id) != null) {
            throw new ConflictException("workspace " + id + " exists already");
        }
        Instant now = clock.instant();
        String secret = keyName == null ? null : newSecret();
        String name = keyName;
        try {
            store.change(() -> {
                store.insertWorkspace(id, settings, WorkspaceStore.API, now);
                if (name != null) {
                    store.insertKey(id, name, Digests.sha256Hex(secret), WorkspaceStore.API, now);
                }
                return null;
            });
        } catch (DuplicateKeyException e) {
            throw new ConflictException("workspace " + id + " exists already");
        }
        workspaces.changed();
        WorkspaceViews.WorkspaceView view = WorkspaceViews.WorkspaceView.of(store.workspace(id));
        audited(exchange, id, id, Map.of("source", WorkspaceStore.API, "settings", view.settings().fields()));
        if (name != null) {
            exchange.setProperty(NEW_KEY, name);
        }
        log.info("workspace {} created by {}{}", id, Callers.caller(exchange).actor(),
                name == null ? "" : " with API key " + name);
        return new WorkspaceViews.CreatedView(view, name == null ? null
                : new WorkspaceViews.NewKeyView(id, name, secret, now));
    }

    /** GET /api/v1/workspaces: by id, {@code ?cursor=&limit=}. */
    public WorkspaceViews.WorkspacePage list(@Header("cursor") String cursorParam, @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        String after = q.textCursor("cursor", cursorParam);
        q.check();
        List<WorkspaceStore.Row> rows = store.workspaces(after, limit + 1);
        List<WorkspaceViews.WorkspaceView> views = rows.stream().limit(limit).map(WorkspaceViews.WorkspaceView::of)
                .toList();
        String next = rows.size() > limit ? QueryParameters.textCursorOf(views.get(limit - 1).id()) : null;
        return new WorkspaceViews.WorkspacePage(views, next);
    }

    /** GET /api/v1/workspaces/{id}: an admin any, a workspace key its own. */
    public WorkspaceViews.WorkspaceView get(Exchange exchange, @Header("id") String id) {
        return WorkspaceViews.WorkspaceView.of(existing(exchange, id));
    }

    /** PATCH /api/v1/workspaces/{id}: the settings given replace those stored; the others stay. */
    public WorkspaceViews.WorkspaceView update(Exchange exchange, @Header("id") String id, String body) {
        WorkspaceStore.Row row = existing(exchange, id);
        Map<?, ?> fields = object(body);
        List<FieldError> errors = new ArrayList<>();
        RelayProperties.Workspace settings = settings(id, fields, row.settings(), "", errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        fromConfig(row, "its settings are relay.workspaces." + id + " of application.yml; change them there");
        Instant now = clock.instant();
        store.change(() -> store.updateSettings(id, settings, now));
        workspaces.changed();
        WorkspaceViews.WorkspaceView view = WorkspaceViews.WorkspaceView.of(store.workspace(id));
        Map<String, Object> before = WorkspaceViews.SettingsView.of(row.settings()).fields();
        Map<String, Object> after = view.settings().fields();
        Map<String, Object> change = new LinkedHashMap<>();
        after.forEach((name, value) -> {
            if (!Objects.equals(before.get(name), value) || fields.containsKey(name)) {
                change.put(name, value);
            }
        });
        audited(exchange, id, id, change);
        return view;
    }

    /** POST /api/v1/workspaces/{id}/disable: its keys and users refused, its queue paused. */
    public WorkspaceViews.WorkspaceView disable(Exchange exchange, @Header("id") String id) {
        return enable(exchange, id, false);
    }

    public WorkspaceViews.WorkspaceView enable(Exchange exchange, @Header("id") String id) {
        return enable(exchange, id, true);
    }

    private WorkspaceViews.WorkspaceView enable(Exchange exchange, String id, boolean enabled) {
        WorkspaceStore.Row row = existing(exchange, id);
        if (row.enabled() == enabled) {
            throw new ConflictException("workspace " + id + " is " + (enabled ? "enabled" : "disabled") + " already");
        }
        Instant now = clock.instant();
        int changed = store.change(() -> store.setEnabled(id, enabled, Callers.caller(exchange).actor(), now));
        if (changed == 0) {
            throw new ConflictException("workspace " + id + " is " + (enabled ? "enabled" : "disabled") + " already");
        }
        workspaces.changed();
        audited(exchange, id, id, Map.of("enabled", enabled));
        log.info("workspace {} {} by {}", id, enabled ? "enabled" : "disabled", Callers.caller(exchange).actor());
        return WorkspaceViews.WorkspaceView.of(store.workspace(id));
    }

    // ---- API keys

    /** POST /api/v1/workspaces/{id}/api-keys: {"name"}; the answer shows the secret, once. */
    public WorkspaceViews.NewKeyView createKey(Exchange exchange, @Header("id") String id, String body) {
        existing(exchange, id);
        Map<?, ?> request = object(body);
        List<FieldError> errors = new ArrayList<>();
        unknownFields(request, List.of("name"), errors);
        String name = keyName("name", request.get("name"), errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        if (store.key(id, name) != null) {
            throw new ConflictException("workspace " + id + " has a key named " + name + " already (revoked keys"
                    + " keep their name)");
        }
        String secret = newSecret();
        Instant now = clock.instant();
        try {
            store.change(() -> {
                store.insertKey(id, name, Digests.sha256Hex(secret), WorkspaceStore.API, now);
                return null;
            });
        } catch (DuplicateKeyException e) {
            throw new ConflictException("workspace " + id + " has a key named " + name + " already");
        }
        workspaces.changed();
        audited(exchange, id, name, Map.of("name", name));
        return new WorkspaceViews.NewKeyView(id, name, secret, now);
    }

    public WorkspaceViews.KeyPage listKeys(Exchange exchange, @Header("id") String id) {
        existing(exchange, id);
        return new WorkspaceViews.KeyPage(store.keys(id).stream()
                .map(k -> WorkspaceViews.KeyView.of(k, workspaces.unwrittenLastUse(k.id()))).toList(), null);
    }

    /** DELETE /api/v1/workspaces/{id}/api-keys/{name}: refused at once here, within the refresh interval elsewhere. */
    public WorkspaceViews.KeyView revokeKey(Exchange exchange, @Header("id") String id, @Header("name") String name) {
        existing(exchange, id);
        WorkspaceStore.KeyRow key = store.key(id, name);
        if (key == null) {
            throw new NotFoundException("workspace " + id + " has no API key named " + name);
        }
        if (WorkspaceStore.CONFIG.equals(key.source())) {
            throw new ConflictException("key " + name + " is declared in application.yml (relay.workspaces." + id
                    + ".api-key-sha256); remove it there and restart, or it would come back at the next start");
        }
        if (key.revokedAt() != null) {
            throw new ConflictException("key " + name + " was revoked already, at " + key.revokedAt());
        }
        Instant now = clock.instant();
        store.change(() -> store.revokeKey(id, name, now));
        workspaces.changed();
        audited(exchange, id, name, Map.of("name", name, "revoked", true));
        return WorkspaceViews.KeyView.of(store.key(id, name), workspaces.unwrittenLastUse(key.id()));
    }

    // ---- SMTP users

    public WorkspaceViews.UserPage listUsers(Exchange exchange, @Header("id") String id) {
        existing(exchange, id);
        return new WorkspaceViews.UserPage(store.users(id).stream().map(WorkspaceViews.UserView::of).toList(), null);
    }

    /** POST /api/v1/workspaces/{id}/smtp-users: {"username", "password"?}; a generated password is shown once. */
    public WorkspaceViews.NewPasswordView createUser(Exchange exchange, @Header("id") String id, String body) {
        existing(exchange, id);
        Map<?, ?> request = object(body);
        List<FieldError> errors = new ArrayList<>();
        unknownFields(request, List.of("username", "password"), errors);
        String username = request.get("username") instanceof String s ? s : null;
        if (username == null || !USERNAME.matcher(username).matches()) {
            errors.add(new FieldError("username", "must be 1 to 128 letters, digits and . _ @ + - (a letter or digit"
                    + " at either end)"));
        }
        String given = password(request, errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        WorkspaceStore.UserRow existing = store.user(username);
        if (existing != null) {
            throw new ConflictException("SMTP user " + username + " exists already"
                    + (existing.workspace().equals(id) ? "" : " (in another workspace)") + "; user names are unique");
        }
        String password = given != null ? given : newPassword();
        String hash = bcrypt.encode(password);
        Instant now = clock.instant();
        try {
            store.change(() -> {
                store.insertUser(username, id, hash, WorkspaceStore.API, now);
                return null;
            });
        } catch (DuplicateKeyException e) {
            throw new ConflictException("SMTP user " + username + " exists already; user names are unique");
        }
        workspaces.changed();
        audited(exchange, id, username, Map.of("username", username, "generated", given == null));
        return new WorkspaceViews.NewPasswordView(id, username, given == null ? password : null, now);
    }

    /** POST /api/v1/workspaces/{id}/smtp-users/{username}/rotate: the old password stops working. */
    public WorkspaceViews.NewPasswordView rotateUser(Exchange exchange, @Header("id") String id,
                                                      @Header("username") String username, String body) {
        existing(exchange, id);
        WorkspaceStore.UserRow user = user(id, username);
        Map<?, ?> request = body == null || body.isBlank() ? Map.of() : object(body);
        List<FieldError> errors = new ArrayList<>();
        unknownFields(request, List.of("password"), errors);
        String given = password(request, errors);
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        configUser(user, id);
        String password = given != null ? given : newPassword();
        String hash = bcrypt.encode(password);
        Instant now = clock.instant();
        store.change(() -> store.rotateUser(username, id, hash, now));
        workspaces.changed();
        audited(exchange, id, username, Map.of("username", username, "generated", given == null));
        return new WorkspaceViews.NewPasswordView(id, username, given == null ? password : null, now);
    }

    public WorkspaceViews.DeletedView deleteUser(Exchange exchange, @Header("id") String id,
                                                 @Header("username") String username) {
        existing(exchange, id);
        configUser(user(id, username), id);
        store.change(() -> store.deleteUser(username, id));
        workspaces.changed();
        audited(exchange, id, username, Map.of("username", username, "deleted", true));
        return new WorkspaceViews.DeletedView(id, username, true);
    }

    // ---- helpers

    private WorkspaceStore.UserRow user(String id, String username) {
        WorkspaceStore.UserRow user = username == null ? null : store.user(username);
        if (user == null || !user.workspace().equals(id)) {
            throw new NotFoundException("workspace " + id + " has no SMTP user " + username);
        }
        return user;
    }

    private static void configUser(WorkspaceStore.UserRow user, String id) {
        if (WorkspaceStore.CONFIG.equals(user.source())) {
            throw new ConflictException("SMTP user " + user.username() + " is declared in application.yml"
                    + " (relay.workspaces." + id + ".smtp-users); change it there");
        }
    }

    private static void fromConfig(WorkspaceStore.Row row, String why) {
        if (WorkspaceStore.CONFIG.equals(row.source())) {
            throw new ConflictException("workspace " + row.id() + " is declared in application.yml: " + why);
        }
    }

    /** The workspace the caller names and may see (403 for another's key), or 404. */
    private WorkspaceStore.Row existing(Exchange exchange, String id) {
        String scoped = callers.scope(exchange, id);
        WorkspaceStore.Row row = scoped == null ? null : store.workspace(scoped);
        if (row == null) {
            throw new NotFoundException("no workspace has the id " + id);
        }
        return row;
    }

    private RelayProperties.Workspace settings(String id, Map<?, ?> fields, RelayProperties.Workspace current,
                                               String prefix, List<FieldError> errors) {
        SettingsParser parser = new SettingsParser(prefix);
        RelayProperties.Workspace settings = WorkspaceSettings.complete(parser.apply(fields, current));
        errors.addAll(parser.errors());
        if (parser.errors().isEmpty()) {
            for (int i = 0; i < settings.senderDomains().size(); i++) {
                String domain = settings.senderDomains().get(i);
                String owner = workspaces.ownerOfSenderDomain(domain).orElse(null);
                if (owner != null && !owner.equals(id)) {
                    errors.add(new FieldError(prefix + "sender_domains[" + i + "]", domain
                            + " belongs to another workspace; a sender domain selects one"));
                }
            }
            for (SettingsCheck check : checks) {
                check.problems(id, settings).forEach(p -> errors.add(new FieldError(prefix + p.field(), p.message())));
            }
        }
        return settings;
    }

    private static RelayProperties.Workspace emptySettings() {
        return new RelayProperties.Workspace(null, null, null, null, null, null, null, null, null, null, null, false,
                null, null, null);
    }

    private static void unknownFields(Map<?, ?> request, List<String> allowed, List<FieldError> errors) {
        for (Object name : request.keySet()) {
            if (!allowed.contains(String.valueOf(name))) {
                errors.add(new FieldError(String.valueOf(name), "is not a field here; they are " + allowed));
            }
        }
    }

    private static String keyName(String field, Object value, List<FieldError> errors) {
        String name = value instanceof String s ? s : null;
        if (name == null || !KEY_NAME.matcher(name).matches() || name.startsWith("config-")) {
            errors.add(new FieldError(field, "must be 1 to 64 lower-case letters, digits and . _ - (a letter or digit"
                    + " at either end), not starting with config- (application.yml's keys)"));
            return null;
        }
        return name;
    }

    private static String password(Map<?, ?> request, List<FieldError> errors) {
        if (!request.containsKey("password") || request.get("password") == null) {
            return null;
        }
        if (request.get("password") instanceof String p && p.length() >= MIN_PASSWORD && p.length() <= MAX_PASSWORD
                && p.chars().noneMatch(Character::isISOControl) && p.equals(p.strip())) {
            return p;
        }
        errors.add(new FieldError("password", "must be " + MIN_PASSWORD + " to " + MAX_PASSWORD + " characters,"
                + " without control characters or spaces at either end; leave it out to have one generated"));
        return null;
    }

    private static Map<?, ?> object(String body) {
        Object parsed;
        try {
            parsed = body == null || body.isBlank() ? null : Json.read(body);
        } catch (IllegalArgumentException e) {
            parsed = null;
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new ValidationException(List.of(new FieldError("body", "must be a JSON object")));
        }
        return map;
    }

    /** An API key: 32 random bytes, base64url, with a prefix that secret scanners can look for. */
    private String newSecret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return "mrk_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private String newPassword() {
        byte[] bytes = new byte[18];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void audited(Exchange exchange, String workspace, String target, Map<String, Object> change) {
        exchange.setProperty(Audited.WORKSPACE, workspace);
        exchange.setProperty(Audited.TARGET, target);
        exchange.setProperty(Audited.CHANGE, change);
    }
}
