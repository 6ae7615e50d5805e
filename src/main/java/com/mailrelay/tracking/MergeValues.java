package com.mailrelay.tracking;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.message.HtmlText;

/**
 * The {{NAME}} values of one recipient's copy, and their substitution into HTML (escaped), plain
 * text (as they are) and header values (without CR or LF, so no header can be injected). Names
 * are matched without regard to case. An unknown name is left exactly as written.
 */
final class MergeValues {

    static final String TRACKING_PIXEL = "TRACKING_PIXEL";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z][A-Za-z0-9_]{0,63})\\s*}}");

    enum Context { HTML, TEXT, HEADER }

    /** upper-case name → value */
    private final Map<String, String> values;
    /** the pixel's {@code <img>} tag, or "" when opens are not tracked */
    private final String pixelHtml;

    MergeValues(Map<String, String> values, String pixelHtml) {
        this.values = values;
        this.pixelHtml = pixelHtml;
    }

    /**
     * @param unknown collects the names that have no value
     * @param used    collects the names that were substituted
     */
    String substitute(String text, Context context, Set<String> unknown, Set<String> used) {
        if (text.indexOf("{{") < 0) {
            return text;
        }
        Matcher matcher = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (matcher.find()) {
            String name = matcher.group(1).toUpperCase(Locale.ROOT);
            String value = value(name, context);
            if (value == null) {
                unknown.add(matcher.group(1));
                matcher.appendReplacement(out, Matcher.quoteReplacement(matcher.group()));
            } else {
                used.add(name);
                matcher.appendReplacement(out, Matcher.quoteReplacement(value));
            }
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private String value(String name, Context context) {
        if (name.equals(TRACKING_PIXEL)) {
            return context == Context.HTML ? pixelHtml : "";
        }
        String value = values.get(name);
        if (value == null) {
            return null;
        }
        return switch (context) {
            case HTML -> HtmlText.escape(value);
            case TEXT -> value;
            case HEADER -> value.replace('\r', ' ').replace('\n', ' ');
        };
    }
}
