package com.mailrelay.api;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Json;
import com.mailrelay.workspace.AdminKeys;
import com.mailrelay.workspace.UnauthorizedException;
import com.mailrelay.workspace.Workspaces;
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
 * The gate of every HTTP request, before anything reads its body:
 * <ol>
 *   <li>while the relay shuts down, a new request gets 503 with Retry-After ({@link RestDrain});</li>
 *   <li>the credential is checked first: the routes and providers API and actuator (but health)
 *       need an admin key; tracking, unsubscribe, provider events and the OpenAPI document none;
 *       every other API route a workspace's key or an admin key (the route
 *       decides which it takes and what the key may see), so that an anonymous caller
 *       cannot make the relay read, let alone buffer, a single byte of its body (401);</li>
 *   <li>a form (url-encoded or multipart) gets 415 where no route takes one: the servlet stack
 *       parses a form while it binds the request, before any route runs and outside the body
 *       limit. Every other media type is the REST DSL's check ({@code consumes} with client
 *       request validation, answered by {@link ApiRequestValidation});</li>
 *   <li>a body over its limit gets 413: by Content-Length when given, and a chunked body is
 *       counted while the route streams it and cut at the limit ({@link BodyTooLargeException}).
 *       Authenticated routes take relay.max-message-size, but a batch of messages
 *       ({@link #BATCH_PATH}) relay.limits.batch-body-size; the public ones (provider webhooks,
 *       tracking, unsubscribe) relay.inbound.max-body-size, much smaller.</li>
 * </ol>
 * The routes still check their own credential (which workspace, which admin): this filter only
 * makes sure nobody without one costs the relay memory. Paths are judged by the servlet path,
 * which the container has decoded and normalised ("/%61pi/./v1" is "/api/v1").
 */
@Component
// First of all filters but the console's (which turns a session cookie into the key checked here):
// Spring's form-content filter, for one, would read a whole PUT body of type
// x-www-form-urlencoded into memory before this one could refuse it.
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
public class ApiRequestFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiRequestFilter.class);

    /** The one path whose body may hold many messages, and so has a limit of its own. */
    public static final String BATCH_PATH = "/api/v1/messages/batch";

    /** Who may call a path, and so which body limit applies to it. */
    enum Access { PUBLIC, HEALTH, WORKSPACE_OR_ADMIN, ADMIN }

    private final long limit;
    private final long publicLimit;
    private final long batchLimit;
    private final Workspaces workspaces;
    private final AdminKeys adminKeys;
    private final RestDrain drain;

    public ApiRequestFilter(RelayProperties properties, Workspaces workspaces, AdminKeys adminKeys, RestDrain drain) {
        this.limit = properties.maxMessageSize().toBytes();
        this.publicLimit = properties.inbound().maxBodySize().toBytes();
        this.batchLimit = properties.limits().batchBodySize().toBytes();
        this.workspaces = workspaces;
        this.adminKeys = adminKeys;
        this.drain = drain;
    }

    /**
     * The access rule of a (decoded) path. Anything not named public needs a key, so a
     * route added later is closed until it is listed here (the enumeration test holds this).
     */
    static Access access(String path) {
        if (path.equals("/actuator/health") || path.startsWith("/actuator/health/")) {
            return Access.HEALTH;
        }
        if (path.equals("/actuator") || path.startsWith("/actuator/")
                || path.equals("/api/v1/routes") || path.startsWith("/api/v1/routes/")
                || path.equals("/api/v1/providers") || path.startsWith("/api/v1/providers/")) {
            return Access.ADMIN;
        }
        // The API's OpenAPI document holds no secret (OpenApiRoutes: GET only, answered from memory).
        // The console's pages and assets are public: what they show comes from this API, with a key.
        if (path.startsWith("/t/") || path.startsWith("/u/") || path.startsWith("/api/v1/inbound/")
                || path.equals("/console") || path.startsWith("/console/") || path.startsWith("/webjars/")
                || path.equals(OpenApiDocument.JSON_PATH) || path.equals(OpenApiDocument.YAML_PATH)) {
            return Access.PUBLIC;
        }
        // Everything else needs a key: a workspace's (its mail, its settings) or an admin's (which
        // sees every workspace); the route checks which it takes (api/Callers).
        return Access.WORKSPACE_OR_ADMIN;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        Access access = access(path);
        // Health stays answered while draining: its readiness is what tells the load balancer to go.
        if (access != Access.HEALTH && !drain.admit()) {
            log.info("{} {} refused with 503: the relay is shutting down", request.getMethod(), path);
            response.setHeader("Retry-After", String.valueOf(drain.retryAfterSeconds()));
            response.setHeader("Connection", "close");
            write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "shutting_down",
                    "the relay is shutting down; send the request again in a few seconds");
            return;
        }
        boolean counted = access != Access.HEALTH;
        try {
            HttpServletRequest admitted;
            try {
                admitted = authenticate(request, access);
            } catch (UnauthorizedException e) {
                log.info("{} {} rejected with 401: {}", request.getMethod(), path, e.getMessage());
                response.setHeader("WWW-Authenticate", "Bearer");
                if (hasBody(request)) {
                    // The body stays unread: the connection cannot carry another request after it.
                    response.setHeader("Connection", "close");
                }
                write(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized", e.getMessage());
                return;
            }
            filterBody(admitted, response, chain, path, access);
            if (counted && request.isAsyncStarted()) {
                // The REST routes answer asynchronously: the request is in flight until its route is done.
                try {
                    request.getAsyncContext().addListener(drain.completionListener());
                    counted = false;
                } catch (IllegalStateException alreadyComplete) {
                    // completed before the listener could be added: counted out below
                }
            }
        } finally {
            if (counted) {
                drain.done();
            }
        }
    }

    private HttpServletRequest authenticate(HttpServletRequest request, Access access) {
        String authorization = request.getHeader("Authorization");
        return switch (access) {
            case PUBLIC -> request;
            // Health answers everyone with its status; the admin key is the principal that sees details.
            case HEALTH -> adminKeys.matches(authorization) ? AdminPrincipal.wrap(request) : request;
            case ADMIN -> {
                adminKeys.authenticate(authorization);
                yield AdminPrincipal.wrap(request);
            }
            case WORKSPACE_OR_ADMIN -> {
                if (adminKeys.matches(authorization)) {
                    yield AdminPrincipal.wrap(request);
                }
                workspaces.authenticate(authorization);
                yield request;
            }
        };
    }

    private void filterBody(HttpServletRequest request, HttpServletResponse response, FilterChain chain, String path,
                            Access access) throws ServletException, IOException {
        if (hasBody(request) && !acceptable(request, path)) {
            log.info("{} {} rejected with 415: Content-Type {}", request.getMethod(), path, request.getContentType());
            write(response, HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    ApiRequestValidation.UNSUPPORTED);
            return;
        }
        boolean batch = access != Access.PUBLIC && path.equals(BATCH_PATH);
        long max = access == Access.PUBLIC ? publicLimit : batch ? batchLimit : limit;
        String setting = access == Access.PUBLIC ? "relay.inbound.max-body-size"
                : batch ? "relay.limits.batch-body-size" : "relay.max-message-size";
        long declared = request.getContentLengthLong();
        if (declared > max) {
            log.info("{} {} rejected with 413: body of {} bytes, over the limit of {} ({})", request.getMethod(),
                    path, declared, max, setting);
            response.setHeader("Connection", "close");
            write(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "message_too_large",
                    "request body exceeds the limit of " + max + " bytes (" + setting + ")");
            return;
        }
        chain.doFilter(declared >= 0 ? request : new LimitedBodyRequest(request, max, setting), response);
    }

    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || "chunked".equalsIgnoreCase(request.getHeader("Transfer-Encoding"));
    }

    /**
     * What must be refused before the servlet stack reads the body: a form, anywhere but the
     * unsubscribe endpoint (POST /u/{token}, a form as RFC 8058 has mail clients send it). Every
     * other media type rule is the REST verb's own {@code consumes}.
     */
    private static boolean acceptable(HttpServletRequest request, String path) {
        String mediaType = ApiRequestValidation.mediaType(request.getContentType());
        boolean form = mediaType != null
                && (mediaType.equals("application/x-www-form-urlencoded") || mediaType.startsWith("multipart/"));
        return !form || path.startsWith("/u/");
    }

    /** An error body written before Camel: the same {@link ApiError} the routes answer with. */
    public static void write(HttpServletResponse response, int status, String error, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.getOutputStream().write(Json.writeApi(new ApiError(error, message)).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return true;
    }

    /**
     * A chunked body, counted as it is read: the read that passes the limit fails with
     * {@link BodyTooLargeException} (413 through rest-errors), so at most the limit is ever held.
     */
    private static final class LimitedBodyRequest extends HttpServletRequestWrapper {

        private final long max;
        private final String setting;
        private ServletInputStream stream;

        LimitedBodyRequest(HttpServletRequest request, long max, String setting) {
            super(request);
            this.max = max;
            this.setting = setting;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (stream == null) {
                stream = new CountingStream(super.getInputStream(), max, setting);
            }
            return stream;
        }

        /**
         * A reader that a failed conversion cannot close: Camel's type converters close the reader
         * when a read fails and then try again, and that second try must meet the same
         * {@link BodyTooLargeException}, not "Stream closed" (a 503). The container closes the stream.
         */
        @Override
        public BufferedReader getReader() throws IOException {
            String encoding = getCharacterEncoding();
            return new BufferedReader(new InputStreamReader(getInputStream(),
                    encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding))) {
                @Override
                public void close() {
                }
            };
        }
    }

    private static final class CountingStream extends ServletInputStream {

        private final ServletInputStream in;
        private final long max;
        private final String setting;
        private long count;

        CountingStream(ServletInputStream in, long max, String setting) {
            this.in = in;
            this.max = max;
            this.setting = setting;
        }

        @Override
        public int read() throws IOException {
            refuseIfOver();
            int b = in.read();
            if (b >= 0) {
                counted(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            refuseIfOver();
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(int n) throws BodyTooLargeException {
            count += n;
            if (count > max) {
                throw new BodyTooLargeException(max, setting);
            }
        }

        /** Once over the limit, every read fails the same way (nothing more is read). */
        private void refuseIfOver() throws BodyTooLargeException {
            if (count > max) {
                throw new BodyTooLargeException(max, setting);
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
