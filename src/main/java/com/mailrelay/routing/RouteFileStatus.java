package com.mailrelay.routing;

import java.time.Instant;
import java.util.List;

/** What the relay knows of one route file: which routes it runs from it and how its last load went. */
public record RouteFileStatus(String file, List<String> routes, Instant lastReloadAt, String lastError) {
}
