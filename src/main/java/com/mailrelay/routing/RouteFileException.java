package com.mailrelay.routing;

/** A route file that cannot be taken into use; the message names the file and the reason. */
public class RouteFileException extends Exception {
    public RouteFileException(String message) {
        super(message);
    }

    public RouteFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
