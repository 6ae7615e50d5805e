package com.mailrelay.llm;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The calls one message needs and, as they come, their answers: each distinct (prompt, model)
 * once, however many recipients share it. The answers map is shared by reference with the split's
 * parallel exchanges, which write into it; the message is filled from what it holds when the wait
 * ends, a missing answer by its fallback.
 *
 * @param perCopy     for each copy (in the message's order), placeholder name → its call
 * @param calls       the distinct calls of all copies
 * @param deadline    System.nanoTime() after which no call is started any more
 * @param answers     the answers that came in time
 * @param settled     the calls that have their outcome (an answer, or the fallback)
 */
record LlmPlan(String workspace, List<Map<String, Call>> perCopy, List<Call> calls, long deadline,
               ConcurrentMap<Call, String> answers, ConcurrentMap<Call, Boolean> settled) {

    /**
     * One chat completion to ask for.
     *
     * @param prompt   the workspace's prompt with the recipient's data filled in
     * @param fallback the text used when there is no answer
     */
    record Call(String workspace, String placeholder, String model, String prompt, String fallback) {

        /** Never the prompt: it carries recipients' data. */
        @Override
        public String toString() {
            return "Call[" + workspace + ", " + placeholder + ", " + model + "]";
        }
    }

    LlmPlan(String workspace, List<Map<String, Call>> perCopy, List<Call> calls, long deadline) {
        this(workspace, perCopy, calls, deadline, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
    }

    /**
     * Whether this is the call's first outcome: an answer can come after the breaker's time limit
     * gave the fallback already, and is then neither used nor counted as a call a second time.
     */
    boolean settle(Call call) {
        return settled.putIfAbsent(call, Boolean.TRUE) == null;
    }

    /** The text for a call: its answer, or its fallback. */
    String text(Call call) {
        return answers.getOrDefault(call, call.fallback());
    }
}
