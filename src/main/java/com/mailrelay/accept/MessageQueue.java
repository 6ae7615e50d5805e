package com.mailrelay.accept;

/**
 * Where accepted messages go when they do not go straight into the messages table: present only
 * with {@code relay.queue: kafka} (queue.KafkaMessageQueue). Without one, {@link MessageAcceptor}
 * stores each message itself (the database queue).
 */
public interface MessageQueue {

    /**
     * Hands the message over durably and returns only once that is done; any failure means
     * nothing was kept, and is answered like a database failure (503 / 451).
     */
    MessageAcceptor.Accepted enqueue(Submission submission);
}
