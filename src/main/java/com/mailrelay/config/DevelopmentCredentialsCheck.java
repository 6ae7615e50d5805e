package com.mailrelay.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Refuses to start a relay that listens beyond loopback with any credential of the development
 * configuration (the root application.yml: admin key, the dev workspace's API key and SMTP
 * password, the tracking secret) or with {@code relay.smtp.allow-insecure-auth}. Those values are
 * public, in this repository: on a reachable address they would let anyone send as the dev
 * workspace, call the admin API or forge tracking links. Checked on the loaded configuration,
 * before any bean exists and so before any port is opened; the message names each setting.
 */
public class DevelopmentCredentialsCheck implements EnvironmentPostProcessor, Ordered {

    /** SHA-256 of "admin-key-change-me". */
    static final String DEV_ADMIN_DIGEST = "5c6bf80130163047f88d6ad204118db260965ed5aacb79a44a4285e492f2e85e";
    /** SHA-256 of "dev-key-change-me". */
    static final String DEV_API_KEY_DIGEST = "57c8139db7290a9064aa57837c951138a32df40cca3aca526319f55651368823";
    /** BCrypt of "dev-password-change-me". */
    static final String DEV_SMTP_HASH = "$2a$10$ZjDpD.fRfrUOgY6UGJjp2OAjTKehUtWVDIOTzD.Jp05wy7vtWzOfm";
    static final String DEV_TRACKING_SECRET = "dev-tracking-secret-change-me";

    private static final List<String> DEV_DIGESTS = List.of(DEV_ADMIN_DIGEST, DEV_API_KEY_DIGEST);

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        Binder binder = Binder.get(environment);
        List<String> exposed = exposedListeners(binder);
        if (exposed.isEmpty()) {
            return;
        }
        List<String> problems = developmentSettings(binder);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Refusing to start: the relay listens on a non-loopback address ("
                    + String.join(", ", exposed) + ") while " + String.join("; ", problems)
                    + ". Those values are public (the repository's development application.yml): set your own "
                    + "(README: \"Making keys\") or listen on 127.0.0.1 only.");
        }
    }

    /** The listeners bound beyond loopback, each as "setting=value". */
    static List<String> exposedListeners(Binder binder) {
        List<String> exposed = new ArrayList<>();
        String http = binder.bind("server.address", String.class).orElse(null);
        if (!loopback(http)) {
            exposed.add("server.address=" + (http == null ? "(unset: every interface)" : http));
        }
        Integer managementPort = binder.bind("management.server.port", Integer.class).orElse(null);
        if (managementPort != null && managementPort >= 0) {
            String management = binder.bind("management.server.address", String.class).orElse(null);
            if (!loopback(management)) {
                exposed.add("management.server.address=" + (management == null ? "(unset: every interface)" : management));
            }
        }
        boolean smtp = binder.bind("relay.smtp.enabled", Boolean.class).orElse(true);
        String smtpAddress = binder.bind("relay.smtp.bind-address", String.class).orElse("0.0.0.0");
        if (smtp && !loopback(smtpAddress)) {
            exposed.add("relay.smtp.bind-address=" + smtpAddress);
        }
        return exposed;
    }

    /** The development values configured, each naming its setting (never the secret itself). */
    static List<String> developmentSettings(Binder binder) {
        List<String> problems = new ArrayList<>();
        for (String digest : binder.bind("relay.admin.api-key-sha256", Bindable.listOf(String.class)).orElse(List.of())) {
            if (DEV_DIGESTS.contains(digest.trim().toLowerCase(Locale.ROOT))) {
                problems.add("relay.admin.api-key-sha256 holds a development key digest");
            }
        }
        Map<String, RelayProperties.Workspace> workspaces = binder.bind("relay.workspaces",
                Bindable.mapOf(String.class, RelayProperties.Workspace.class)).orElse(Map.of());
        workspaces.forEach((id, workspace) -> {
            if (workspace.apiKeySha256().stream().anyMatch(d -> DEV_DIGESTS.contains(d.trim().toLowerCase(Locale.ROOT)))) {
                problems.add("relay.workspaces." + id + ".api-key-sha256 holds the development key digest");
            }
            workspace.smtpUsers().forEach((user, hash) -> {
                if (DEV_SMTP_HASH.equals(hash == null ? null : hash.trim())) {
                    problems.add("relay.workspaces." + id + ".smtp-users." + user + " has the development password hash");
                }
            });
        });
        if (DEV_TRACKING_SECRET.equals(binder.bind("relay.tracking.secret", String.class).orElse(null))) {
            problems.add("relay.tracking.secret is the development secret");
        }
        if (binder.bind("relay.smtp.allow-insecure-auth", Boolean.class).orElse(false)) {
            problems.add("relay.smtp.allow-insecure-auth is true (SMTP passwords in clear)");
        }
        return problems;
    }

    private static boolean loopback(String address) {
        if (address == null || address.isBlank()) {
            return false;
        }
        try {
            // Every address a name resolves to must be loopback ("localhost" may be 127.0.0.1 and ::1).
            for (InetAddress resolved : InetAddress.getAllByName(address.trim())) {
                if (!resolved.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** After the configuration files are loaded (ConfigDataEnvironmentPostProcessor). */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
