package com.mailrelay.tracking;

import com.mailrelay.message.HtmlText;

/** The small pages of an unsubscribe link, and of any link that expired. */
final class UnsubscribePages {

    private UnsubscribePages() {
    }

    /** Asks to confirm with a POST: the same request a mail client makes for RFC 8058 one-click. */
    static String confirm(String recipient) {
        return page("Unsubscribe", "<p>Stop sending these emails to <strong>" + HtmlText.escape(recipient)
                + "</strong>?</p>\n<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\""
                + " value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>");
    }

    static String done(String recipient) {
        return page("Unsubscribed", "<p><strong>" + HtmlText.escape(recipient)
                + "</strong> is unsubscribed and will not get these emails any more.</p>");
    }

    /** Says no more than that: the link's target and recipient are not shown. */
    static String expired() {
        return page("Link expired", "<p>This link has expired.</p>");
    }

    private static String page(String title, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + title
                + "</title></head>\n<body>\n" + body + "\n</body></html>\n";
    }
}
