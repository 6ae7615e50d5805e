package com.mailrelay.store;

import java.util.List;
import java.util.UUID;

import org.springframework.data.jpa.repository.JpaRepository;

public interface EventRepository extends JpaRepository<EventRecord, Long> {

    List<EventRecord> findByMessageIdOrderById(UUID messageId);
}
