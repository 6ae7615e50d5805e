package com.mailrelay.llm;

import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.springframework.stereotype.Component;

/**
 * The chat-completions client makes one attempt: a retry of HttpClient's own would run past the
 * time the accept waits, and the answer would be thrown away anyway (the fallback is used).
 */
@Component("llmHttpClient")
public class LlmHttpClient implements HttpClientConfigurer {

    @Override
    public void configureHttpClient(HttpClientBuilder clientBuilder) {
        clientBuilder.disableAutomaticRetries().disableRedirectHandling();
    }
}
