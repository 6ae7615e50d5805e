package com.mailrelay.message;

import java.util.regex.Pattern;

/**
 * What a provider id may be: the {@code <id>} of a provider route {@code direct:provider-<id>}, as
 * a submission may name it to choose its provider. Lower-case letters, digits and dashes, so that
 * the name put into {@code direct:provider-${header.relayProviderOverride}} can only be a route of
 * that family, never {@code direct:accept} or an endpoint option.
 */
public final class ProviderIds {

    /** 1 to 63 characters: a-z, 0-9 and '-', starting with a letter or digit (the column holds 63). */
    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private ProviderIds() {
    }

    public static boolean valid(String id) {
        return id != null && ID.matcher(id).matches();
    }
}
