package com.mailrelay.tenants;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.Audited;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * The workspace admin API under {@code /api/v1/workspaces}: workspaces (create and list need the
 * admin key; a workspace key may read and change its own settings), their API keys and SMTP users
 * (the admin key, or the workspace's own key), disable and enable (the admin key). Each route:
 * the credential, the step of {@link WorkspaceAdmin}, the audit entry, the answer. Errors are
 * answered by rest-errors: 400 naming each bad field, 401, 403 for another workspace's key,
 * 404, 409 for what exists already or belongs to application.yml.
 */
@Component
public class WorkspaceAdminRoutes extends RouteBuilder {

    private static final String BASE = "/api/v1/workspaces";

    @Override
    public void configure() {
        RestDefinition rest = rest(BASE).description("Workspaces (tenants), their API keys and SMTP users");

        rest.post().id("rest-create-workspace").consumes(ApiRequestValidation.JSON).produces("application/json")
                .clientRequestValidation(true)
                .description("Creates a workspace (admin key): {\"id\", \"settings\"?, \"key_name\"?}; with key_name"
                        + " its first API key is made and its secret shown in this answer only")
                .outType(WorkspaceViews.CreatedView.class)
                .responseMessage().code(201).message("created").endResponseMessage()
                .responseMessage().code(400).message("a field is invalid (each is named)").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key may not create workspaces").endResponseMessage()
                .responseMessage().code(409).message("the id is taken").endResponseMessage()
                .to("direct:workspace-create");
        rest.get().id("rest-list-workspaces").produces("application/json")
                .description("Every workspace by id (admin key), a page at a time")
                .param().name("cursor").type(RestParamType.query).dataType("string").required(false)
                    .description("next_cursor of the previous page").endParam()
                .param().name("limit").type(RestParamType.query).dataType("integer").required(false)
                    .description("workspaces per page, 1 to 1000 (default 100)").endParam()
                .outType(WorkspaceViews.WorkspacePage.class)
                .responseMessage().code(400).message("a query parameter is invalid").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key may not list workspaces").endResponseMessage()
                .to("direct:workspace-list");
        withId(rest.get("/{id}").id("rest-get-workspace").produces("application/json")
                .description("A workspace and its settings (secrets only as {\"set\": true}); a workspace key reads its own"))
                .outType(WorkspaceViews.WorkspaceView.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .to("direct:workspace-get");
        withId(rest.patch("/{id}").id("rest-update-workspace").consumes(ApiRequestValidation.JSON)
                .produces("application/json").clientRequestValidation(true)
                .description("Changes the settings given (the others, and secrets left out, stay); a workspace key"
                        + " changes its own"))
                .outType(WorkspaceViews.WorkspaceView.class)
                .responseMessage().code(400).message("a setting is invalid (each is named)").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .responseMessage().code(409).message("the workspace is declared in application.yml").endResponseMessage()
                .to("direct:workspace-update");
        withId(rest.post("/{id}/disable").id("rest-disable-workspace").produces("application/json")
                .description("Disables a workspace (admin key): its keys get 401, its SMTP users 535, its queue is"
                        + " paused; accepted mail waits QUEUED"))
                .outType(WorkspaceViews.WorkspaceView.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key may not disable").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .responseMessage().code(409).message("disabled already").endResponseMessage()
                .to("direct:workspace-disable");
        withId(rest.post("/{id}/enable").id("rest-enable-workspace").produces("application/json")
                .description("Enables a disabled workspace (admin key) and resumes its queue"))
                .outType(WorkspaceViews.WorkspaceView.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key may not enable").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .responseMessage().code(409).message("enabled already").endResponseMessage()
                .to("direct:workspace-enable");

        withId(rest.post("/{id}/api-keys").id("rest-create-api-key").consumes(ApiRequestValidation.JSON)
                .produces("application/json").clientRequestValidation(true)
                .description("Makes a named API key: {\"name\"}; its secret is in this answer only (kept as SHA-256)"))
                .outType(WorkspaceViews.NewKeyView.class)
                .responseMessage().code(201).message("created").endResponseMessage()
                .responseMessage().code(400).message("the name is invalid").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .responseMessage().code(409).message("the name is taken").endResponseMessage()
                .to("direct:api-key-create");
        withId(rest.get("/{id}/api-keys").id("rest-list-api-keys").produces("application/json")
                .description("The workspace's API keys: name, source, created, last used, revoked (never a secret)"))
                .outType(WorkspaceViews.KeyPage.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .to("direct:api-key-list");
        withId(rest.delete("/{id}/api-keys/{name}").id("rest-revoke-api-key").produces("application/json")
                .description("Revokes an API key: refused at once on this instance, within"
                        + " relay.tenants.refresh-interval on the others"))
                .param().name("name").type(RestParamType.path).dataType("string").description("the key's name")
                    .endParam()
                .outType(WorkspaceViews.KeyView.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace or key").endResponseMessage()
                .responseMessage().code(409).message("revoked already, or declared in application.yml").endResponseMessage()
                .to("direct:api-key-revoke");

        withId(rest.get("/{id}/smtp-users").id("rest-list-smtp-users").produces("application/json")
                .description("The workspace's SMTP users (never a password or hash)"))
                .outType(WorkspaceViews.UserPage.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .to("direct:smtp-user-list");
        withId(rest.post("/{id}/smtp-users").id("rest-create-smtp-user").consumes(ApiRequestValidation.JSON)
                .produces("application/json").clientRequestValidation(true)
                .description("Makes an SMTP user: {\"username\", \"password\"?}; a generated password is in this"
                        + " answer only (kept as BCrypt)"))
                .outType(WorkspaceViews.NewPasswordView.class)
                .responseMessage().code(201).message("created").endResponseMessage()
                .responseMessage().code(400).message("a field is invalid").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace").endResponseMessage()
                .responseMessage().code(409).message("the user name is taken").endResponseMessage()
                .to("direct:smtp-user-create");
        withId(rest.post("/{id}/smtp-users/{username}/rotate").id("rest-rotate-smtp-user")
                .produces("application/json")
                .description("Gives an SMTP user a new password ({\"password\"?}, else generated and shown once);"
                        + " the old one stops working"))
                .param().name("username").type(RestParamType.path).dataType("string").description("the SMTP user")
                    .endParam()
                .outType(WorkspaceViews.NewPasswordView.class)
                .responseMessage().code(400).message("the password is invalid").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace or user").endResponseMessage()
                .responseMessage().code(409).message("the user is declared in application.yml").endResponseMessage()
                .to("direct:smtp-user-rotate");
        withId(rest.delete("/{id}/smtp-users/{username}").id("rest-delete-smtp-user").produces("application/json")
                .description("Deletes an SMTP user"))
                .param().name("username").type(RestParamType.path).dataType("string").description("the SMTP user")
                    .endParam()
                .outType(WorkspaceViews.DeletedView.class)
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such workspace or user").endResponseMessage()
                .responseMessage().code(409).message("the user is declared in application.yml").endResponseMessage()
                .to("direct:smtp-user-delete");

        from("direct:workspace-create").routeId("workspace-create").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("workspaceAdmin", "create")
                .bean("auditLog", "record(*, 'workspace.create', null)")
                .filter(exchangeProperty(WorkspaceAdmin.NEW_KEY).isNotNull())
                    .removeProperty(Audited.CHANGE)
                    .bean("auditLog", "record(*, 'api-key.create', ${exchangeProperty." + WorkspaceAdmin.NEW_KEY + "})")
                .end()
                .bean("restResponses", "reply(*, 201)");
        from("direct:workspace-list").routeId("workspace-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("workspaceAdmin", "list")
                .bean("restResponses", "reply(*, 200)");
        from("direct:workspace-get").routeId("workspace-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "get")
                .bean("restResponses", "reply(*, 200)");
        from("direct:workspace-update").routeId("workspace-update").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "update")
                .bean("auditLog", "record(*, 'workspace.update', null)")
                .bean("restResponses", "reply(*, 200)");
        from("direct:workspace-disable").routeId("workspace-disable").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("workspaceAdmin", "disable")
                .bean("auditLog", "record(*, 'workspace.disable', null)")
                .bean("restResponses", "reply(*, 200)");
        from("direct:workspace-enable").routeId("workspace-enable").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("workspaceAdmin", "enable")
                .bean("auditLog", "record(*, 'workspace.enable', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:api-key-create").routeId("api-key-create").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "createKey")
                .bean("auditLog", "record(*, 'api-key.create', null)")
                .bean("restResponses", "reply(*, 201)");
        from("direct:api-key-list").routeId("api-key-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "listKeys")
                .bean("restResponses", "reply(*, 200)");
        from("direct:api-key-revoke").routeId("api-key-revoke").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "revokeKey")
                .bean("auditLog", "record(*, 'api-key.revoke', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:smtp-user-list").routeId("smtp-user-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "listUsers")
                .bean("restResponses", "reply(*, 200)");
        from("direct:smtp-user-create").routeId("smtp-user-create").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "createUser")
                .bean("auditLog", "record(*, 'smtp-user.create', null)")
                .bean("restResponses", "reply(*, 201)");
        from("direct:smtp-user-rotate").routeId("smtp-user-rotate").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "rotateUser")
                .bean("auditLog", "record(*, 'smtp-user.rotate', null)")
                .bean("restResponses", "reply(*, 200)");
        from("direct:smtp-user-delete").routeId("smtp-user-delete").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("workspaceAdmin", "deleteUser")
                .bean("auditLog", "record(*, 'smtp-user.delete', null)")
                .bean("restResponses", "reply(*, 200)");
    }

    /** The {id} path parameter every verb under a workspace has. */
    private static RestDefinition withId(RestDefinition verb) {
        return verb.param().name("id").type(RestParamType.path).dataType("string").description("the workspace's id")
                .endParam();
    }

}
