package com.mailrelay.config;

import java.time.Clock;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
@EnableConfigurationProperties(RelayProperties.class)
public class RelayConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }
}
