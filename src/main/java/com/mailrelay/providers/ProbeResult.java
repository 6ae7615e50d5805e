package com.mailrelay.providers;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One probe of one provider instance.
 *
 * @param status   {@value #OK}, {@value #FAILED}, or {@value #NONE} (no probe for the instance's type)
 * @param reply    what the provider said (one line, without secrets), or why the probe failed
 * @param failure  the failure classified as a send's would be: transient, permanent, configuration, quota
 * @param code     the provider's reply code when it gave one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProbeResult(Instant at, String status, String reply, String failure, Integer code, long durationMillis) {

    public static final String OK = "ok";
    public static final String FAILED = "failed";
    public static final String NONE = "none";

    public boolean failed() {
        return FAILED.equals(status);
    }
}
