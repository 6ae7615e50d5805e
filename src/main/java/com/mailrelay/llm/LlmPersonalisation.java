package com.mailrelay.llm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.Json;
import com.mailrelay.message.PersonalisedMessage;
import com.mailrelay.message.RecipientContent;
import com.mailrelay.message.RecipientNames;
import com.mailrelay.message.Submission;
import com.mailrelay.store.Suppressions;
import com.mailrelay.workspace.Workspaces;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The computing half of the LLM personalisation step (its route: {@link LlmRoutes}): whether a
 * message needs it, the prompts of its recipients, the chat-completions request and the reading
 * of its answer, the cache, the fallback, and the filled copies. Counts
 * {@code relay_llm_calls_total{workspace, outcome=ok|timeout|error|cached}} and
 * {@code relay_llm_tokens_total{workspace, kind=prompt|completion}}.
 * <p>
 * Neither the API key nor a prompt (which carries recipients' data) nor an answer is logged.
 */
@Component("llmPersonalisation")
public class LlmPersonalisation {

    private static final Logger log = LoggerFactory.getLogger(LlmPersonalisation.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Pattern FIELD = Pattern.compile("\\{\\{\\s*([A-Za-z][A-Za-z0-9_.-]{0,127})\\s*}}");

    /** Most characters of one recipient value put into a prompt. */
    static final int MAX_VALUE_LENGTH = 1000;
    /** Most characters of a prompt after its data is filled in. */
    static final int MAX_PROMPT_LENGTH = 8000;
    /** Most characters of an endpoint's answer read; a longer one is an error. */
    static final int MAX_RESPONSE_LENGTH = 1_000_000;
    /** RFC 5322's line limit, as the messages table keeps a subject. */
    private static final int SUBJECT_COLUMN = 998;

    /** Asks for the text alone: it goes into the message as it is. */
    static final String SYSTEM_PROMPT = "You write one short piece of text that is put into an email as it is. "
            + "Answer with that text only: no quotes, no explanation, no formatting.";

    private record Key(String model, String prompt) {
    }

    private final RelayProperties.Llm config;
    private final Workspaces workspaces;
    private final Suppressions suppressions;
    private final MeterRegistry meters;
    private final Cache<Key, String> cache;

    public LlmPersonalisation(RelayProperties properties, Workspaces workspaces, Suppressions suppressions,
                              MeterRegistry meters) {
        this.config = properties.llm();
        this.workspaces = workspaces;
        this.suppressions = suppressions;
        this.meters = meters;
        this.cache = config.cacheSize() == 0 ? null : Caffeine.newBuilder()
                .maximumSize(config.cacheSize())
                .expireAfterWrite(config.cacheTtl().isZero() ? Duration.ofNanos(1) : config.cacheTtl())
                .build();
    }

    /**
     * Whether the message has a placeholder its workspace fills (relay.llm and the workspace's llm
     * both enabled): it then goes out as one copy per recipient. Content made per recipient
     * (a stored template) is looked at in each copy.
     */
    public boolean wanted(PersonalisedMessage message) {
        Submission submission = message.submission();
        RelayProperties.WorkspaceLlm llm = settings(submission.workspaceId());
        if (llm == null) {
            return false;
        }
        if (submission.content() != null) {
            return true;
        }
        return Placeholders.find(submission.rawMime()).stream().anyMatch(llm.placeholders()::containsKey);
    }

    /** Whether the step runs: a placeholder to fill, and copies to fill it in. */
    public boolean applies(PersonalisedMessage message) {
        return !message.copyRecipients().isEmpty() && wanted(message);
    }

    private RelayProperties.WorkspaceLlm settings(String workspace) {
        if (!config.enabled()) {
            return null;
        }
        return workspaces.find(workspace).map(RelayProperties.Workspace::llm)
                .filter(llm -> llm != null && llm.enabled() && !llm.placeholders().isEmpty())
                .orElse(null);
    }

    /**
     * The calls of each copy: for each placeholder it has, the workspace's prompt with this
     * recipient's data. The wait for all of them ends one relay.llm.timeout from now.
     */
    public LlmPlan plan(@Body PersonalisedMessage message) {
        Submission submission = message.submission();
        String workspace = submission.workspaceId();
        RelayProperties.WorkspaceLlm llm = settings(workspace);
        long deadline = System.nanoTime() + config.timeout().toNanos();
        if (llm == null) {
            return new LlmPlan(workspace, message.copyRecipients().stream().map(r -> Map.<String, LlmPlan.Call>of())
                    .toList(), List.of(), deadline);
        }
        String model = llm.model() == null || llm.model().isBlank() ? config.model() : llm.model();
        List<String> recipients = message.copyRecipients();
        List<RecipientContent.Rendered> contents = message.copyContents();
        Map<String, RecipientNames> names = suppressions.names(workspace, recipients);
        Map<String, String> workspaceVariables = workspaces.find(workspace)
                .map(RelayProperties.Workspace::variables).orElse(Map.of());
        List<Map<String, LlmPlan.Call>> perCopy = new ArrayList<>();
        Set<LlmPlan.Call> calls = new LinkedHashSet<>();
        for (int i = 0; i < recipients.size(); i++) {
            String recipient = recipients.get(i);
            Set<String> found = Placeholders.find(contents.get(i).mime());
            Map<String, LlmPlan.Call> mine = new LinkedHashMap<>();
            Map<String, String> data = null;
            for (String name : found) {
                String template = llm.placeholders().get(name);
                if (template == null) {
                    continue;
                }
                if (data == null) {
                    data = data(submission, recipient, workspaceVariables,
                            names.getOrDefault(recipient.toLowerCase(Locale.ROOT), RecipientNames.NONE));
                }
                LlmPlan.Call call = new LlmPlan.Call(workspace, name, model, prompt(template, data),
                        llm.fallbacks().getOrDefault(name, ""));
                mine.put(name, call);
                calls.add(call);
            }
            perCopy.add(Map.copyOf(mine));
        }
        return new LlmPlan(workspace, List.copyOf(perCopy), List.copyOf(calls), deadline);
    }

    /**
     * A recipient's data as prompts name it (lower case, later sources winning): the workspace's
     * variables, the recipient record's names, the request's variables, its variables for this
     * recipient, metadata.&lt;key&gt;, and the relay's own (email, workspace, campaign_id, user_id).
     */
    static Map<String, String> data(Submission submission, String recipient, Map<String, String> workspaceVariables,
                                    RecipientNames names) {
        Map<String, String> data = new HashMap<>();
        workspaceVariables.forEach((k, v) -> data.put(k.toLowerCase(Locale.ROOT), v));
        if (names.firstName() != null) {
            data.put("first_name", names.firstName());
        }
        if (names.lastName() != null) {
            data.put("last_name", names.lastName());
        }
        submission.merge().variables().forEach((k, v) -> data.put(k.toLowerCase(Locale.ROOT), v));
        submission.merge().recipientVariables().getOrDefault(recipient.toLowerCase(Locale.ROOT), Map.of())
                .forEach((k, v) -> data.put(k.toLowerCase(Locale.ROOT), v));
        if (submission.metadata() != null) {
            submission.metadata().forEach((k, v) -> data.put("metadata." + k.toLowerCase(Locale.ROOT),
                    v instanceof String s ? s : v == null ? "" : Json.write(v)));
        }
        data.put("email", recipient);
        data.put("workspace", submission.workspaceId());
        data.put("campaign_id", submission.campaignId() == null ? "" : submission.campaignId());
        data.put("user_id", submission.userId() == null ? "" : submission.userId());
        return data;
    }

    /** The template's {{name}} filled (an unknown name with nothing), each value one bounded line. */
    static String prompt(String template, Map<String, String> data) {
        Matcher m = FIELD.matcher(template);
        StringBuilder out = new StringBuilder(template.length() + 64);
        while (m.find()) {
            String value = data.getOrDefault(m.group(1).toLowerCase(Locale.ROOT), "");
            m.appendReplacement(out, Matcher.quoteReplacement(clean(value, MAX_VALUE_LENGTH)));
        }
        m.appendTail(out);
        return InputLimits.truncated(out.toString(), MAX_PROMPT_LENGTH);
    }

    /**
     * One line of at most {@code max} characters: control characters (line breaks too) become
     * spaces, runs of spaces one, and the ends are trimmed.
     */
    static String clean(String text, int max) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), max + 16));
        boolean space = false;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            boolean blank = Character.isWhitespace(c) || Character.isISOControl(c)
                    || Character.getType(c) == Character.FORMAT && c != 0x200D;
            if (blank) {
                space = out.length() > 0;
                continue;
            }
            if (space) {
                out.append(' ');
                space = false;
            }
            out.appendCodePoint(c);
            if (out.length() >= max) {
                break;
            }
        }
        return InputLimits.truncated(out.toString(), max);
    }

    /** The split's parts: each distinct call of the message. */
    public List<LlmPlan.Call> calls(@ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        return plan.calls();
    }

    /** Whether the wait is over before this call started (its message is being filled already). */
    public boolean late(@ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        return System.nanoTime() - plan.deadline() > 0;
    }

    /** A call that was not started in time: its fallback. */
    public void tooLate(@Body LlmPlan.Call call, @ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        if (plan.settle(call)) {
            count(call, "timeout");
        }
    }

    public boolean cached(@Body LlmPlan.Call call) {
        return cache != null && cache.getIfPresent(key(call)) != null;
    }

    /** An answer given for the same prompt and model before (evicted since the check: the fallback). */
    public void fromCache(@Body LlmPlan.Call call, @ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        String answer = cache == null ? null : cache.getIfPresent(key(call));
        if (plan.settle(call)) {
            if (answer != null) {
                plan.answers().put(call, answer);
            }
            count(call, answer == null ? "error" : "cached");
        }
    }

    /**
     * The chat-completions request of the call (OpenAI's body: model, messages, max_tokens,
     * temperature) and its headers: the body's type and, when one is set, the key as a bearer token.
     * The headers are the request's only ones (the route removed those of the submission).
     */
    public String request(@ExchangeProperty(LlmRoutes.CALL) LlmPlan.Call call, @Headers Map<String, Object> headers) {
        headers.put(Exchange.HTTP_METHOD, "POST");
        headers.put(Exchange.CONTENT_TYPE, "application/json");
        headers.put("Accept", "application/json");
        if (config.apiKey() != null && !config.apiKey().isBlank()) {
            headers.put("Authorization", "Bearer " + config.apiKey().strip());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", call.model());
        body.put("messages", List.of(Map.of("role", "system", "content", SYSTEM_PROMPT),
                Map.of("role", "user", "content", call.prompt())));
        body.put("max_tokens", config.maxTokens());
        body.put("temperature", config.temperature());
        return Json.write(body);
    }

    /**
     * Reads the answer, {@code choices[0].message.content}, made one bounded line; counts the
     * tokens of {@code usage}; caches it. Anything else (not JSON, no content, an empty one) is an
     * error, which the route's breaker answers with the fallback.
     */
    public void answer(@Body String response, @ExchangeProperty(LlmRoutes.CALL) LlmPlan.Call call,
                       @ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        if (response == null || response.length() > MAX_RESPONSE_LENGTH) {
            throw new LlmAnswerException("the answer is empty or longer than " + MAX_RESPONSE_LENGTH + " characters");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(response);
        } catch (JsonProcessingException e) {
            throw new LlmAnswerException("the answer is not JSON");
        }
        JsonNode content = root == null ? null : root.path("choices").path(0).path("message").path("content");
        if (content == null || !content.isTextual()) {
            throw new LlmAnswerException("the answer has no choices[0].message.content");
        }
        String text = clean(content.asText(), config.maxAnswerLength());
        if (text.isEmpty()) {
            throw new LlmAnswerException("the answer's content is empty");
        }
        // Tokens were spent even when the answer came too late to be used.
        tokens(call, "prompt", root.path("usage").path("prompt_tokens"));
        tokens(call, "completion", root.path("usage").path("completion_tokens"));
        if (cache != null) {
            cache.put(key(call), text);
        }
        if (plan.settle(call)) {
            plan.answers().put(call, text);
            count(call, "ok");
        }
    }

    /** No answer (timeout, error, or the breaker open): the fallback text, counted and logged. */
    public void fallback(@ExchangeProperty(LlmRoutes.CALL) LlmPlan.Call call,
                         @ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan,
                         @ExchangeProperty("CamelCircuitBreakerResponseTimedOut") Boolean timedOut,
                         @ExchangeProperty("CamelCircuitBreakerResponseShortCircuited") Boolean open,
                         @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Throwable error,
                         @ExchangeProperty(LlmRoutes.STARTED) Long started) {
        if (!plan.settle(call)) {
            return;
        }
        long elapsedMillis = started == null ? 0 : (System.nanoTime() - started) / 1_000_000;
        // The time limiter's TimeoutException, the socket's own timeout (set to the same), or no
        // exception after the whole timeout: each is the model not answering in time.
        boolean timeout = Boolean.TRUE.equals(timedOut) || causedBy(error, java.util.concurrent.TimeoutException.class)
                || causedBy(error, java.net.SocketTimeoutException.class)
                || error == null && elapsedMillis >= config.timeout().toMillis();
        count(call, timeout ? "timeout" : "error");
        String why = timeout ? "no answer within " + config.timeout().toMillis() + " ms"
                : error != null ? error.getClass().getSimpleName() + ": " + error.getMessage()
                : Boolean.TRUE.equals(open) && elapsedMillis < 10 ? "the endpoint's breaker is open"
                : "the call failed after " + elapsedMillis + " ms";
        log.info("workspace {}: <<{}>> gets its fallback text ({})", call.workspace(), call.placeholder(),
                clean(why, 300));
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** Each copy with its placeholders filled: the answers that came, the fallbacks of the others. */
    public PersonalisedMessage fill(@Body PersonalisedMessage message, @ExchangeProperty(LlmRoutes.PLAN) LlmPlan plan) {
        List<RecipientContent.Rendered> contents = message.copyContents();
        List<RecipientContent.Rendered> filled = new ArrayList<>(contents.size());
        for (int i = 0; i < contents.size(); i++) {
            Map<String, LlmPlan.Call> calls = plan.perCopy().get(i);
            if (calls.isEmpty()) {
                filled.add(contents.get(i));
                continue;
            }
            Map<String, String> values = new HashMap<>();
            calls.forEach((name, call) -> values.put(name, plan.text(call)));
            RecipientContent.Rendered one = Placeholders.fill(contents.get(i), values);
            filled.add(new RecipientContent.Rendered(InputLimits.truncated(one.subject(), SUBJECT_COLUMN), one.mime()));
        }
        return message.withCopyContents(filled);
    }

    private static Key key(LlmPlan.Call call) {
        return new Key(call.model(), call.prompt());
    }

    private void count(LlmPlan.Call call, String outcome) {
        meters.counter("relay.llm.calls", "workspace", call.workspace(), "outcome", outcome).increment();
    }

    private void tokens(LlmPlan.Call call, String kind, JsonNode value) {
        if (value.canConvertToLong() && value.asLong() > 0) {
            meters.counter("relay.llm.tokens", "workspace", call.workspace(), "kind", kind).increment(value.asLong());
        }
    }

    /** An answer the relay cannot use: the breaker counts it as a failure and the fallback is used. */
    static final class LlmAnswerException extends RuntimeException {
        LlmAnswerException(String message) {
            super(message, null, false, false);
        }
    }
}
