package com.mailrelay.templates;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Writer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import com.github.jknack.handlebars.Context;
import com.github.jknack.handlebars.EscapingStrategy;
import com.github.jknack.handlebars.Handlebars;
import com.github.jknack.handlebars.HandlebarsError;
import com.github.jknack.handlebars.HandlebarsException;
import com.github.jknack.handlebars.Template;
import com.github.jknack.handlebars.io.AbstractTemplateLoader;
import com.github.jknack.handlebars.io.StringTemplateSource;
import com.github.jknack.handlebars.io.TemplateSource;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import org.springframework.stereotype.Component;

/**
 * Compiles and renders templates with Handlebars. The HTML part escapes every {@code {{value}}}
 * (HTML entities; {@code {{{value}}}} writes it as it is); the subject and the text part do not
 * escape, since an entity there would reach the reader as "&amp;amp;". Missing fields are strict: a
 * {@code {{field}}} with no value in the data is an error naming the template, version, part,
 * line and field, unless the template declares a default for it. Upper-case names
 * ({@code {{EMAIL}}}, {@code {{DATE}}}, {@code {{UNSUBSCRIBE_URL}}}...) are the relay's variables:
 * written back as they are, for the personalisation step to fill per copy. A section or #if of a
 * missing field is false. Each rendered part is bounded (relay.templates.max-output).
 * Compiled templates are cached (a stored version never changes; a file's key is its time).
 */
@Component
public class TemplateRenderer {

    /** The relay's own variables, filled later per copy (tracking.Personalizer): passed through. */
    private static final Pattern RELAY_VARIABLE = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    private static final int CACHED = 256;

    /** The three parts of a template, rendered for one recipient. text or html may be null. */
    public record Rendered(String subject, String text, String html) {
    }

    /** A part of a template: its name in errors, its source and its escaping. */
    enum Part {
        SUBJECT("subject", EscapingStrategy.NOOP),
        TEXT("text", EscapingStrategy.NOOP),
        HTML("html", EscapingStrategy.HTML_ENTITY);

        final String id;
        final EscapingStrategy escaping;

        Part(String id, EscapingStrategy escaping) {
            this.id = id;
            this.escaping = escaping;
        }

        String source(StoredTemplate template) {
            return switch (this) {
                case SUBJECT -> template.subject();
                case TEXT -> template.text();
                case HTML -> template.html();
            };
        }
    }

    private final int maxOutput;
    private final Map<String, Template> compiled = Collections.synchronizedMap(
            new LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Template> eldest) {
                    return size() > CACHED;
                }
            });

    public TemplateRenderer(RelayProperties properties) {
        this.maxOutput = properties.templates().maxOutput();
    }

    /** The template rendered with this data, or a 400 naming the template, part, line and field. */
    public Rendered render(StoredTemplate template, Map<String, Object> data, String field) {
        String subject = render(template, Part.SUBJECT, data, field);
        String text = template.text() == null ? null : render(template, Part.TEXT, data, field);
        String html = template.html() == null ? null : render(template, Part.HTML, data, field);
        return new Rendered(subject, text, html);
    }

    /**
     * The syntax error of one source, if any ("line 2, column 3: found 'iff', expected 'if'"):
     * checked when a template is created, so that a send never meets one.
     */
    public Optional<String> syntaxError(String source, Map<String, String> partials) {
        try {
            handlebars(EscapingStrategy.NOOP, partials, Map.of()).compileInline(source);
            return Optional.empty();
        } catch (HandlebarsException e) {
            HandlebarsError error = e.getError();
            return Optional.of(error == null ? String.valueOf(e.getMessage())
                    : "line " + error.line + ", column " + error.column + ": " + error.reason);
        } catch (IOException | RuntimeException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    private String render(StoredTemplate template, Part part, Map<String, Object> data, String field) {
        Template compiledPart = compiled.computeIfAbsent(template.cacheKey() + "/" + part.id, key -> {
            try {
                return handlebars(part.escaping, template.partials(), template.defaults())
                        .compileInline(part.source(template));
            } catch (IOException | HandlebarsException e) {
                // Checked when it was stored; a file may still be wrong.
                throw invalid(field, template, part, e);
            }
        });
        Bounded out = new Bounded(maxOutput);
        Context context = Context.newContext(data);
        try {
            compiledPart.apply(context, out);
        } catch (IOException | HandlebarsException e) {
            throw invalid(field, template, part, e);
        } finally {
            context.destroy();
        }
        return out.toString();
    }

    private static ValidationException invalid(String field, StoredTemplate template, Part part, Exception e) {
        HandlebarsError error = e instanceof HandlebarsException h ? h.getError() : null;
        Throwable cause = e.getCause() == null ? e : e.getCause();
        String where = "template " + template.label() + " (" + part.id + ")"
                + (error == null ? "" : " line " + error.line + ", column " + error.column);
        String why;
        if (cause instanceof MissingField missing) {
            why = "no value for the field '" + missing.getMessage() + "' in template_data, and the template"
                    + " declares no default for it";
        } else if (cause instanceof Bounded.TooLarge tooLarge) {
            why = tooLarge.getMessage();
        } else if (cause instanceof FileNotFoundException || String.valueOf(e.getMessage()).contains("could not be found")) {
            why = "includes a partial the template does not declare";
        } else {
            why = error == null ? String.valueOf(e.getMessage()) : error.reason;
        }
        return new ValidationException(List.of(new FieldError(field, where + ": " + why)));
    }

    private static Handlebars handlebars(EscapingStrategy escaping, Map<String, String> partials,
                                         Map<String, Object> defaults) {
        Handlebars handlebars = new Handlebars(new Partials(partials)).with(escaping);
        handlebars.registerHelperMissing((context, options) -> {
            if (!options.tagType.inline()) {
                return options.inverse();   // {{#missing}}...{{else}}...{{/missing}}: the else branch
            }
            String name = options.helperName;
            if (defaults.containsKey(name)) {
                Object value = defaults.get(name);
                return value == null ? "" : value.toString();
            }
            if (RELAY_VARIABLE.matcher(name).matches()) {
                return new Handlebars.SafeString("{{" + name + "}}");
            }
            throw new MissingField(name);
        });
        return handlebars;
    }

    /** A {@code {{field}}} with no value and no default. */
    static final class MissingField extends RuntimeException {
        MissingField(String name) {
            super(name, null, false, false);
        }
    }

    /** The partials a template declares, by name: {@code {{> footer}}}. */
    private static final class Partials extends AbstractTemplateLoader {

        private final Map<String, String> sources;

        Partials(Map<String, String> sources) {
            this.sources = sources;
            setPrefix("");
            setSuffix("");
        }

        @Override
        public TemplateSource sourceAt(String location) throws IOException {
            String name = location.startsWith("/") ? location.substring(1) : location;
            String source = sources.get(name);
            if (source == null) {
                throw new FileNotFoundException("no partial '" + name + "'");
            }
            return new StringTemplateSource("partial " + name, source);
        }
    }

    /** A writer that refuses to grow past the bound: a loop over large data cannot fill the heap. */
    private static final class Bounded extends Writer {

        static final class TooLarge extends RuntimeException {
            TooLarge(int max) {
                super("the rendered part would be longer than " + max
                        + " characters (relay.templates.max-output)", null, false, false);
            }
        }

        private final StringBuilder out = new StringBuilder();
        private final int max;

        Bounded(int max) {
            this.max = max;
        }

        @Override
        public void write(char[] buffer, int offset, int length) {
            if (out.length() + length > max) {
                throw new TooLarge(max);
            }
            out.append(buffer, offset, length);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
