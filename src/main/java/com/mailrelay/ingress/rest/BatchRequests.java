package com.mailrelay.ingress.rest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.Submission;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.springframework.stereotype.Component;

/**
 * The body of {@code POST /api/v1/messages/batch}, {@code {"messages": [...]}}: read once as
 * JSON ({@link #items}), then each item parsed on its own ({@link #submission}) by
 * {@link RestSubmissionParser}, exactly as a single message is. What is wrong with the batch
 * itself (not JSON, not {@code {"messages": [...]}}, empty, too many) refuses the whole request;
 * what is wrong with an item refuses only that item.
 */
@Component
public class BatchRequests {

    static final String MESSAGES = "messages";

    /**
     * One item as it was sent: its place in the batch, its JSON, and the earlier item whose
     * idempotency_key it repeats, if it does.
     */
    public record Item(int index, JsonNode message, Integer sameKeyAs) {
    }

    private final RestSubmissionParser parser;
    private final int maxMessages;

    public BatchRequests(RestSubmissionParser parser, RelayProperties properties) {
        this.parser = parser;
        this.maxMessages = properties.limits().batchMessages();
    }

    /** The items of a batch body, or a refusal of the whole batch (400, or 413 over relay.limits.batch-messages). */
    public List<Item> items(@Body byte[] body) {
        JsonNode tree = RestSubmissionParser.tree(body);
        if (!tree.isObject()) {
            throw invalid("body", "must be a JSON object: {\"messages\": [...]}");
        }
        for (Iterator<String> names = tree.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(MESSAGES)) {
                throw invalid(name, "unknown field (a batch is {\"messages\": [...]})");
            }
        }
        JsonNode messages = tree.get(MESSAGES);
        if (messages == null || !messages.isArray()) {
            throw invalid(MESSAGES, "is required: an array of messages");
        }
        if (messages.isEmpty()) {
            throw invalid(MESSAGES, "must hold at least one message");
        }
        if (messages.size() > maxMessages) {
            throw new BatchTooLargeException(messages.size(), maxMessages);
        }
        List<Item> items = new ArrayList<>(messages.size());
        Map<String, Integer> keys = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            JsonNode key = message.get(RestSubmissionParser.ITEM_KEY);
            Integer first = key != null && key.isTextual() ? keys.putIfAbsent(key.textValue(), i) : null;
            items.add(new Item(i, message, first));
        }
        return items;
    }

    /**
     * One item as a submission of the caller's workspace. Two items of one batch may not share a
     * key: neither is an earlier request of the other, and only one of them could be stored.
     */
    public Submission submission(@ExchangeProperty(RelayHeaders.WORKSPACE) String workspace, @Body Item item) {
        if (item.sameKeyAs() != null) {
            throw invalid(RestSubmissionParser.ITEM_KEY, "is also the key of item " + item.sameKeyAs()
                    + " of this batch: each message needs a key of its own");
        }
        return parser.parseItem(workspace, item.message());
    }

    private static ValidationException invalid(String field, String message) {
        return new ValidationException(List.of(new FieldError(field, message)));
    }
}
