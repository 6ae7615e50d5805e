package com.mailrelay.message;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * How urgently a due message is claimed (see store/ClaimRanks): its email type's level by default
 * (relay.workspaces.&lt;id&gt;.priorities), or the one the submission asked for within its
 * workspace's bound. {@link #level()} is what the messages table stores (column priority): higher
 * is more urgent, so that a bound is a comparison.
 */
public enum Priority {
    LOW(0), NORMAL(1), HIGH(2), CRITICAL(3);

    private final int level;

    Priority(int level) {
        this.level = level;
    }

    public int level() {
        return level;
    }

    /** The lower-case name used in the API, YAML and headers. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Priority> fromId(String id) {
        return Arrays.stream(values()).filter(p -> p.id().equals(id)).findFirst();
    }

    /** The priority stored as {@code level}; an unknown level (a row of a later version) reads as normal. */
    public static Priority ofLevel(Integer level) {
        return level == null ? NORMAL
                : Arrays.stream(values()).filter(p -> p.level == level).findFirst().orElse(NORMAL);
    }

    /** The names, most urgent first, for error messages. */
    public static String ids() {
        return "critical, high, normal, low";
    }
}
