package com.mailrelay.templates;

import java.time.Instant;
import java.util.Map;

/**
 * One version of a template, as a send and the API see it: stored (a version of the templates
 * table) or read from files (relay.templates.directory; no versions, read-only through the API).
 *
 * @param version   1, 2, ... for a stored template; null for a file template
 * @param partials  name → source of the partials it may include with {@code {{> name}}}
 * @param defaults  field → value used where the data has no value for the field
 * @param file      the template's files, relative to relay.templates.directory ({@code acme/welcome.*.hbs});
 *                  null for a stored template
 */
public record StoredTemplate(String workspace, String name, Integer version, String subject, String text,
                             String html, Map<String, String> partials, Map<String, Object> defaults,
                             Instant createdAt, String createdBy, String file) {

    public StoredTemplate {
        partials = partials == null ? Map.of() : Map.copyOf(partials);
        defaults = defaults == null ? Map.of() : Map.copyOf(defaults);
    }

    /** How errors name it: "welcome v2", or "welcome (file acme/welcome.*.hbs)". */
    public String label() {
        return file == null ? name + " v" + version : name + " (file " + file + ")";
    }

    /** A key that changes whenever its sources may have: its version, or its files' modification time. */
    String cacheKey() {
        // A file template is read again (a new instance) whenever one of its files changed or went.
        return workspace + "/" + name + "/" + (file == null ? "v" + version
                : "f" + createdAt.toEpochMilli() + "@" + Integer.toHexString(System.identityHashCode(this)));
    }
}
