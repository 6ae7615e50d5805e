package com.mailrelay.delivery;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.TransientDeliveryException;
import com.mailrelay.strategy.LeastInFlightLoadBalancer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.spring.boot.CamelAutoConfiguration;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.apache.camel.test.spring.junit5.UseAdviceWith;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provider strategies of test-routes/strategies.camel.yaml on their own, the way
 * DispatchRouteTest runs routes/dispatch.camel.yaml: Camel only, the providers' sends replaced by
 * mocks, so that what is tested is the strategy — which provider each message reaches — and a
 * thousand messages take well under a second. The providers of the file are outbox instances; here
 * an "outbox" template of this test stands in for the real one (whose beans this context does not
 * have), and its routes are never reached anyway: every {@code direct:provider-*} send goes to its
 * mock and no further. StrategiesTest sends through the same chains end to end.
 */
@CamelSpringBootTest
@SpringBootTest(classes = StrategyRouteTest.CamelOnly.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {
                "camel.main.routes-include-pattern=file:src/test/resources/test-routes/strategies.camel.yaml",
                "camel.springboot.main-run-controller=false",
                "relay.outbox.directory=target/strategy-route-test"})
@UseAdviceWith
class StrategyRouteTest {

    /** Camel, the least-in-flight balancer (prototype, as in the relay) and the stand-in outbox template. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration(CamelAutoConfiguration.class)
    @Import(LeastInFlightLoadBalancer.class)
    static class CamelOnly {

        @Bean
        RouteBuilder outboxTemplate() {
            return new RouteBuilder() {
                @Override
                public void configure() {
                    routeTemplate("outbox")
                            .templateParameter("providerId")
                            .templateParameter("directory")
                            .from("direct:provider-{{providerId}}")
                            .setHeader(RelayHeaders.PROVIDER_REPLY, constant("stand-in"));
                }
            };
        }
    }

    @Autowired
    CamelContext camel;

    @Autowired
    ProducerTemplate template;

    MockEndpoint a;
    MockEndpoint b;

    @BeforeEach
    void adviseOnceThenResetTheMocks() throws Exception {
        if (!camel.isStarted()) {
            // mockEndpointsAndSkip applies to every route of the context: advising one covers all chains.
            AdviceWith.adviceWith(camel, "chain-weighted", route -> route.mockEndpointsAndSkip("direct:provider-*"));
            camel.start();
        }
        MockEndpoint.resetMocks(camel);
        a = camel.getEndpoint("mock:direct:provider-strategy-a", MockEndpoint.class);
        b = camel.getEndpoint("mock:direct:provider-strategy-b", MockEndpoint.class);
    }

    @Test
    void weightedSendsSeventyThirtyOverAThousandMessages() throws Exception {
        int total = 1_000;
        NotifyBuilder done = new NotifyBuilder(camel).fromRoute("chain-weighted").whenCompleted(total).create();

        for (int i = 0; i < total; i++) {
            assertThat(send("chain-weighted", "w-" + i, "example.org", "app@acme.test").getException()).isNull();
        }

        assertThat(done.matches(10, TimeUnit.SECONDS)).isTrue();
        int toA = a.getReceivedCounter();
        int toB = b.getReceivedCounter();
        assertThat(toA + toB).isEqualTo(total);
        // 7:3 picked at random per message: 700 +/- 50 is 3.4 standard deviations (sqrt(1000 * 0.7 * 0.3) = 14.5).
        assertThat(toA).as("messages to strategy-a of %d (b got %d)", total, toB).isBetween(650, 750);
        assertThat(toB).isBetween(250, 350);
    }

    @Test
    void roundRobinAlternates() throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        a.whenAnyExchangeReceived(exchange -> order.add("a"));
        b.whenAnyExchangeReceived(exchange -> order.add("b"));

        for (int i = 0; i < 10; i++) {
            send("chain-roundrobin", "r-" + i, "example.org", "app@acme.test");
        }

        assertThat(order).hasSize(10);
        for (int i = 1; i < order.size(); i++) {
            assertThat(order.get(i)).as("provider of message %d after %s", i, order).isNotEqualTo(order.get(i - 1));
        }
        assertThat(a.getReceivedCounter()).isEqualTo(5);
        assertThat(b.getReceivedCounter()).isEqualTo(5);
    }

    /**
     * strategy-a is held busy by one message (its mock waits on a latch, in another thread); every
     * message sent meanwhile goes to the idle strategy-b. Once a is free again both are idle, and
     * the tie goes to a, the first listed.
     */
    @Test
    void leastInFlightPrefersTheIdleProvider() throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        a.whenExchangeReceived(1, exchange -> {
            busy.countDown();
            assertThat(release.await(10, TimeUnit.SECONDS)).as("released in time").isTrue();
        });
        CompletableFuture<Exchange> held = CompletableFuture.supplyAsync(
                () -> send("chain-leastinflight", "held", "example.org", "app@acme.test"));
        assertThat(busy.await(10, TimeUnit.SECONDS)).as("strategy-a got the first message").isTrue();

        for (int i = 0; i < 5; i++) {
            assertThat(send("chain-leastinflight", "l-" + i, "example.org", "app@acme.test").getException()).isNull();
        }
        assertThat(b.getReceivedCounter()).as("messages to the idle provider while a is busy").isEqualTo(5);
        assertThat(a.getReceivedCounter()).isEqualTo(1);

        release.countDown();
        assertThat(held.get(10, TimeUnit.SECONDS).getException()).isNull();
        send("chain-leastinflight", "after", "example.org", "app@acme.test");
        assertThat(a.getReceivedCounter()).as("both idle: the tie goes to the first").isEqualTo(2);
        assertThat(a.getReceivedExchanges().get(1).getMessage().getHeader(RelayHeaders.MESSAGE_ID)).isEqualTo("after");
    }

    @Test
    void leastInFlightFailsOverOnATransientFailureOnly() throws Exception {
        a.whenExchangeReceived(1, exchange -> {
            throw new TransientDeliveryException("strategy-a", 421, "4.3.2 try later", null);
        });
        Exchange failedOver = send("chain-leastinflight", "t-1", "example.org", "app@acme.test");
        assertThat(failedOver.getException()).isNull();
        assertThat(b.getReceivedCounter()).isEqualTo(1);

        a.whenExchangeReceived(2, exchange -> {
            throw new PermanentDeliveryException("strategy-a", 550, "5.1.1 no such user", List.of(), null);
        });
        Exchange refused = send("chain-leastinflight", "p-1", "example.org", "app@acme.test");
        assertThat(refused.getException()).isInstanceOf(PermanentDeliveryException.class);
        assertThat(b.getReceivedCounter()).as("a permanent refusal is not failed over").isEqualTo(1);

        a.whenExchangeReceived(3, exchange -> {
            throw new TransientDeliveryException("strategy-a", 421, "4.3.2 try later", null);
        });
        b.whenExchangeReceived(2, exchange -> {
            throw new TransientDeliveryException("strategy-b", 451, "4.4.1 no answer", null);
        });
        Exchange bothDown = send("chain-leastinflight", "t-2", "example.org", "app@acme.test");
        assertThat(bothDown.getException()).as("each provider tried once, the last failure returned")
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("4.4.1");
        assertThat(a.getReceivedCounter()).isEqualTo(3);
        assertThat(b.getReceivedCounter()).isEqualTo(2);
    }

    @Test
    void recipientDomainChoosesTheProvider() throws Exception {
        b.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "d-1");
        a.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "d-2", "d-3");

        send("chain-domain", "d-1", "b.test", "app@acme.test");
        send("chain-domain", "d-2", "a.test", "app@acme.test");
        send("chain-domain", "d-3", "b.test,c.test", "app@acme.test");

        MockEndpoint.assertIsSatisfied(a, b);
    }

    @Test
    void senderDomainOrPatternChoosesTheProvider() throws Exception {
        b.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "s-1", "s-2");
        a.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "s-3", "s-4");

        send("chain-sender", "s-1", "example.org", "news@news.test");
        send("chain-sender", "s-2", "example.org", "offers@mail.news.test");
        send("chain-sender", "s-3", "example.org", "bounces@bounce.news.test");   // excluded
        send("chain-sender", "s-4", "example.org", "app@othernews.test");

        MockEndpoint.assertIsSatisfied(a, b);
    }

    @Test
    void anOverrideSendsToTheNamedProviderOnly() throws Exception {
        b.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "o-1");
        a.expectedHeaderValuesReceivedInAnyOrder(RelayHeaders.MESSAGE_ID, "o-2");

        template.send("direct:chain-override", exchange -> {
            headers(exchange, "o-1", "example.org", "app@acme.test");
            exchange.getMessage().setHeader(RelayHeaders.PROVIDER_OVERRIDE, "strategy-b");
        });
        send("chain-override", "o-2", "example.org", "app@acme.test");
        MockEndpoint.assertIsSatisfied(a, b);

        // The named provider only: its transient failure comes back rather than moving to another.
        MockEndpoint.resetMocks(camel);
        b.whenAnyExchangeReceived(exchange -> {
            throw new TransientDeliveryException("strategy-b", 421, "4.3.2 try later", null);
        });
        Exchange failed = template.send("direct:chain-override", exchange -> {
            headers(exchange, "o-3", "example.org", "app@acme.test");
            exchange.getMessage().setHeader(RelayHeaders.PROVIDER_OVERRIDE, "strategy-b");
        });
        assertThat(failed.getException()).isInstanceOf(TransientDeliveryException.class);
        assertThat(a.getReceivedCounter()).isZero();
    }

    /** What the delivery route puts on a message before direct:dispatch (DeliveryHeaders.prepare). */
    private Exchange send(String chain, String messageId, String recipientDomains, String sender) {
        return template.send("direct:" + chain, exchange -> headers(exchange, messageId, recipientDomains, sender));
    }

    private static void headers(Exchange exchange, String messageId, String recipientDomains, String sender) {
        exchange.getMessage().setHeader(RelayHeaders.WORKSPACE, "via-strategies");
        exchange.getMessage().setHeader(RelayHeaders.EMAIL_TYPE, "transactional");
        exchange.getMessage().setHeader(RelayHeaders.RECIPIENT_DOMAINS, recipientDomains);
        exchange.getMessage().setHeader(RelayHeaders.SENDER_DOMAIN, sender.substring(sender.indexOf('@') + 1));
        exchange.getMessage().setHeader(RelayHeaders.MESSAGE_ID, messageId);
        exchange.getMessage().setHeader(RelayHeaders.ATTEMPT, 1);
        exchange.getMessage().setBody(("Subject: " + messageId).getBytes(StandardCharsets.UTF_8));
    }
}
