package com.mailrelay.routing;

import com.mailrelay.message.Refusal;

/** A route file the editing API will not read or check: its name, its size, or upload being off. */
public class RouteFileRefusal extends Refusal {

    private final int status;
    private final String code;

    private RouteFileRefusal(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    static RouteFileRefusal uploadDisabled() {
        return new RouteFileRefusal(403, "upload_disabled",
                "editing route files is off: set relay.routes.upload-enabled=true to turn it on");
    }

    static RouteFileRefusal invalidName() {
        return new RouteFileRefusal(400, "invalid_file_name",
                "the file name must look like dispatch.camel.yaml (a-z, 0-9, -)");
    }

    static RouteFileRefusal notFound(String file) {
        return new RouteFileRefusal(404, "not_found", "there is no route file " + file
                + " in the routes directory (GET /api/v1/routes lists them)");
    }

    static RouteFileRefusal tooLarge(int max) {
        return new RouteFileRefusal(413, "message_too_large", "a route file may be at most " + max + " bytes");
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public String code() {
        return code;
    }
}
