package com.mailrelay.api;

import java.security.Principal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;

/**
 * A request that presented an admin key, as actuator sees it: the principal that
 * {@code management.endpoint.health.show-details: when-authorized} shows health details to.
 * Spring Security would do the same with a filter chain of its own; one key check does not need it.
 */
final class AdminPrincipal extends HttpServletRequestWrapper {

    private static final Principal ADMIN = () -> "admin";

    private AdminPrincipal(HttpServletRequest request) {
        super(request);
    }

    static HttpServletRequest wrap(HttpServletRequest request) {
        return new AdminPrincipal(request);
    }

    @Override
    public Principal getUserPrincipal() {
        return ADMIN;
    }

    @Override
    public String getRemoteUser() {
        return ADMIN.getName();
    }

    @Override
    public boolean isUserInRole(String role) {
        return true;
    }
}
