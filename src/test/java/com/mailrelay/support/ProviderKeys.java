package com.mailrelay.support;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Stand-in for SendGrid's signing key: an EC P-256 key pair made once per JVM. The relay is given
 * the public key as SendGrid shows it (base64 DER); tests sign with the private key.
 */
public final class ProviderKeys {

    private static KeyPair sendgrid;

    private ProviderKeys() {
    }

    public static synchronized KeyPair sendgrid() {
        if (sendgrid == null) {
            sendgrid = p256();
        }
        return sendgrid;
    }

    public static String sendgridPublicKey() {
        return Base64.getEncoder().encodeToString(sendgrid().getPublic().getEncoded());
    }

    /** A new P-256 key pair: one SendGrid never had. */
    public static KeyPair p256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
