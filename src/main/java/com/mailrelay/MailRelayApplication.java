package com.mailrelay;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class MailRelayApplication {

    static {
        // Jakarta Mail 2.1 looks its StreamProvider up with a ServiceLoader scan of the class path
        // every time it encodes or decodes a part (jakartaee/mail-api#861): in the packaged jar
        // that scan cost more CPU than the rest of a message's accept. Naming the provider makes
        // it a plain class lookup.
        if (System.getProperty("jakarta.mail.util.StreamProvider") == null) {
            System.setProperty("jakarta.mail.util.StreamProvider", "org.eclipse.angus.mail.util.MailStreamProvider");
        }
    }

    public static void main(String[] args) {
        SpringApplication.run(MailRelayApplication.class, args);
    }
}
