package com.mailrelay.console;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.api.ApiRequestFilter;
import com.mailrelay.api.Caller;
import com.mailrelay.audit.AuditLog;
import com.mailrelay.workspace.UnauthorizedException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.ResponseCookie;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The console's side of every request, before the API's own gate (api/ApiRequestFilter):
 * <ul>
 *   <li>{@code /console/session}: sign in (POST a JSON {@code {"key": ...}}), who am I (GET),
 *       sign out (DELETE). Failed sign-ins are counted per client address ({@link SignInThrottle});</li>
 *   <li>a request with the session cookie and no Authorization header is the session's key's request:
 *       the filter gives it the key's Authorization header, so that every route checks it exactly as
 *       it checks any API call. A change (any method but GET, HEAD and OPTIONS) must also carry the
 *       session's token in X-CSRF-Token, or it is refused with 403 before anything reads it;</li>
 *   <li>the console's pages and assets get their security headers: a content security policy that
 *       allows only the relay's own scripts, styles and connections (no inline script, no frame).</li>
 * </ul>
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class ConsoleFilter extends OncePerRequestFilter {

    public static final String SESSION_PATH = "/console/session";
    public static final String CSRF_HEADER = "X-CSRF-Token";
    static final int MAX_SIGN_IN_BODY = 4096;
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";

    private static final Logger log = LoggerFactory.getLogger(ConsoleFilter.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final boolean enabled;
    private final ConsoleSessions sessions;
    private final SignInThrottle throttle;
    private final AuditLog audit;

    public ConsoleFilter(RelayProperties properties, ConsoleSessions sessions, SignInThrottle throttle, AuditLog audit) {
        this.enabled = properties.console().enabled();
        this.sessions = sessions;
        this.throttle = throttle;
        this.audit = audit;
    }

    /** The console's own paths: its pages, and the WebJars assets they load. */
    public static boolean consolePath(String path) {
        return path.equals("/console") || path.startsWith("/console/") || path.startsWith("/webjars/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        if (consolePath(path)) {
            if (!enabled) {
                write(response, HttpServletResponse.SC_NOT_FOUND, "not_found", "the console is off (relay.console.enabled)");
                return;
            }
            securityHeaders(response);
            if (path.equals(SESSION_PATH)) {
                session(request, response);
                return;
            }
            chain.doFilter(request, response);
            return;
        }
        ConsoleSessions.Session session = enabled && request.getHeader("Authorization") == null
                ? sessions.find(cookie(request)) : null;
        if (session == null) {
            chain.doFilter(request, response);
            return;
        }
        if (!safe(request.getMethod()) && !ConsoleSessions.csrfMatches(session, request.getHeader(CSRF_HEADER))) {
            log.info("{} {} refused with 403: a console session's change without its {} header",
                    request.getMethod(), path, CSRF_HEADER);
            if (request.getContentLengthLong() > 0 || request.getHeader("Transfer-Encoding") != null) {
                response.setHeader("Connection", "close");
            }
            write(response, HttpServletResponse.SC_FORBIDDEN, "csrf_failed",
                    "a change made with the console's session cookie must carry the session's " + CSRF_HEADER
                            + " header");
            return;
        }
        response.setHeader("Cache-Control", "no-store");
        chain.doFilter(new KeyedRequest(request, "Bearer " + session.key()), response);
    }

    private void session(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("Cache-Control", "no-store");
        String token = cookie(request);
        switch (request.getMethod()) {
            case "GET" -> {
                // A session whose key was revoked (or whose workspace was disabled) since is over.
                ConsoleSessions.Session session = sessions.findValid(token);
                if (session == null) {
                    write(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized", "not signed in");
                } else {
                    writeSession(response, session);
                }
            }
            case "POST" -> signIn(request, response);
            case "DELETE" -> {
                ConsoleSessions.Session session = sessions.find(token);
                if (session != null && !ConsoleSessions.csrfMatches(session, request.getHeader(CSRF_HEADER))) {
                    write(response, HttpServletResponse.SC_FORBIDDEN, "csrf_failed",
                            "signing out needs the session's " + CSRF_HEADER + " header");
                    return;
                }
                sessions.end(token);
                if (session != null) {
                    audit.record(caller(session, request), "console.sign_out", session.workspace(), null, null);
                }
                response.addHeader("Set-Cookie", cookieHeader(request, "", 0));
                response.setStatus(HttpServletResponse.SC_NO_CONTENT);
            }
            default -> {
                response.setHeader("Allow", "GET, POST, DELETE");
                write(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED, "method_not_allowed",
                        request.getMethod() + " is not allowed here; GET, POST or DELETE");
            }
        }
    }

    private void signIn(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String address = request.getRemoteAddr();
        long wait = throttle.retryAfterSeconds(address);
        if (wait > 0) {
            log.warn("console sign-in from {} refused with 429: too many failed attempts", address);
            response.setHeader("Retry-After", String.valueOf(wait));
            response.setHeader("Connection", "close");
            write(response, 429, "rate_limited", "too many failed sign-ins from this address; try again in "
                    + wait + " s");
            return;
        }
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            // A cross-site form cannot send JSON: this also keeps other sites from signing a browser in.
            response.setHeader("Connection", "close");
            write(response, HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                    "sign in with a JSON body {\"key\": \"...\"} (Content-Type: application/json)");
            return;
        }
        if (request.getContentLengthLong() > MAX_SIGN_IN_BODY) {
            response.setHeader("Connection", "close");
            write(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "message_too_large",
                    "a sign-in body is at most " + MAX_SIGN_IN_BODY + " bytes");
            return;
        }
        String key;
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(MAX_SIGN_IN_BODY + 1);
            if (body.length > MAX_SIGN_IN_BODY) {
                response.setHeader("Connection", "close");
                write(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "message_too_large",
                        "a sign-in body is at most " + MAX_SIGN_IN_BODY + " bytes");
                return;
            }
            JsonNode node = MAPPER.readTree(body);
            JsonNode field = node == null ? null : node.get("key");
            key = field != null && field.isTextual() ? field.asText().trim() : "";
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            write(response, HttpServletResponse.SC_BAD_REQUEST, "invalid_request",
                    "the body must be JSON: {\"key\": \"...\"}");
            return;
        }
        if (key.isEmpty() || key.length() > 512 || key.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            write(response, HttpServletResponse.SC_BAD_REQUEST, "invalid_request",
                    "key must be the API key: 1 to 512 printable ASCII characters, no spaces");
            return;
        }
        ConsoleSessions.Session session;
        try {
            session = sessions.signIn(key);
        } catch (UnauthorizedException e) {
            throttle.failed(address);
            log.warn("console sign-in from {} refused: {}", address, e.getMessage());
            write(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized",
                    "that key is not an admin key nor a workspace's key (or its workspace is disabled)");
            return;
        }
        throttle.succeeded(address);
        audit.record(caller(session, request), "console.sign_in", session.workspace(), null, null);
        log.info("console sign-in from {}: {}", address, session.admin() ? "admin"
                : "workspace " + session.workspace());
        long maxAge = java.time.Duration.between(session.signedInAt(), session.expiresAt()).toSeconds();
        response.addHeader("Set-Cookie", cookieHeader(request, session.token(), maxAge));
        writeSession(response, session);
    }

    private static Caller caller(ConsoleSessions.Session session, HttpServletRequest request) {
        return new Caller(session.workspace(), session.keyName(), request.getRemoteAddr());
    }

    private static void writeSession(HttpServletResponse response, ConsoleSessions.Session session) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("admin", session.admin());
        body.put("workspace", session.workspace());
        body.put("key_name", session.keyName());
        body.put("csrf_token", session.csrfToken());
        body.put("signed_in_at", session.signedInAt().toString());
        body.put("expires_at", session.expiresAt().toString());
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("application/json");
        response.getOutputStream().write(MAPPER.writeValueAsBytes(body));
    }

    private static String cookieHeader(HttpServletRequest request, String value, long maxAge) {
        return ResponseCookie.from(ConsoleSessions.COOKIE, value).httpOnly(true).sameSite("Strict")
                .secure(request.isSecure()).path("/").maxAge(maxAge).build().toString();
    }

    private static String cookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (ConsoleSessions.COOKIE.equals(cookie.getName())) {
                return cookie.getValue();
            }
        }
        return null;
    }

    private static boolean safe(String method) {
        return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
    }

    private static void securityHeaders(HttpServletResponse response) {
        response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "same-origin");
        response.setHeader("Cross-Origin-Opener-Policy", "same-origin");
        response.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    }

    private static void write(HttpServletResponse response, int status, String error, String message) throws IOException {
        ApiRequestFilter.write(response, status, error, message);
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return true;
    }

    /** The request as its session's key would have sent it. */
    private static final class KeyedRequest extends HttpServletRequestWrapper {

        private final String authorization;

        KeyedRequest(HttpServletRequest request, String authorization) {
            super(request);
            this.authorization = authorization;
        }

        @Override
        public String getHeader(String name) {
            return "Authorization".equalsIgnoreCase(name) ? authorization : super.getHeader(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return "Authorization".equalsIgnoreCase(name) ? Collections.enumeration(List.of(authorization))
                    : super.getHeaders(name);
        }

        @Override
        public Enumeration<String> getHeaderNames() {
            List<String> names = Collections.list(super.getHeaderNames());
            if (names.stream().noneMatch("Authorization"::equalsIgnoreCase)) {
                names.add("Authorization");
            }
            return Collections.enumeration(names);
        }
    }
}
