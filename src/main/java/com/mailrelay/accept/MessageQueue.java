package com.mailrelay.accept;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Submission;
import java.util.List;

/**
 * Where accepted messages go when they do not go straight into the messages table: present only
 * with {@code relay.queue: kafka} (queue.KafkaMessageQueue). Without one, {@link MessageAcceptor}
 * stores each message itself (the database queue).
 */
public interface MessageQueue {

    /**
     * Hands over the records of one accepted message — the message itself, or one personalised
     * copy per recipient — durably and all together, and returns only once that is done, one
     * answer per record in their order. Any failure means none of them is kept, and is answered
     * like a database failure (503 / 451).
     */
    List<Accepted> enqueue(List<Submission> records);
}
