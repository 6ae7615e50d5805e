package com.mailrelay.api;

import java.io.IOException;

/**
 * A chunked request body that went past its limit while being read: the read fails here, so the
 * relay never holds more than the limit, and rest-errors answers 413 naming the setting.
 * An IOException because it is thrown from the body's input stream.
 */
public class BodyTooLargeException extends IOException {

    public BodyTooLargeException(long limit, String setting) {
        super("request body exceeds the limit of " + limit + " bytes (" + setting + ")");
    }
}
