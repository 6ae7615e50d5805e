package com.mailrelay.workspace;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import com.mailrelay.config.RelayProperties;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The workspaces, API keys and SMTP users tables (V17). Every change runs in a transaction that
 * first locks the one row of {@code workspace_version} and bumps it: writers are serialised (two
 * instances applying application.yml at once, two admins creating one id), and every instance's
 * {@link Workspaces} sees with one cheap read that its cache is stale.
 */
@Component
public class WorkspaceStore {

    public static final String CONFIG = "config";
    public static final String API = "api";
    /** The reason of the queue_pauses row that a disabled workspace has. */
    public static final String DISABLED_REASON = "workspace disabled";

    public record Row(String id, RelayProperties.Workspace settings, boolean enabled, String source,
                      Instant createdAt, Instant updatedAt) {
    }

    public record KeyRow(long id, String workspace, String name, String sha256, String source, Instant createdAt,
                         Instant revokedAt, Instant lastUsedAt) {
    }

    public record UserRow(String username, String workspace, String passwordHash, String source, Instant createdAt,
                          Instant rotatedAt) {
    }

    /** Everything the cache holds, read after the version it belongs to. */
    public record Loaded(long version, List<Row> workspaces, List<KeyRow> keys, List<UserRow> users) {
    }

    /** What applying application.yml changed, for the audit log (the workspace package cannot write it). */
    public record ConfigChange(String action, String workspace, String target, Map<String, Object> change) {
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;

    public WorkspaceStore(JdbcTemplate jdbc, TransactionTemplate transaction) {
        this.jdbc = jdbc;
        this.transaction = transaction;
    }

    public long version() {
        Long version = jdbc.queryForObject("select version from workspace_version where id = 1", Long.class);
        return version == null ? 0 : version;
    }

    /** The version first: a change committed while the rows are read makes the next poll read again. */
    public Loaded load() {
        return transaction.execute(tx -> new Loaded(version(),
                jdbc.query("select id, settings_json, enabled, source, created_at, updated_at from workspaces order by id",
                        (rs, n) -> row(rs)),
                jdbc.query("select id, workspace_id, name, sha256, source, created_at, revoked_at, last_used_at"
                        + " from api_keys order by workspace_id, id", (rs, n) -> key(rs)),
                jdbc.query("select username, workspace_id, password_hash, source, created_at, rotated_at"
                        + " from smtp_users order by username", (rs, n) -> user(rs))));
    }

    public Row workspace(String id) {
        List<Row> rows = jdbc.query("select id, settings_json, enabled, source, created_at, updated_at"
                + " from workspaces where id = ?", (rs, n) -> row(rs), id);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** A page of workspaces by id, after {@code after} (null: from the start). */
    public List<Row> workspaces(String after, int limit) {
        return jdbc.query("select id, settings_json, enabled, source, created_at, updated_at from workspaces"
                + " where id > ? order by id limit ?", (rs, n) -> row(rs), after == null ? "" : after, limit);
    }

    public List<KeyRow> keys(String workspace) {
        return jdbc.query("select id, workspace_id, name, sha256, source, created_at, revoked_at, last_used_at"
                + " from api_keys where workspace_id = ? order by id", (rs, n) -> key(rs), workspace);
    }

    public KeyRow key(String workspace, String name) {
        List<KeyRow> rows = jdbc.query("select id, workspace_id, name, sha256, source, created_at, revoked_at,"
                + " last_used_at from api_keys where workspace_id = ? and name = ?", (rs, n) -> key(rs), workspace, name);
        return rows.isEmpty() ? null : rows.get(0);
    }

    public List<UserRow> users(String workspace) {
        return jdbc.query("select username, workspace_id, password_hash, source, created_at, rotated_at"
                + " from smtp_users where workspace_id = ? order by username", (rs, n) -> user(rs), workspace);
    }

    public UserRow user(String username) {
        List<UserRow> rows = jdbc.query("select username, workspace_id, password_hash, source, created_at, rotated_at"
                + " from smtp_users where username = ?", (rs, n) -> user(rs), username);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Runs a change in a transaction that holds (and bumps) the version row. */
    public <T> T change(Supplier<T> work) {
        return transaction.execute(tx -> {
            lockVersion();
            T result = work.get();
            bump();
            return result;
        });
    }

    /** A new workspace, enabled, with its first key if one is given (the caller's transaction, via {@link #change}). */
    public void insertWorkspace(String id, RelayProperties.Workspace settings, String source, Instant now) {
        jdbc.update("insert into workspaces (id, settings_json, enabled, source, created_at, updated_at)"
                        + " values (?, ?, true, ?, ?, ?)", id, WorkspaceSettings.write(settings), source, ts(now), ts(now));
    }

    public int updateSettings(String id, RelayProperties.Workspace settings, Instant now) {
        return jdbc.update("update workspaces set settings_json = ?, updated_at = ? where id = ?",
                WorkspaceSettings.write(settings), ts(now), id);
    }

    /**
     * Disables or enables a workspace; a disabled one has its queue paused by a queue_pauses row
     * (every type) written here, in the same transaction, and enabling deletes that row again.
     */
    public int setEnabled(String id, boolean enabled, String actor, Instant now) {
        int changed = jdbc.update("update workspaces set enabled = ?, updated_at = ? where id = ? and enabled = ?",
                enabled, ts(now), id, !enabled);
        if (changed == 1 && !enabled) {
            jdbc.update("insert into queue_pauses (workspace_id, email_type, reason, paused_by, paused_at)"
                    + " values (?, '*', ?, ?, ?) on conflict do nothing", id, DISABLED_REASON, actor, ts(now));
        } else if (changed == 1) {
            jdbc.update("delete from queue_pauses where workspace_id = ? and email_type = '*' and reason = ?",
                    id, DISABLED_REASON);
        }
        return changed;
    }

    public void insertKey(String workspace, String name, String sha256, String source, Instant now) {
        jdbc.update("insert into api_keys (workspace_id, name, sha256, source, created_at) values (?, ?, ?, ?, ?)",
                workspace, name, sha256.toLowerCase(Locale.ROOT), source, ts(now));
    }

    public int revokeKey(String workspace, String name, Instant now) {
        return jdbc.update("update api_keys set revoked_at = ? where workspace_id = ? and name = ? and revoked_at is null",
                ts(now), workspace, name);
    }

    public void insertUser(String username, String workspace, String hash, String source, Instant now) {
        jdbc.update("insert into smtp_users (username, workspace_id, password_hash, source, created_at)"
                + " values (?, ?, ?, ?, ?)", username, workspace, hash, source, ts(now));
    }

    public int rotateUser(String username, String workspace, String hash, Instant now) {
        return jdbc.update("update smtp_users set password_hash = ?, rotated_at = ? where username = ? and workspace_id = ?",
                hash, ts(now), username, workspace);
    }

    public int deleteUser(String username, String workspace) {
        return jdbc.update("delete from smtp_users where username = ? and workspace_id = ?", username, workspace);
    }

    /** Last-used times kept in memory, written together; never moved back, and no version bump (not cached). */
    public void lastUsed(Map<Long, Instant> used) {
        if (used.isEmpty()) {
            return;
        }
        jdbc.batchUpdate("update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)",
                used.entrySet().stream().map(e -> new Object[] {ts(e.getValue()), e.getKey(), ts(e.getValue())}).toList());
    }

    /**
     * Writes relay.workspaces of application.yml: each workspace created or its settings updated
     * (source config), its keys and SMTP users added, changed or — when no longer listed —
     * removed. Whether a workspace is enabled is left as it is (disabling is an operation, not
     * configuration). A workspace no longer in application.yml stays, managed through the API from
     * then on (source api), without the keys and users application.yml gave it. Serialised with every other writer by the version row, so instances
     * starting together agree.
     */
    public List<ConfigChange> applyConfig(Map<String, RelayProperties.Workspace> config, Instant now) {
        return transaction.execute(tx -> {
            lockVersion();
            List<ConfigChange> changes = new ArrayList<>();
            Map<String, Row> existing = new HashMap<>();
            jdbc.query("select id, settings_json, enabled, source, created_at, updated_at from workspaces",
                    (rs, n) -> row(rs)).forEach(r -> existing.put(r.id(), r));
            Map<String, KeyRow> keysByDigest = new HashMap<>();
            jdbc.query("select id, workspace_id, name, sha256, source, created_at, revoked_at, last_used_at"
                    + " from api_keys", (rs, n) -> key(rs)).forEach(k -> keysByDigest.put(k.sha256(), k));
            Map<String, UserRow> usersByName = new HashMap<>();
            jdbc.query("select username, workspace_id, password_hash, source, created_at, rotated_at from smtp_users",
                    (rs, n) -> user(rs)).forEach(u -> usersByName.put(u.username(), u));

            config.forEach((id, declared) -> {
                RelayProperties.Workspace settings = WorkspaceSettings.complete(declared);
                String json = WorkspaceSettings.write(settings);
                Row row = existing.get(id);
                if (row == null) {
                    jdbc.update("insert into workspaces (id, settings_json, enabled, source, created_at, updated_at)"
                            + " values (?, ?, true, ?, ?, ?)", id, json, CONFIG, ts(now), ts(now));
                    changes.add(new ConfigChange("workspace.create", id, id, Map.of("source", CONFIG)));
                } else if (!json.equals(WorkspaceSettings.write(row.settings())) || !CONFIG.equals(row.source())) {
                    jdbc.update("update workspaces set settings_json = ?, source = ?, updated_at = ? where id = ?",
                            json, CONFIG, ts(now), id);
                    changes.add(new ConfigChange("workspace.update", id, id, Map.of("source", CONFIG)));
                }
                applyKeys(id, settings.apiKeySha256(), keysByDigest, changes, now);
                applyUsers(id, settings.smtpUsers(), usersByName, changes, now);
            });
            // Gone from application.yml: the workspace is kept (its mail, its API-made keys and users) and is
            // the API's to manage from now on; the keys and users application.yml declared go with it, so
            // that no credential outlives the file that declared it (the development keys, for one).
            existing.values().stream().filter(r -> CONFIG.equals(r.source()) && !config.containsKey(r.id()))
                    .forEach(r -> {
                        jdbc.update("update workspaces set source = ?, updated_at = ? where id = ?", API, ts(now), r.id());
                        changes.add(new ConfigChange("workspace.update", r.id(), r.id(), Map.of("source", API)));
                        applyKeys(r.id(), List.of(), keysByDigest, changes, now);
                        applyUsers(r.id(), Map.of(), usersByName, changes, now);
                    });
            if (!changes.isEmpty()) {
                bump();
            }
            return changes;
        });
    }

    private void applyKeys(String id, List<String> digests, Map<String, KeyRow> keysByDigest,
                           List<ConfigChange> changes, Instant now) {
        Set<String> declared = new HashSet<>();
        for (String raw : digests) {
            String digest = raw.trim().toLowerCase(Locale.ROOT);
            declared.add(digest);
            KeyRow row = keysByDigest.get(digest);
            if (row == null) {
                String name = configKeyName(id, digest);
                jdbc.update("insert into api_keys (workspace_id, name, sha256, source, created_at) values (?, ?, ?, ?, ?)",
                        id, name, digest, CONFIG, ts(now));
                changes.add(new ConfigChange("api-key.create", id, name, Map.of("source", CONFIG)));
            } else if (!row.workspace().equals(id) || !CONFIG.equals(row.source()) || row.revokedAt() != null) {
                String name = row.workspace().equals(id) ? row.name() : configKeyName(id, digest);
                jdbc.update("update api_keys set workspace_id = ?, name = ?, source = ?, revoked_at = null where id = ?",
                        id, name, CONFIG, row.id());
                changes.add(new ConfigChange("api-key.create", id, name, Map.of("source", CONFIG)));
            }
        }
        for (KeyRow row : keysByDigest.values()) {
            if (row.workspace().equals(id) && CONFIG.equals(row.source()) && !declared.contains(row.sha256())) {
                jdbc.update("delete from api_keys where id = ?", row.id());
                changes.add(new ConfigChange("api-key.revoke", id, row.name(), Map.of("source", CONFIG)));
            }
        }
    }

    /** The name a key of application.yml gets: config- and the start of its digest (unique in the workspace). */
    private String configKeyName(String workspace, String digest) {
        for (int length = 8; length < 64; length += 4) {
            String name = "config-" + digest.substring(0, length);
            Integer taken = jdbc.queryForObject("select count(*) from api_keys where workspace_id = ? and name = ?",
                    Integer.class, workspace, name);
            if (taken == null || taken == 0) {
                return name;
            }
        }
        return "config-" + digest.substring(0, 57);
    }

    private void applyUsers(String id, Map<String, String> users, Map<String, UserRow> usersByName,
                            List<ConfigChange> changes, Instant now) {
        new LinkedHashMap<>(users).forEach((username, hash) -> {
            UserRow row = usersByName.get(username);
            if (row == null) {
                jdbc.update("insert into smtp_users (username, workspace_id, password_hash, source, created_at)"
                        + " values (?, ?, ?, ?, ?)", username, id, hash, CONFIG, ts(now));
                changes.add(new ConfigChange("smtp-user.create", id, username, Map.of("source", CONFIG)));
            } else if (!row.workspace().equals(id) || !row.passwordHash().equals(hash) || !CONFIG.equals(row.source())) {
                jdbc.update("update smtp_users set workspace_id = ?, password_hash = ?, source = ?, rotated_at = ?"
                        + " where username = ?", id, hash, CONFIG, ts(now), username);
                changes.add(new ConfigChange("smtp-user.rotate", id, username, Map.of("source", CONFIG)));
            }
        });
        for (UserRow row : usersByName.values()) {
            if (row.workspace().equals(id) && CONFIG.equals(row.source()) && !users.containsKey(row.username())) {
                jdbc.update("delete from smtp_users where username = ?", row.username());
                changes.add(new ConfigChange("smtp-user.delete", id, row.username(), Map.of("source", CONFIG)));
            }
        }
    }

    private void lockVersion() {
        jdbc.queryForObject("select version from workspace_version where id = 1 for update", Long.class);
    }

    private void bump() {
        jdbc.update("update workspace_version set version = version + 1 where id = 1");
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getString(1), WorkspaceSettings.read(rs.getString(2)), rs.getBoolean(3), rs.getString(4),
                instant(rs.getTimestamp(5)), instant(rs.getTimestamp(6)));
    }

    private static KeyRow key(ResultSet rs) throws SQLException {
        return new KeyRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4).trim(), rs.getString(5),
                instant(rs.getTimestamp(6)), instant(rs.getTimestamp(7)), instant(rs.getTimestamp(8)));
    }

    private static UserRow user(ResultSet rs) throws SQLException {
        return new UserRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                instant(rs.getTimestamp(5)), instant(rs.getTimestamp(6)));
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }

    private static Timestamp ts(Instant instant) {
        return Timestamp.from(instant);
    }
}
