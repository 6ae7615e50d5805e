package com.mailrelay.message;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one JSON helper writes what Spring Boot's ObjectMapper wrote before it replaced it (the
 * API's copy of it in snake_case, the event details' plain one), byte for byte.
 */
class JsonTest {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record View(String id, int sizeBytes, Instant queuedAt, Timestamp lastBounceAt, Optional<String> providerId,
                Duration lease, String absent, List<Map<String, Object>> events) {
    }

    /** Spring Boot's defaults: the builder's, and dates and durations as ISO-8601 text. */
    private static ObjectMapper spring() {
        return Jackson2ObjectMapperBuilder.json()
                .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                        SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .build();
    }

    @Test
    void apiBodiesAreWhatSpringsSnakeCaseCopyWrote() throws Exception {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("event_id", 7);
        event.put("at", Instant.parse("2026-12-01T10:15:30.123456Z"));
        View view = new View("m-1", 1234, Instant.parse("2026-12-01T10:15:30Z"),
                Timestamp.from(Instant.parse("2026-11-30T23:59:59.5Z")), Optional.of("acme"), Duration.ofMinutes(5),
                null, List.of(event));
        ObjectMapper before = spring().copy().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

        assertThat(Json.writeApi(view)).isEqualTo(before.writeValueAsString(view)).contains("\"size_bytes\":1234");
    }

    @Test
    void columnValuesAreWhatSpringsMapperWroteAndNullStaysNull() throws Exception {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("provider", "smtp-a");
        detail.put("reply", "250 2.0.0 \"ok\"\r\n");
        detail.put("attempt", 2);
        detail.put("url", null);

        assertThat(Json.write(detail)).isEqualTo(spring().writeValueAsString(detail));
        assertThat(Json.write(List.of("a@b.test"))).isEqualTo("[\"a@b.test\"]");
        assertThat(Json.write(null)).isNull();
    }
}
