package com.mailrelay.strategy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.AsyncCallback;
import org.apache.camel.AsyncProcessor;
import org.apache.camel.Exchange;
import org.apache.camel.processor.loadbalancer.LoadBalancerSupport;
import org.apache.camel.spi.ReactiveExecutor;
import org.apache.camel.support.ExchangeHelper;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.context.annotation.Scope;
import org.springframework.stereotype.Component;

/**
 * Least in flight (the seed's LEAST_LOADED): each message goes to the provider of the chain with
 * the fewest calls under way from this chain right now, ties to the one listed first; a provider
 * that fails transiently ({@link TransientDeliveryException}: refused, timed out, breaker open, at
 * quota, credentials refused) hands the message on to the least busy provider not yet tried, as
 * the failover load balancer would. A permanent refusal ends the attempt. Used in a route file as
 *
 * <pre>
 * - loadBalance:
 *     customLoadBalancer:
 *       ref: leastInFlight
 *     steps:
 *       - to: direct:provider-a
 *       - to: direct:provider-b
 * </pre>
 *
 * <p>Why it helps: a provider that answers slowly (a congested API, an SMTP server tarpitting)
 * keeps its calls in flight longer, so it is given fewer new ones while the others stay fast —
 * without a threshold to tune. The counts are this instance's, per chain: other relay instances and
 * other chains over the same provider are not seen.
 *
 * <p>A prototype bean: Camel looks the name up once for each route it builds, so that every chain
 * (and every reload, and the allow-list's trial build of a route file) gets a balancer of its own,
 * with its own providers and counts. A singleton would collect the providers of every chain that
 * names it.
 */
@Component("leastInFlight")
@Scope(ConfigurableBeanFactory.SCOPE_PROTOTYPE)
public class LeastInFlightLoadBalancer extends LoadBalancerSupport {

    private final Map<AsyncProcessor, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    /** The calls under way now to each provider, in the chain's order. */
    public List<Integer> inFlight() {
        List<Integer> counts = new ArrayList<>();
        for (AsyncProcessor target : doGetProcessors()) {
            counts.add(counter(target).get());
        }
        return counts;
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        AsyncProcessor[] targets = doGetProcessors();
        if (targets.length == 0) {
            exchange.setException(new IllegalStateException("the least-in-flight load balancer has no providers"));
            callback.done(true);
            return true;
        }
        // As Camel's failover balancer: each try runs from the reactive executor, so that a failover
        // after a call that completed on another thread does not grow this thread's stack.
        Attempts attempts = new Attempts(exchange, callback, targets);
        ReactiveExecutor executor = exchange.getContext().getCamelContextExtension().getReactiveExecutor();
        if (exchange.isTransacted()) {
            executor.scheduleQueue(attempts);
        } else {
            executor.schedule(attempts);
        }
        return false;
    }

    /** The least busy of the providers not yet tried (ties: the first), counted as in flight at once. */
    private synchronized int take(AsyncProcessor[] targets, boolean[] tried) {
        int best = -1;
        int fewest = Integer.MAX_VALUE;
        for (int i = 0; i < targets.length; i++) {
            int load = counter(targets[i]).get();
            if (!tried[i] && load < fewest) {
                best = i;
                fewest = load;
            }
        }
        if (best >= 0) {
            counter(targets[best]).incrementAndGet();
        }
        return best;
    }

    private AtomicInteger counter(AsyncProcessor target) {
        return inFlight.computeIfAbsent(target, t -> new AtomicInteger());
    }

    /** One message's tries: each on a copy of the exchange, whose outcome is copied back at the end. */
    private final class Attempts implements Runnable {

        private final Exchange exchange;
        private final AsyncCallback callback;
        private final AsyncProcessor[] targets;
        private final boolean[] tried;

        Attempts(Exchange exchange, AsyncCallback callback, AsyncProcessor[] targets) {
            this.exchange = exchange;
            this.callback = callback;
            this.targets = targets;
            this.tried = new boolean[targets.length];
        }

        @Override
        public void run() {
            int index = take(targets, tried);
            tried[index] = true;
            Exchange copy = ExchangeHelper.createCopy(exchange, true);
            targets[index].process(copy, doneSync -> {
                counter(targets[index]).decrementAndGet();
                boolean untried = false;
                for (boolean t : tried) {
                    untried |= !t;
                }
                if (copy.getException(TransientDeliveryException.class) != null && untried && isRunAllowed()) {
                    exchange.getContext().getCamelContextExtension().getReactiveExecutor().schedule(this);
                } else {
                    ExchangeHelper.copyResults(exchange, copy);
                    callback.done(false);
                }
            });
        }
    }

    @Override
    public String toString() {
        return "LeastInFlightLoadBalancer" + inFlight();
    }
}
