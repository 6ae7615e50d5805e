package com.mailrelay.message;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The one walk along an exception's cause chain: what a failure says is usually in a cause a few
 * levels down (a YAML parser's line and column, an SMTP server's reply). Safe against chains that
 * loop back on themselves, and bounded, since a cause chain is data from libraries, not ours.
 */
public final class Causes {

    /** Causes followed at most: far more than any real chain, few enough to never matter. */
    private static final int MOST = 100;

    private Causes() {
    }

    /** The failure and its causes, outermost first, each once. */
    public static List<Throwable> chain(Throwable failure) {
        return chain(failure, Throwable::getCause);
    }

    /**
     * The failure and what {@code next} leads to from it, outermost first, each once — for chains
     * that are not (only) {@link Throwable#getCause()}, such as JavaMail's next exceptions.
     */
    public static List<Throwable> chain(Throwable failure, UnaryOperator<Throwable> next) {
        List<Throwable> chain = new ArrayList<>();
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable cause = failure; cause != null && chain.size() < MOST && seen.add(cause); cause = next.apply(cause)) {
            chain.add(cause);
        }
        return chain;
    }

    /**
     * The chain's messages, outermost first, joined by {@code separator}, each left out when the
     * text so far already says it (wrappers often repeat their cause's message); the failure's
     * class name when none has a message.
     */
    public static String describe(Throwable failure, UnaryOperator<Throwable> next, String separator) {
        if (failure == null) {
            return "unknown failure";
        }
        StringBuilder text = new StringBuilder();
        for (Throwable cause : chain(failure, next)) {
            String message = cause.getMessage() == null ? null : cause.getMessage().trim();
            if (message != null && !message.isEmpty() && !text.toString().contains(message)) {
                text.append(text.isEmpty() ? "" : separator).append(message);
            }
        }
        return text.isEmpty() ? failure.getClass().getSimpleName() : text.toString();
    }
}
