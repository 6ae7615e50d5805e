package com.mailrelay.http;

import java.util.ArrayList;
import java.util.List;

import com.mailrelay.support.RelayInstances;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A relay listening beyond loopback refuses to start while a development credential of the root
 * application.yml (or allow-insecure-auth) is configured, naming the setting. Started as the
 * application is, with those settings on its command line; the check runs on the loaded
 * configuration, so these starts fail before any bean (or port) exists. The same values on
 * loopback start: EmbeddedDefaultTest runs the root application.yml as it is.
 */
class StartupRefusalTest {

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource(delimiter = '|', value = {
            "relay.admin.api-key-sha256=5c6bf80130163047f88d6ad204118db260965ed5aacb79a44a4285e492f2e85e | server.address=0.0.0.0 | relay.admin.api-key-sha256",
            "relay.workspaces.dev.api-key-sha256=57c8139db7290a9064aa57837c951138a32df40cca3aca526319f55651368823 | server.address=0.0.0.0 | relay.workspaces.dev.api-key-sha256",
            "relay.workspaces.dev.smtp-users.dev=$2a$10$ZjDpD.fRfrUOgY6UGJjp2OAjTKehUtWVDIOTzD.Jp05wy7vtWzOfm | relay.smtp.bind-address=0.0.0.0 | relay.workspaces.dev.smtp-users.dev",
            "relay.tracking.secret=dev-tracking-secret-change-me | server.address=192.0.2.10 | relay.tracking.secret",
            "relay.smtp.allow-insecure-auth=true | relay.smtp.bind-address=0.0.0.0 | relay.smtp.allow-insecure-auth",
            // server.address unset: Tomcat listens on every interface.
            "relay.tracking.secret=dev-tracking-secret-change-me | relay.smtp.bind-address=127.0.0.1 | server.address=(unset",
    })
    void developmentValuesOffLoopbackStopTheStart(String development, String listener, String named) {
        List<String> settings = new ArrayList<>(List.of(development, listener));
        if (!listener.startsWith("server.address") && !named.startsWith("server.address")) {
            settings.add("server.address=127.0.0.1");
        }
        assertThatThrownBy(() -> {
            try (ConfigurableApplicationContext relay = RelayInstances.start("refusal", settings)) {
                relay.getId();
            }
        }).hasStackTraceContaining("Refusing to start").hasStackTraceContaining(named)
                .hasStackTraceContaining("non-loopback");
    }
}
