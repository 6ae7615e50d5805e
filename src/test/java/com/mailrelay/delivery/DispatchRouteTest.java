package com.mailrelay.delivery;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.spring.boot.CamelAutoConfiguration;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.apache.camel.test.spring.junit5.UseAdviceWith;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Configuration;

import static org.apache.camel.builder.Builder.header;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/dispatch.camel.yaml on its own: the file users edit to change where mail goes. This is
 * the pattern to copy when you change routing — add a branch to the file, add a test method here
 * that sends the headers of the mail it should catch and names the chain and provider it must
 * reach, and run
 *
 * <pre>./mvnw -o -B verify -Dtest=DispatchRouteTest -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * <p>Why it is cheap: the Spring context holds Camel and nothing else (no database, queue, REST or
 * SMTP), and Camel loads only that file ({@code camel.main.routes-include-pattern}). Its routes
 * send to provider routes of providers.camel.yaml, which are not loaded: AdviceWith turns every
 * {@code direct:provider-*} into a mock that records the message and skips the real endpoint, and
 * lets {@code direct:chain-*} pass through a mock that records which chain the message took. A
 * message here carries what the relay puts on it before {@code direct:dispatch} (DeliveryHeaders):
 * the headers of {@link RelayHeaders} and the raw MIME as body.
 *
 * <p>What it does not check: the providers themselves (flow/RoutingTest, FailoverTest and
 * ProviderRepliesTest deliver to real SMTP servers), and the allow-list
 * ({@code ./mvnw -q compile exec:java@validate-routes}, routing/ValidateRoutesTest).
 */
@CamelSpringBootTest
@SpringBootTest(classes = DispatchRouteTest.CamelOnly.class, webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "camel.main.routes-include-pattern=file:routes/dispatch.camel.yaml",
        "camel.springboot.main-run-controller=false"})
@UseAdviceWith
class DispatchRouteTest {

    /** Camel's own auto-configuration, none of the relay's beans. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(CamelAutoConfiguration.class)
    static class CamelOnly {
    }

    @Autowired
    CamelContext camel;

    @Autowired
    ProducerTemplate template;

    /**
     * With {@link UseAdviceWith} the context starts only when the test says so: the routes are
     * advised before any of them runs. The context is shared by the tests of this class (and
     * cached by Spring), so the advice is applied once, by the first test, and the mocks are reset
     * before each.
     *
     * <p>mockEndpoints and mockEndpointsAndSkip apply to every route of the context, so the advice
     * of dispatch covers the chains' sends to their providers too: a message to
     * direct:chain-marketing is copied to mock:direct:chain-marketing and goes on into the chain;
     * one to direct:provider-outbox reaches only mock:direct:provider-outbox.
     */
    @BeforeEach
    void adviseOnceThenResetTheMocks() throws Exception {
        if (!camel.isStarted()) {
            AdviceWith.adviceWith(camel, "dispatch", route -> {
                route.mockEndpoints("direct:chain-*");
                route.mockEndpointsAndSkip("direct:provider-*");
            });
            camel.start();
        }
        MockEndpoint.resetMocks(camel);
    }

    @Test
    void marketingMailTakesTheMarketingChain() throws Exception {
        MockEndpoint marketing = camel.getEndpoint("mock:direct:chain-marketing", MockEndpoint.class);
        MockEndpoint standard = camel.getEndpoint("mock:direct:chain-default", MockEndpoint.class);
        MockEndpoint outbox = camel.getEndpoint("mock:direct:provider-outbox", MockEndpoint.class);
        marketing.expectedMessageCount(1);
        marketing.expectedHeaderReceived(RelayHeaders.MESSAGE_ID, "m-1");
        standard.expectedMessageCount(0);
        outbox.expectedBodiesReceived("Subject: spring sale");

        Exchange sent = dispatch("dev", "marketing", "example.org", "m-1", "Subject: spring sale");

        assertThat(sent.getException()).isNull();
        MockEndpoint.assertIsSatisfied(marketing, standard, outbox);
    }

    @Test
    void everyOtherTypeTakesTheDefaultChain() throws Exception {
        MockEndpoint marketing = camel.getEndpoint("mock:direct:chain-marketing", MockEndpoint.class);
        MockEndpoint standard = camel.getEndpoint("mock:direct:chain-default", MockEndpoint.class);
        MockEndpoint outbox = camel.getEndpoint("mock:direct:provider-outbox", MockEndpoint.class);
        marketing.expectedMessageCount(0);
        standard.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.EMAIL_TYPE,
                "transactional", "system", "notification");
        outbox.expectedMessageCount(3);

        dispatch("dev", "transactional", "example.org", "t-1", "Subject: receipt");
        dispatch("dev", "system", "example.org", "s-1", "Subject: password reset");
        dispatch("dev", "notification", "example.org,gmail.com", "n-1", "Subject: new comment");

        MockEndpoint.assertIsSatisfied(marketing, standard, outbox);
    }

    /**
     * NotifyBuilder, where only "done" matters: it watches the exchanges that start in a route,
     * without replacing anything, and matches once enough of them have finished — the way to wait
     * when the sender does not (a wireTap, a seda: queue) rather than polling. Here: the three
     * messages completed routing (none failed), two of them marketing mail.
     */
    @Test
    void notifyBuilderWaitsUntilTheMessagesAreRouted() throws Exception {
        NotifyBuilder allRouted = new NotifyBuilder(camel).fromRoute("dispatch").whenCompleted(3).create();
        NotifyBuilder marketingRouted = new NotifyBuilder(camel).fromRoute("dispatch")
                .filter(header(RelayHeaders.EMAIL_TYPE).isEqualTo("marketing")).whenExactlyCompleted(2).create();
        MockEndpoint marketing = camel.getEndpoint("mock:direct:chain-marketing", MockEndpoint.class);
        marketing.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.WORKSPACE, "acme", "globex");

        dispatch("acme", "marketing", "example.org", "m-2", "Subject: newsletter 1");
        dispatch("acme", "transactional", "example.org", "t-2", "Subject: invoice");
        dispatch("globex", "marketing", "gmail.com", "m-3", "Subject: newsletter 2");

        assertThat(allRouted.matches(5, TimeUnit.SECONDS)).isTrue();
        assertThat(marketingRouted.matches(5, TimeUnit.SECONDS)).isTrue();
        marketing.assertIsSatisfied();
    }

    /**
     * A provider's failure, simulated on its mock: the chain has no other provider to fail over
     * to, so the transient failure comes back to the caller (which defers the message and retries
     * it later). With a second provider in the chain, assert instead that its mock got the message.
     */
    @Test
    void aTransientFailureOfTheOnlyProviderComesBack() throws Exception {
        MockEndpoint outbox = camel.getEndpoint("mock:direct:provider-outbox", MockEndpoint.class);
        outbox.whenAnyExchangeReceived(exchange -> {
            throw new TransientDeliveryException("outbox", 451, "4.3.0 disk full", null);
        });
        outbox.expectedMessageCount(1);

        Exchange sent = dispatch("dev", "marketing", "example.org", "m-4", "Subject: sale");

        outbox.assertIsSatisfied();
        assertThat(sent.getException()).isInstanceOf(TransientDeliveryException.class);
    }

    /** A provider the submission named (relayProviderOverride) wins over every chain, marketing too. */
    @Test
    void aNamedProviderTakesTheMessageWhateverItsType() throws Exception {
        MockEndpoint named = camel.getEndpoint("mock:direct:provider-bulk", MockEndpoint.class);
        MockEndpoint marketing = camel.getEndpoint("mock:direct:chain-marketing", MockEndpoint.class);
        MockEndpoint standard = camel.getEndpoint("mock:direct:chain-default", MockEndpoint.class);
        named.expectedHeaderReceived(RelayHeaders.MESSAGE_ID, "m-5");
        marketing.expectedMessageCount(0);
        standard.expectedMessageCount(0);

        Exchange sent = template.send("direct:dispatch", exchange -> {
            exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, "acme");
            exchange.getMessage().setHeader(RelayHeaders.EMAIL_TYPE, "marketing");
            exchange.getMessage().setHeader(RelayHeaders.RECIPIENT_DOMAINS, "example.org");
            exchange.getMessage().setHeader(RelayHeaders.MESSAGE_ID, "m-5");
            exchange.getMessage().setHeader(RelayHeaders.PROVIDER_OVERRIDE, "bulk");
            exchange.getMessage().setBody("Subject: chosen".getBytes(StandardCharsets.UTF_8));
        });

        assertThat(sent.getException()).isNull();
        MockEndpoint.assertIsSatisfied(named, marketing, standard);
    }

    /** What the delivery route sends into direct:dispatch (see DeliveryHeaders.prepare). */
    private Exchange dispatch(String workspace, String emailType, String recipientDomains, String messageId,
            String mime) {
        return template.send("direct:dispatch", exchange -> {
            exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, workspace);
            exchange.getMessage().setHeader(RelayHeaders.EMAIL_TYPE, emailType);
            exchange.getMessage().setHeader(RelayHeaders.RECIPIENT_DOMAINS, recipientDomains);
            exchange.getMessage().setHeader(RelayHeaders.MESSAGE_ID, messageId);
            exchange.getMessage().setHeader(RelayHeaders.ATTEMPT, 1);
            exchange.getMessage().setBody(mime.getBytes(StandardCharsets.UTF_8));
        });
    }
}
