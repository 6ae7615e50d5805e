package com.mailrelay.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A provider template as {@code GET /api/v1/routes/templates} shows it: where it comes from and
 * its parameters as its Kamelet schema declares them. A secret ({@code format: password}) is
 * marked and never shown with a value, not even its default.
 *
 * @param source {@value #JAR} (the relay's own) or {@value #FILE} (relay.routes.templates-directory)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProviderTemplate(String id, String source, String file, String title, String description,
                               List<Parameter> parameters) {

    static final String JAR = "jar";
    static final String FILE = "file";

    /**
     * One parameter. {@code defaultValue} is the template's default as written (a placeholder such
     * as {@code {{relay.provider.attempt-deadline-millis}}} stays one); null for a secret.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Parameter(String name, String title, String description, String type,
                            @JsonProperty("default") String defaultValue, boolean required, boolean secret) {
    }

    /** From the Kamelet's {@code spec.definition} (a JSON schema), read as plain YAML. */
    @SuppressWarnings("unchecked")
    static ProviderTemplate of(String id, String source, String file, Map<String, Object> definition) {
        List<Parameter> parameters = new ArrayList<>();
        Object required = definition.get("required");
        List<Object> requiredNames = required instanceof List<?> list ? (List<Object>) list : List.of();
        if (definition.get("properties") instanceof Map<?, ?> properties) {
            for (var property : properties.entrySet()) {
                Map<String, Object> schema = property.getValue() instanceof Map<?, ?> map
                        ? (Map<String, Object>) map : Map.of();
                boolean secret = "password".equals(text(schema.get("format")));
                parameters.add(new Parameter(String.valueOf(property.getKey()), text(schema.get("title")),
                        text(schema.get("description")), text(schema.get("type")),
                        secret ? null : text(schema.get("default")), requiredNames.contains(property.getKey()), secret));
            }
        }
        return new ProviderTemplate(id, source, file, text(definition.get("title")), text(definition.get("description")),
                List.copyOf(parameters));
    }

    private static String text(Object value) {
        return value == null ? null : String.valueOf(value);
    }
}
