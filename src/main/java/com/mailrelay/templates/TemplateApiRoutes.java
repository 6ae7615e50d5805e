package com.mailrelay.templates;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * The stored templates API under {@code /api/v1/templates}: create, update (a new version), list,
 * get (the latest or a version), delete and preview. A workspace key acts on its own workspace's
 * templates; the admin key on any, named with {@code ?workspace=}. Each route: the credential, the
 * step of {@link Templates}, the audit entry for a change, the answer. Errors are answered by
 * rest-errors: 400 naming each bad field (or a render error's template, line and field), 401,
 * 403 for another workspace, 404, 409 for a name taken or a file template.
 */
@Component
public class TemplateApiRoutes extends RouteBuilder {

    private static final String BASE = "/api/v1/templates";

    @Override
    public void configure() {
        RestDefinition rest = rest(BASE).description("Stored templates of a workspace (Handlebars), with versions");

        withWorkspace(rest.post().id("rest-create-stored-template").consumes(ApiRequestValidation.JSON)
                .produces("application/json").clientRequestValidation(true)
                .description("Creates a template, its version 1: {\"name\", \"subject\", \"text\"?, \"html\"?,"
                        + " \"partials\"?, \"defaults\"?}; every source's syntax is checked"))
                .type(TemplateViews.TemplateRequest.class)
                .param().name("body").type(RestParamType.body).required(true).description("the template").endParam()
                .outType(TemplateViews.TemplateView.class)
                .responseMessage().code(201).message("created").endResponseMessage()
                .responseMessage().code(400).message("a field is invalid (each is named; a syntax error with its line)")
                    .responseModel(ApiError.class).endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(409).message("the name is taken, or is a file template").endResponseMessage()
                .to("direct:template-create");
        withWorkspace(rest.get().id("rest-list-stored-templates").produces("application/json")
                .description("The workspace's templates by name, stored and file, a page at a time"))
                .param().name("cursor").type(RestParamType.query).dataType("string").required(false)
                    .description("next_cursor of the previous page").endParam()
                .param().name("limit").type(RestParamType.query).dataType("integer").required(false)
                    .description("templates per page, 1 to " + Templates.MAX_LIMIT + " (default "
                            + Templates.DEFAULT_LIMIT + ")").endParam()
                .outType(TemplateViews.TemplatePage.class)
                .responseMessage().code(200).message("a page of templates").endResponseMessage()
                .responseMessage().code(400).message("a query parameter is invalid").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .to("direct:template-list");
        withVersion(withName(withWorkspace(rest.get("/{name}").id("rest-get-stored-template").produces("application/json")
                .description("A template's latest version (or ?version=) with its sources and every version number"))))
                .outType(TemplateViews.TemplateView.class)
                .responseMessage().code(200).message("the template").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such template or version").endResponseMessage()
                .to("direct:template-get");
        withName(withWorkspace(rest.put("/{name}").id("rest-update-stored-template").consumes(ApiRequestValidation.JSON)
                .produces("application/json").clientRequestValidation(true)
                .description("Updates a template: its sources become a new version (the earlier ones stay, and"
                        + " sends may still name them)")))
                .type(TemplateViews.TemplateRequest.class)
                .param().name("body").type(RestParamType.body).required(true).description("the new version").endParam()
                .outType(TemplateViews.TemplateView.class)
                .responseMessage().code(200).message("the new version").endResponseMessage()
                .responseMessage().code(400).message("a field is invalid (each is named)").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such template").endResponseMessage()
                .responseMessage().code(409).message("a file template (change the file)").endResponseMessage()
                .to("direct:template-update");
        withName(withWorkspace(rest.delete("/{name}").id("rest-delete-stored-template").produces("application/json")
                .description("Deletes a template, every version: sends naming it are refused (400)")))
                .outType(TemplateViews.DeletedView.class)
                .responseMessage().code(200).message("deleted").endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such template").endResponseMessage()
                .responseMessage().code(409).message("a file template (remove the file)").endResponseMessage()
                .to("direct:template-delete");
        withVersion(withName(withWorkspace(rest.post("/{name}/preview").id("rest-preview-stored-template")
                .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                .description("Renders a template with sample data {\"data\": {...}}: its subject, text and html, or"
                        + " the 400 a send with this data would get"))))
                .type(TemplateViews.PreviewRequest.class)
                .param().name("body").type(RestParamType.body).required(true).description("the sample data").endParam()
                .outType(TemplateViews.PreviewView.class)
                .responseMessage().code(200).message("rendered").endResponseMessage()
                .responseMessage().code(400).message("the data does not render: the template, version, part, line"
                        + " and field are named").responseModel(ApiError.class).endResponseMessage()
                .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                .responseMessage().code(404).message("no such template or version").endResponseMessage()
                .to("direct:template-preview");

        from("direct:template-create").routeId("template-create").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "create")
                .bean("auditLog", "record(*, 'template.create', null)")
                .bean("restResponses", "reply(*, 201)");
        from("direct:template-list").routeId("template-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "list")
                .bean("restResponses", "reply(*, 200)");
        from("direct:template-get").routeId("template-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "get")
                .bean("restResponses", "reply(*, 200)");
        from("direct:template-update").routeId("template-update").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "update")
                .bean("auditLog", "record(*, 'template.update', null)")
                .bean("restResponses", "reply(*, 200)");
        from("direct:template-delete").routeId("template-delete").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "delete")
                .bean("auditLog", "record(*, 'template.delete', null)")
                .bean("restResponses", "reply(*, 200)");
        from("direct:template-preview").routeId("template-preview").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("templates", "preview")
                .bean("restResponses", "reply(*, 200)");
    }

    private static RestDefinition withWorkspace(RestDefinition verb) {
        return verb.param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                .description("the workspace (an admin key names it; a workspace key acts on its own)").endParam();
    }

    private static RestDefinition withName(RestDefinition verb) {
        return verb.param().name("name").type(RestParamType.path).dataType("string").description("the template's name")
                .endParam();
    }

    private static RestDefinition withVersion(RestDefinition verb) {
        return verb.param().name("version").type(RestParamType.query).dataType("integer").required(false)
                .description("a version (default: the latest)").endParam();
    }
}
