package com.mailrelay.llm;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.mailrelay.config.RelayProperties;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy;
import org.springframework.stereotype.Component;

/**
 * The LLM personalisation step, {@code direct:llm-personalise}, which the accept route calls for
 * a message whose workspace fills {@code <<NAME>>} placeholders (accept.AcceptRoutes), before the
 * message is stored. Its body is the message with one copy per recipient; each distinct prompt is
 * asked once, in parallel (at most relay.llm.concurrency calls at once, across messages), and the
 * copies are filled with what came within relay.llm.timeout: a late, failed or unusable answer
 * gives its placeholder's fallback text, so the model never holds up or refuses a message.
 * <p>
 * Each call ({@code llm-call}): past the wait, the fallback at once; an answer cached for the same
 * prompt and model; else {@code POST {base-url}/v1/chat/completions} inside a circuit breaker whose
 * time limiter ends the call at the timeout, and whose fallback (also when the breaker is open,
 * after repeated failures) gives the fallback text.
 */
@Component
public class LlmRoutes extends RouteBuilder {

    /** Exchange property: the message's {@link LlmPlan}, shared by the split's exchanges. */
    static final String PLAN = "relayLlmPlan";
    /** Exchange property: the call in flight, while the body is its request and answer. */
    static final String CALL = "relayLlmCall";
    /** Exchange property: System.nanoTime() when the call started (a timeout is told by it). */
    static final String STARTED = "relayLlmStarted";
    /** Camel registry name of the pool the breaker's time limiter runs calls on. */
    static final String CALL_POOL = "llmCalls";
    /** Added to the timeout for the wait of the whole message, so that each call's own limit ends it first. */
    static final long WAIT_MARGIN_MILLIS = 250;

    private final LlmPersonalisation llm;
    private final RelayProperties.Llm config;

    public LlmRoutes(LlmPersonalisation llm, RelayProperties properties) {
        this.llm = llm;
        this.config = properties.llm();
    }

    @Override
    public void configure() {
        int timeoutMillis = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
        // The split's threads: bounded, so that many recipients (or messages) queue for them instead
        // of opening a connection each; a queued call past the wait gets its fallback without a call.
        ExecutorService splitPool = getContext().getExecutorServiceManager().newThreadPool(this, "llm-split",
                new ThreadPoolProfileBuilder("llm-split").poolSize(config.concurrency())
                        .maxPoolSize(config.concurrency()).maxQueueSize(10_000)
                        .rejectedPolicy(ThreadPoolRejectedPolicy.CallerRuns).build());
        if (getContext().getRegistry().lookupByName(CALL_POOL) == null) {
            // Unbounded, as the providers' pool: a call past its limit keeps its thread until its
            // socket times out (the same timeout), and the split's pool bounds how many start.
            AtomicInteger counter = new AtomicInteger();
            getContext().getRegistry().bind(CALL_POOL, ExecutorService.class, Executors.newCachedThreadPool(task -> {
                Thread thread = new Thread(task, "llm-call-" + counter.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            }));
        }
        String endpoint = config.baseUrl().replaceAll("/+$", "") + "/v1/chat/completions"
                + "?throwExceptionOnFailure=true&followRedirects=false&httpClientConfigurer=#llmHttpClient"
                + "&connectTimeout=" + timeoutMillis + "&responseTimeout=" + timeoutMillis;

        from("direct:llm-personalise").routeId("llm-personalise")
                .setProperty(PLAN, method(llm, "plan"))
                .doTry()
                    .split(method(llm, "calls")).parallelProcessing().executorService(splitPool)
                            .timeout(timeoutMillis + WAIT_MARGIN_MILLIS)
                        .to("direct:llm-call")
                    .end()
                .endDoTry()
                .doCatch(Exception.class)
                    // Whatever went wrong around the calls, the message is filled with what came.
                    .log("LLM personalisation of ${exchangeProperty." + PLAN + ".workspace} failed: "
                            + "${exception.class.simpleName}; fallback texts used")
                .end()
                .bean(llm, "fill")
                .removeProperty(PLAN);

        from("direct:llm-call").routeId("llm-call")
                .choice()
                    .when(method(llm, "late"))
                        .bean(llm, "tooLate")
                    .when(method(llm, "cached"))
                        .bean(llm, "fromCache")
                    .otherwise()
                        // The submission's headers (its REST request's among them) never go out.
                        .removeHeaders("*")
                        .setProperty(CALL, body())
                        .setProperty(STARTED, method(System.class, "nanoTime"))
                        .circuitBreaker().id("llm-breaker")
                            .resilience4jConfiguration()
                                .failureRateThreshold(config.breaker().failureRateThreshold())
                                .minimumNumberOfCalls(config.breaker().minimumNumberOfCalls())
                                .slidingWindowSize(config.breaker().slidingWindowSize())
                                .waitDurationInOpenState((int) config.breaker().waitInOpenState().toSeconds())
                                .timeoutEnabled(true)
                                .timeoutDuration(timeoutMillis)
                                .timeoutExecutorService(CALL_POOL)
                            .end()
                            .setBody(method(llm, "request"))
                            .to(endpoint).id("llm-http")
                            .convertBodyTo(String.class, "UTF-8")
                            .bean(llm, "answer")
                        .onFallback()
                            .bean(llm, "fallback")
                        .end()
                .end();
    }
}
