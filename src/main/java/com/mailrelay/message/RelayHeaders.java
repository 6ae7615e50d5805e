package com.mailrelay.message;

/**
 * Names the routes use for a message in flight. Headers are what routes in routes/ may read
 * (for example {@code ${header.relayWorkspace}} in a choice); providers set the relayProvider* ones.
 */
public final class RelayHeaders {

    public static final String MESSAGE_ID = "relayMessageId";
    public static final String WORKSPACE = "relayWorkspace";
    public static final String EMAIL_TYPE = "relayEmailType";
    public static final String ATTEMPT = "relayAttempt";
    /** The envelope recipients' domains, lower case, sorted, comma-separated: "example.org" or "a.test,b.test". */
    public static final String RECIPIENT_DOMAINS = "relayRecipientDomains";
    /** The envelope sender's domain, lower case: "news.example.com". */
    public static final String SENDER_DOMAIN = "relaySenderDomain";
    /**
     * The provider id the submission named (REST {@code provider}, SMTP {@code X-Relay-Provider}),
     * only when its workspace has provider-override and the id was a running provider at accept;
     * absent otherwise. The dispatch route sends such a message to direct:provider-&lt;id&gt; only.
     */
    public static final String PROVIDER_OVERRIDE = "relayProviderOverride";
    public static final String PROVIDER_ID = "relayProviderId";
    public static final String PROVIDER_REPLY = "relayProviderReply";
    public static final String PROVIDER_MESSAGE_ID = "relayProviderMessageId";
    /** After a partial delivery: recipients the provider refused for good (List of String). */
    public static final String REFUSED_RECIPIENTS = "relayRefusedRecipients";
    /** After a partial delivery: recipients the provider asked to try again later (List of String). */
    public static final String UNSENT_RECIPIENTS = "relayUnsentRecipients";

    /**
     * Exchange property of an accept in Kafka mode: the {@link LimitHold} a soft limit put on the
     * message (absent: none), for its topic records.
     */
    public static final String LIMIT_HOLD = "relayLimitHold";

    /** Exchange property holding the {@link ClaimedMessage} being delivered. */
    /**
     * Exchange property: the MIME a provider sends (byte[]) — the stored bytes with that
     * provider's header rules applied and, where it signs, a DKIM signature added — made again
     * for each provider of a chain from the stored bytes, which are never changed.
     */
    public static final String OUTGOING_MIME = "relayOutgoingMime";
    /** Exchange property: the header rules of the provider being called (its template's headerRules). */
    public static final String HEADER_RULES = "relayHeaderRules";
    public static final String MESSAGE = "relayMessage";
    /** Exchange property: provider/ChainWaits, what the providers tried asked of the next attempt. */
    public static final String CHAIN_WAITS = "relayChainWaits";

    private RelayHeaders() {
    }
}
