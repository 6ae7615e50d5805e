package com.mailrelay.provider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;

import com.mailrelay.support.RelayTestSupport;
import org.apache.camel.CamelContext;
import org.apache.camel.model.BeanDefinition;
import org.apache.camel.model.CircuitBreakerDefinition;
import org.apache.camel.model.FilterDefinition;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.Resilience4jConfigurationDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.RouteTemplateParameterDefinition;
import org.apache.camel.model.SendDefinition;
import org.apache.camel.model.TryDefinition;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provider templates, now Kamelets in the jar, are what the Java templates were: the same
 * parameters and defaults, the breaker configured from them and counting only transient failures
 * and timeouts, on the providerCalls pool, the two tries, the short-circuit filter, the node ids and
 * the SMTP endpoint's options to the letter.
 */
class ProviderTemplatesTest extends RelayTestSupport {

    /** The smtp endpoint URI as the Java template built it. */
    private static final String SMTP_URI = "{{scheme}}://{{host}}:{{port}}?username=RAW({{?username}})&password=RAW({{?password}})"
            + "&connectionTimeout={{timeoutMillis}}"
            + "&mail.smtp.timeout={{timeoutMillis}}&mail.smtps.timeout={{timeoutMillis}}"
            + "&mail.smtp.writetimeout={{timeoutMillis}}&mail.smtps.writetimeout={{timeoutMillis}}"
            + "&mail.smtp.starttls.enable={{startTls}}&mail.smtp.starttls.required={{startTls}}"
            + "&mail.smtp.sendpartial=true&mail.smtps.sendpartial=true"
            + "&mail.smtp.quitwait=false&mail.smtps.quitwait=false"
            + "&mail.smtp.ssl.trust={{?sslTrust}}&mail.smtps.ssl.trust={{?sslTrust}}"
            + "&mail.smtp.ssl.checkserveridentity={{checkServerIdentity}}"
            + "&mail.smtps.ssl.checkserveridentity={{checkServerIdentity}}"
            + "&mail.relay.pool.size={{poolSize}}"
            + "&mail.relay.pool.max-messages-per-connection={{maxMessagesPerConnection}}"
            + "&mail.relay.pool.idle-timeout-millis={{idleTimeoutMillis}}"
            + "&mail.relay.pool.noop-check-after-idle-millis={{noopCheckAfterIdleMillis}}";

    @Autowired
    CamelContext camel;

    @Test
    void theSmtpTemplateKeepsItsParametersBreakerTriesAndEndpoint() {
        RouteTemplateDefinition smtp = template("smtp");
        assertThat(defaults(smtp)).containsEntry("port", "25").containsEntry("scheme", "smtp")
                .containsEntry("startTls", "false").containsEntry("checkServerIdentity", "true")
                .containsEntry("timeoutMillis", "30000").containsEntry("failureRateThreshold", "50")
                .containsEntry("minimumNumberOfCalls", "5").containsEntry("slidingWindowSize", "20")
                .containsEntry("waitDurationInOpenState", "30")
                .containsEntry("deadlineMillis", "{{" + ProviderTemplates.DEADLINE_PROPERTY + "}}")
                // The connection pool's limits, as they were before they became parameters.
                .containsEntry("poolSize", "32").containsEntry("maxMessagesPerConnection", "0")
                .containsEntry("idleTimeoutMillis", "5000").containsEntry("noopCheckAfterIdleMillis", "0");
        assertThat(required(smtp)).containsExactlyInAnyOrder("providerId", "host");
        assertThat(smtp.getRoute().getInput().getEndpointUri()).isEqualTo("direct:provider-{{providerId}}");
        assertShape(smtp, "send-{{providerId}}", SMTP_URI, "250 accepted by {{host}}:{{port}}");
    }

    @Test
    void theOutboxTemplateKeepsItsParametersBreakerTriesAndEndpoint() {
        RouteTemplateDefinition outbox = template("outbox");
        assertThat(defaults(outbox)).containsEntry("directory", "data/outbox").containsEntry("slidingWindowSize", "20");
        assertThat(required(outbox)).containsExactly("providerId");
        assertShape(outbox, "write-{{providerId}}",
                "file:{{directory}}?fileName=${header.relayMessageId}.eml&tempPrefix=.writing-",
                "written to {{directory}}");
    }

    @Test
    void theDeadlineDefaultsToTheAttemptDeadlineAndCallsRunOnTheProviderPool() {
        // relay.worker.attempt-deadline is 2m by default.
        assertThat(camel.resolvePropertyPlaceholders("{{" + ProviderTemplates.DEADLINE_PROPERTY + "}}"))
                .isEqualTo("120000");
        assertThat(camel.getRegistry().lookupByNameAndType(ProviderCallPool.BEAN, ExecutorService.class)).isNotNull();
        // An instance has the breaker's values resolved from its parameters.
        assertThat(camel.getRoute("provider-default")).isNotNull();
    }

    private void assertShape(RouteTemplateDefinition template, String sendId, String uri, String reply) {
        List<ProcessorDefinition<?>> all = template.getRoute().getOutputs();
        assertThat(all).hasSize(8);
        assertThat(all.get(0).toString()).contains("relayProviderId").contains("{{providerId}}");
        // The MIME this provider sends: header rules, then the DKIM signature; then its quota, outside the breaker.
        assertThat(all.get(1).toString()).contains("relayHeaderRules").contains("{{headerRules}}");
        assertThat(beanCall(all.get(2))).isEqualTo("outgoingMime.prepare");
        assertThat(beanCall(all.get(3))).isEqualTo("dkimSigning.sign(*, {{dkimSign}})");
        assertThat(beanCall(all.get(4))).isEqualTo("providerQuotas.take(*, {{providerId}}, {{quotaPerSecond}}, "
                + "{{quotaPerMinute}}, {{quotaPerHour}}, {{quotaPerDay}}, '{{quotaWeights}}')");
        List<ProcessorDefinition<?>> steps = all.subList(4, all.size());

        TryDefinition deadline = (TryDefinition) steps.get(1);
        assertThat(deadline.getCatchClauses()).hasSize(2);
        assertThat(deadline.getCatchClauses().get(0)).satisfies(c -> {
            assertThat(c.getExceptions()).containsExactly("java.util.concurrent.TimeoutException");
            assertThat(bean(c.getOutputs())).isEqualTo("timedOut(*, {{providerId}}, {{deadlineMillis}})");
        });
        // A configuration fault (credentials refused) opens the breaker at once.
        assertThat(deadline.getCatchClauses().get(1)).satisfies(c -> {
            assertThat(c.getExceptions()).containsExactly(ProviderConfigurationException.class.getName());
            assertThat(beanCall(c.getOutputs().get(0))).isEqualTo("providerBreakers.configurationFault(*, {{providerId}})");
        });
        CircuitBreakerDefinition breaker = (CircuitBreakerDefinition) deadline.getOutputs().get(0);
        assertThat(breaker.getId()).isEqualTo("breaker-{{providerId}}");
        Resilience4jConfigurationDefinition configuration = breaker.getResilience4jConfiguration();
        assertThat(configuration.getFailureRateThreshold()).isEqualTo("{{failureRateThreshold}}");
        assertThat(configuration.getMinimumNumberOfCalls()).isEqualTo("{{minimumNumberOfCalls}}");
        assertThat(configuration.getSlidingWindowSize()).isEqualTo("{{slidingWindowSize}}");
        assertThat(configuration.getWaitDurationInOpenState()).isEqualTo("{{waitDurationInOpenState}}");
        // Only transient failures and calls past their deadline count against the provider.
        assertThat(configuration.getRecordExceptions()).containsExactly(TransientDeliveryException.class.getName(),
                "java.util.concurrent.TimeoutException");
        assertThat(configuration.getTimeoutEnabled()).isEqualTo("true");
        assertThat(configuration.getTimeoutDuration()).isEqualTo("{{deadlineMillis}}");
        assertThat(configuration.getTimeoutExecutorService()).isEqualTo(ProviderCallPool.BEAN);

        TryDefinition attempt = (TryDefinition) breaker.getOutputs().get(0);
        SendDefinition<?> send = (SendDefinition<?>) attempt.getOutputs().get(1);
        assertThat(send.getId()).isEqualTo(sendId);
        assertThat(send.getEndpointUri()).isEqualTo(uri);
        assertThat(attempt.getCatchClauses()).singleElement().satisfies(c -> {
            assertThat(c.getExceptions()).containsExactly("java.lang.Exception");
            assertThat(bean(c.getOutputs())).isEqualTo("rethrow(*, {{providerId}})");
        });

        FilterDefinition open = (FilterDefinition) steps.get(2);
        assertThat(open.getExpression().getExpression()).contains("CamelCircuitBreakerResponseShortCircuited");
        assertThat(bean(open.getOutputs())).isEqualTo("circuitOpen(*, {{providerId}})");
        assertThat(steps.get(3).toString()).contains("relayProviderReply").contains(reply);
    }

    private static String beanCall(ProcessorDefinition<?> step) {
        BeanDefinition bean = (BeanDefinition) step;
        return bean.getRef() + "." + bean.getMethod();
    }

    private static String bean(List<ProcessorDefinition<?>> outputs) {
        BeanDefinition bean = (BeanDefinition) outputs.get(0);
        assertThat(bean.getRef()).isEqualTo("providerFailures");
        return bean.getMethod();
    }

    private RouteTemplateDefinition template(String id) {
        RouteTemplateDefinition template = ((ModelCamelContext) camel).getRouteTemplateDefinition(id);
        assertThat(template).as("template " + id).isNotNull();
        return template;
    }

    private static Map<String, String> defaults(RouteTemplateDefinition template) {
        Map<String, String> defaults = new java.util.LinkedHashMap<>();
        for (RouteTemplateParameterDefinition parameter : template.getTemplateParameters()) {
            if (parameter.getDefaultValue() != null) {
                defaults.put(parameter.getName(), parameter.getDefaultValue());
            }
        }
        return defaults;
    }

    private static List<String> required(RouteTemplateDefinition template) {
        List<String> required = new ArrayList<>();
        template.getTemplateParameters().stream().filter(RouteTemplateParameterDefinition::isRequired)
                .forEach(parameter -> required.add(parameter.getName()));
        return required;
    }
}
