package com.mailrelay.provider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.springframework.stereotype.Component;

/**
 * The outbox provider type's probe: its directory exists (or can be made) and takes a file — one
 * written and deleted at once, named so that nothing reading .eml files takes it for a message.
 */
@Component
public class OutboxProbe implements ProviderProbe {

    @Override
    public String type() {
        return "outbox";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.get("providerId");
        Path directory = Path.of(parameters.getOrDefault("directory", "data/outbox"));
        try {
            Files.createDirectories(directory);
            Path probe = Files.createTempFile(directory, ".probe-", ".tmp");
            Files.delete(probe);
            return "directory " + directory + " is writable";
        } catch (IOException | RuntimeException e) {
            throw new TransientDeliveryException(providerId, 0, "directory " + directory + " is not writable: " + e, e);
        }
    }
}
