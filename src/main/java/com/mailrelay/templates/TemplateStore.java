package com.mailrelay.templates;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;

import com.mailrelay.message.Json;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** The templates table: one row per version, never changed once written. */
@Component
public class TemplateStore {

    private static final String COLUMNS = "workspace_id, name, version, subject, text_source, html_source,"
            + " partials_json, defaults_json, created_at, created_by";

    private final JdbcTemplate jdbc;

    public TemplateStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Writes the version after the highest (1 for a new name). Two writers of the same name race
     * on the primary key: the loser reads the new highest and tries once more, so each gets a
     * version of its own.
     */
    public StoredTemplate insertNext(StoredTemplate template) {
        for (int attempt = 0; ; attempt++) {
            int version = highest(template.workspace(), template.name()) + 1;
            try {
                insert(template, version);
                return version(template.workspace(), template.name(), version);
            } catch (DuplicateKeyException raced) {
                if (attempt >= 3) {
                    throw raced;
                }
            }
        }
    }

    /** Writes version 1 of a new name; a name taken (even by a writer a moment earlier) is a 409. */
    public StoredTemplate insertFirst(StoredTemplate template) {
        try {
            insert(template, 1);
        } catch (DuplicateKeyException taken) {
            throw new TemplateConflictException("template " + template.name() + " exists already: PUT"
                    + " /api/v1/templates/" + template.name() + " makes its next version");
        }
        return version(template.workspace(), template.name(), 1);
    }

    private void insert(StoredTemplate template, int version) {
        jdbc.update("insert into templates (" + COLUMNS + ") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                template.workspace(), template.name(), version, template.subject(), template.text(),
                template.html(), template.partials().isEmpty() ? null : Json.write(template.partials()),
                template.defaults().isEmpty() ? null : Json.write(template.defaults()),
                Timestamp.from(template.createdAt()), template.createdBy());
    }

    public int highest(String workspace, String name) {
        Integer highest = jdbc.queryForObject("select max(version) from templates where workspace_id = ? and name = ?",
                Integer.class, workspace, name);
        return highest == null ? 0 : highest;
    }

    /** The latest version, or null. */
    public StoredTemplate latest(String workspace, String name) {
        int highest = highest(workspace, name);
        return highest == 0 ? null : version(workspace, name, highest);
    }

    /** One version, or null. */
    public StoredTemplate version(String workspace, String name, int version) {
        List<StoredTemplate> rows = jdbc.query("select " + COLUMNS + " from templates where workspace_id = ?"
                + " and name = ? and version = ?", TemplateStore::row, workspace, name, version);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Every version's number, oldest first. */
    public List<Integer> versions(String workspace, String name) {
        return jdbc.queryForList("select version from templates where workspace_id = ? and name = ? order by version",
                Integer.class, workspace, name);
    }

    /** The names of a workspace after {@code after} (null: from the first), in order, at most limit. */
    public List<String> names(String workspace, String after, int limit) {
        return jdbc.queryForList("select distinct name from templates where workspace_id = ? and name > ?"
                + " order by name fetch first " + limit + " rows only", String.class, workspace,
                after == null ? "" : after);
    }

    /** Deletes every version; how many there were. */
    public int delete(String workspace, String name) {
        return jdbc.update("delete from templates where workspace_id = ? and name = ?", workspace, name);
    }

    @SuppressWarnings("unchecked")
    private static StoredTemplate row(ResultSet rs, int n) throws SQLException {
        String partials = rs.getString(7);
        String defaults = rs.getString(8);
        return new StoredTemplate(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5),
                rs.getString(6), partials == null ? Map.of() : (Map<String, String>) Json.read(partials),
                defaults == null ? Map.of() : (Map<String, Object>) Json.read(defaults),
                rs.getTimestamp(9).toInstant(), rs.getString(10), null);
    }
}
