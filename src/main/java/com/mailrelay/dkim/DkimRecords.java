package com.mailrelay.dkim;

import java.util.List;

import com.mailrelay.api.ForeignWorkspaceException;
import com.mailrelay.workspace.AdminKeys;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * What {@code GET /api/v1/workspaces/{id}/dkim} answers: the TXT record to publish for each of
 * the workspace's signing domains. Only public keys leave: the private key is in no view.
 */
@Component("dkimRecords")
public class DkimRecords {

    /** A workspace's signing domains and the record each needs in DNS. */
    public record View(String workspace, List<DnsRecord> records) {
    }

    /**
     * One TXT record.
     *
     * @param name  {@code <selector>._domainkey.<domain>}
     * @param value {@code v=DKIM1; k=rsa; p=<base64 public key>}
     */
    public record DnsRecord(String domain, String selector, String name, String type, String value) {
    }

    private final DkimKeys keys;
    private final Workspaces workspaces;
    private final AdminKeys adminKeys;

    public DkimRecords(DkimKeys keys, Workspaces workspaces, AdminKeys adminKeys) {
        this.keys = keys;
        this.workspaces = workspaces;
        this.adminKeys = adminKeys;
    }

    /**
     * Who may read workspace {@code id}: an admin key any, a workspace key only its own (403
     * otherwise, 401 for no or an unknown key).
     */
    public void authorize(@Header("Authorization") String authorization, @Header("id") String id) {
        if (adminKeys.matches(authorization)) {
            return;
        }
        String own = workspaces.authenticate(authorization);
        if (!own.equals(id)) {
            throw new ForeignWorkspaceException("this API key belongs to another workspace; it may read only its own"
                    + " (an admin key reads any)");
        }
    }

    /** The records of a configured workspace (an empty list when it signs nothing), or null for an unknown one. */
    public View records(@Header("id") String id) {
        if (workspaces.find(id).isEmpty()) {
            return null;
        }
        return new View(id, keys.of(id).stream()
                .map(key -> new DnsRecord(key.domain(), key.selector(), key.recordName(), "TXT", key.recordValue()))
                .toList());
    }
}
