package com.mailrelay.message;

import java.util.Map;

/**
 * The {{NAME}} variables a submission brings for its recipients.
 *
 * @param variables          name → value, for every recipient
 * @param recipientVariables lower-case recipient address → (name → value); wins over {@code variables}
 * @param placeholders       whether the message may contain {{NAME}} placeholders at all: without
 *                           them (and without tracking) it is stored as it is, no MIME parsed
 */
public record MergeData(Map<String, String> variables, Map<String, Map<String, String>> recipientVariables,
                        boolean placeholders) {

    public static final MergeData NONE = new MergeData(Map.of(), Map.of(), false);

    public MergeData {
        variables = Map.copyOf(variables);
        recipientVariables = Map.copyOf(recipientVariables);
    }
}
