package com.mailrelay.queuectl;

import java.time.Instant;

/**
 * One row of queue_pauses as the API shows it: delivery of {@code workspace} × {@code emailType}
 * is paused ('*' for every workspace / every type).
 */
public record PauseView(String workspace, String emailType, String reason, String pausedBy, Instant pausedAt) {
}
