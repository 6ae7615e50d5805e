package com.mailrelay.store;

import java.time.Instant;
import java.util.UUID;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the event outbox (written by QueueStore with each state change). */
@Entity
@Table(name = "events")
public class EventRecord {

    @Id
    private Long id;
    private UUID messageId;
    private String workspaceId;
    private String type;
    private String recipient;
    private String detail;
    private Instant createdAt;
    private String deliveryState;

    protected EventRecord() {
    }

    public Long getId() { return id; }
    public UUID getMessageId() { return messageId; }
    public String getWorkspaceId() { return workspaceId; }
    public String getType() { return type; }
    public String getRecipient() { return recipient; }
    public String getDetail() { return detail; }
    public Instant getCreatedAt() { return createdAt; }
    public String getDeliveryState() { return deliveryState; }
}
