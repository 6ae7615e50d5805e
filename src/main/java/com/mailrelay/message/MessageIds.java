package com.mailrelay.message;

import java.util.UUID;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;

/** Message ids are version 7 UUIDs: unique across instances and ordered by creation time. */
public final class MessageIds {

    private static final TimeBasedEpochGenerator GENERATOR = Generators.timeBasedEpochGenerator();

    private MessageIds() {
    }

    public static UUID next() {
        return GENERATOR.generate();
    }
}
