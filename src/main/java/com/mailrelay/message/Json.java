package com.mailrelay.message;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;

/**
 * The one place the relay writes its own JSON: column values (recipients, tags, metadata, event
 * details), API responses and error bodies. Static, so that every floor can reach it, a servlet
 * filter included, without a Spring bean. The mappers are configured as Spring Boot configures
 * its own (the Optional, java.time and parameter-names modules — named, not found on the
 * classpath, where Kafka brings a Scala module —, ISO-8601 dates, unknown properties ignored), so
 * switching a class from Spring's ObjectMapper to this changes no byte.
 */
public final class Json {

    private static final ObjectMapper FIELDS = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .addModule(new ParameterNamesModule())
            .disable(MapperFeature.DEFAULT_VIEW_INCLUSION)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .build();

    /** The API speaks snake_case, in its requests and so in its responses. */
    private static final ObjectMapper API = FIELDS.copy()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private Json() {
    }

    /**
     * The value as JSON with its names as they are (map keys, record components); null stays null,
     * since a column without a value is SQL NULL, not the JSON literal {@code null}.
     */
    public static String write(Object value) {
        return value == null ? null : write(FIELDS, value);
    }

    /** The value as an API body: record components and bean properties in snake_case. */
    public static String writeApi(Object value) {
        return write(API, value);
    }

    /** The value as the API writes it, as plain maps, lists and scalars (snake_case names). */
    public static Object plain(Object value) {
        return value == null ? null : API.convertValue(value, Object.class);
    }

    /** A column's JSON (as {@link #write} wrote it) as plain maps, lists and scalars; null stays null. */
    public static Object read(String json) {
        try {
            return json == null ? null : FIELDS.readValue(json, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON", e);
        }
    }

    private static String write(ObjectMapper mapper, Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }
}
