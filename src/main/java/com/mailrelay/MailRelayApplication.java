package com.mailrelay;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class MailRelayApplication {
    public static void main(String[] args) {
        SpringApplication.run(MailRelayApplication.class, args);
    }
}
