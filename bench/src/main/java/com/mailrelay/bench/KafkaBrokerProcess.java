package com.mailrelay.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One Kafka broker (spring-kafka-test's embedded KRaft broker, on loopback) in a JVM of its own,
 * for the Kafka phases: so that its CPU time is counted apart (from /proc), not in the benchmark's.
 * The child prints its bootstrap address and runs until its standard input closes.
 */
final class KafkaBrokerProcess implements AutoCloseable {

    private static final String READY = "BROKERS ";

    final String brokers;
    private final Process process;

    private KafkaBrokerProcess(Process process, String brokers) {
        this.process = process;
        this.brokers = brokers;
    }

    static KafkaBrokerProcess start(Path log) throws IOException, InterruptedException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), KafkaBrokerProcess.class.getName());
        Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(READY)) {
                return new KafkaBrokerProcess(process, line.substring(READY.length()).trim());
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        throw new IOException("the Kafka broker did not start (its output: " + log + ")");
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
    }

    /** The child: starts the broker, prints its address, and stops it when standard input ends. */
    public static void main(String[] args) throws IOException {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1);
        // One broker: the transaction state log (the relay's transactional producers) must fit on it.
        broker.brokerProperty("transaction.state.log.replication.factor", "1");
        broker.brokerProperty("transaction.state.log.min.isr", "1");
        broker.afterPropertiesSet();
        System.out.println(READY + broker.getBrokersAsString());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // runs until the benchmark closes our input (or exits)
            }
        } finally {
            broker.destroy();
        }
        System.exit(0);
    }
}
