package com.mailrelay.ingress.rest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import com.mailrelay.config.RelayProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Checks API request bodies before anything reads them: a body that is not JSON gets 415 (the
 * HTTP binding would otherwise try to parse it as a form), and one over relay.max-message-size
 * gets 413 — by Content-Length when given, else by reading at most limit + 1 bytes of a chunked body.
 */
@Component
// First of all filters: Spring's form-content filter, for one, would read a whole PUT body of
// type x-www-form-urlencoded into memory before this one could refuse it.
@Order(Ordered.HIGHEST_PRECEDENCE)
public class ApiRequestFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiRequestFilter.class);

    private final long limit;

    public ApiRequestFilter(RelayProperties properties) {
        this.limit = properties.maxMessageSize().toBytes();
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        // Everything but actuator: the raw URI may be percent-encoded ("/%61pi/..."), so no prefix
        // test on it can be trusted to catch every API request.
        return request.getRequestURI().startsWith("/actuator/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (hasBody(request) && !acceptable(request)) {
            log.info("{} {} rejected with 415: Content-Type {}", request.getMethod(), request.getRequestURI(),
                    request.getContentType());
            write(response, HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    "send the request body as JSON with 'Content-Type: application/json' "
                            + "(route files as 'Content-Type: application/yaml', unsubscribe requests as a form)");
            return;
        }
        long declared = request.getContentLengthLong();
        if (declared > limit) {
            reject(request, response, declared);
            return;
        }
        if (declared >= 0) {
            chain.doFilter(request, response);
            return;
        }
        byte[] body = request.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        if (body.length > limit) {
            reject(request, response, body.length);
            return;
        }
        chain.doFilter(new BufferedBodyRequest(request, body), response);
    }

    private void reject(HttpServletRequest request, HttpServletResponse response, long size) throws IOException {
        boolean chunked = request.getContentLengthLong() < 0;
        log.info("{} {} rejected with 413: body of {} bytes, over the limit of {}", request.getMethod(),
                request.getRequestURI(), chunked ? "more than " + limit : String.valueOf(size), limit);
        response.setHeader("Connection", "close");
        write(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "message_too_large",
                "request body exceeds the limit of " + limit + " bytes");
    }

    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || "chunked".equalsIgnoreCase(request.getHeader("Transfer-Encoding"));
    }

    /**
     * JSON everywhere, but route files (PUT /api/v1/routes/{file}) are YAML, and an unsubscribe
     * (POST /u/{token}) is a form, as RFC 8058 has mail clients send it.
     */
    private static boolean acceptable(HttpServletRequest request) {
        String contentType = request.getContentType();
        if (contentType == null) {
            return false;
        }
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        if (request.getRequestURI().contains("/routes/")) {
            return mediaType.endsWith("yaml") || mediaType.equals("text/plain");
        }
        // The servlet path is decoded and normalised, so "/u/" here is the unsubscribe endpoint.
        if (request.getServletPath().startsWith("/u/")) {
            return mediaType.equals("application/x-www-form-urlencoded") || mediaType.equals("multipart/form-data");
        }
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    private static void write(HttpServletResponse response, int status, String error, String message)
            throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.getOutputStream().write(("{\"error\":\"" + error + "\",\"message\":\"" + message + "\"}")
                .getBytes(StandardCharsets.UTF_8));
    }

    /** A request whose body was already read (to measure it) and is served again from memory. */
    private static final class BufferedBodyRequest extends HttpServletRequestWrapper {

        private final byte[] body;

        BufferedBodyRequest(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }

        @Override
        public ServletInputStream getInputStream() {
            InputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() throws IOException {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    return body.length == 0 || inAvailable() == 0;
                }

                private int inAvailable() {
                    try {
                        return in.available();
                    } catch (IOException e) {
                        return 0;
                    }
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("synchronous reads only");
                }
            };
        }

        @Override
        public java.io.BufferedReader getReader() {
            return new java.io.BufferedReader(new java.io.InputStreamReader(new ByteArrayInputStream(body),
                    StandardCharsets.UTF_8));
        }
    }
}
