package com.mailrelay.message;

/**
 * Text put into HTML the relay writes (a merge value, an LLM's answer, an address on the
 * unsubscribe page): the five characters that could start markup or end an attribute become
 * entities; everything else, non-ASCII included, stays as it is (the parts are UTF-8).
 */
public final class HtmlText {

    private HtmlText() {
    }

    public static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
