package com.mailrelay.support;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import javax.sql.DataSource;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Lets a test break the relay's connection pool: while {@link #begin()} is in force every attempt
 * to get a connection fails, as it does when the database is down or unreachable.
 */
@TestConfiguration(proxyBeanMethods = false)
public class DatabaseOutage {

    private static volatile boolean down;

    public static void begin() {
        down = true;
    }

    public static void end() {
        down = false;
    }

    @Bean
    static BeanPostProcessor breakableDataSource() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                if (bean instanceof DataSource dataSource && !(bean instanceof Breakable)) {
                    return new Breakable(dataSource);
                }
                return bean;
            }
        };
    }

    private static final class Breakable extends DelegatingDataSource {
        Breakable(DataSource target) {
            super(target);
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (down) {
                throw new SQLTransientConnectionException("database unavailable (DatabaseOutage)");
            }
            return super.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            if (down) {
                throw new SQLTransientConnectionException("database unavailable (DatabaseOutage)");
            }
            return super.getConnection(username, password);
        }
    }
}
