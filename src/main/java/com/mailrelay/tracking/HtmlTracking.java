package com.mailrelay.tracking;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Attribute;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Range;
import org.jsoup.parser.Parser;

/**
 * Rewrites the links of an HTML body and adds the open pixel, changing nothing else: jsoup
 * parses the HTML (comments, scripts and odd markup as a browser would) and reports where each
 * {@code <a href>} value and the {@code </body>} tag are in the source; only those spots are
 * edited, so the rest of the document stays byte for byte as written.
 */
final class HtmlTracking {

    private HtmlTracking() {
    }

    private record Edit(int start, int end, String text) {
    }

    /**
     * @param link  the tracking URL for a link's target, or null to leave that link alone; null
     *              to rewrite no link
     * @param pixel the pixel's HTML, put before {@code </body>} (or at the end), or null for none
     */
    static String rewrite(String html, UnaryOperator<String> link, String pixel) {
        Document document = Jsoup.parse(html, "", Parser.htmlParser().setTrackPosition(true));
        List<Edit> edits = new ArrayList<>();
        if (link != null) {
            for (Element anchor : document.select("a[href]")) {
                Attribute href = anchor.attribute("href");
                String target = href.getValue().trim();
                Range value = href.sourceRange().valueRange();
                if (!isWebLink(target) || !value.isTracked()) {
                    continue;
                }
                String replacement = link.apply(target);
                if (replacement != null) {
                    // Our URLs hold only URL-safe characters: nothing to escape in an attribute.
                    edits.add(new Edit(value.startPos(), value.endPos(), replacement));
                }
            }
        }
        if (pixel != null) {
            Range bodyEnd = document.body().endSourceRange();
            int at = bodyEnd.isTracked() && !bodyEnd.isImplicit() ? bodyEnd.startPos() : html.length();
            edits.add(new Edit(at, at, pixel));
        }
        if (edits.isEmpty()) {
            return html;
        }
        edits.sort(Comparator.comparingInt(Edit::start).reversed());
        StringBuilder out = new StringBuilder(html);
        for (Edit edit : edits) {
            out.replace(edit.start(), edit.end(), edit.text());
        }
        return out.toString();
    }

    /** Only http(s) links are tracked: mailto:, tel:, #anchors and relative links stay as they are. */
    private static boolean isWebLink(String url) {
        String lower = url.toLowerCase(Locale.ROOT);
        return lower.startsWith("http://") || lower.startsWith("https://");
    }
}
