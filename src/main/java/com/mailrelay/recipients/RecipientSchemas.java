package com.mailrelay.recipients;

import java.util.List;

import com.mailrelay.store.Suppressions;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/**
 * The bodies of the recipients API as the OpenAPI document shows them ({@link RecipientRequests}
 * reads and checks them; an entry is a {@link Suppressions.Recipient}).
 */
final class RecipientSchemas {

    private RecipientSchemas() {
    }

    @Schema(name = "RecipientList")
    record RecipientList(
            @Schema(requiredMode = RequiredMode.REQUIRED, description = "by address, at most 1000")
            List<Suppressions.Recipient> recipients) {
    }

    @Schema(name = "RecipientUpdate", description = "status, names or both")
    record RecipientUpdate(
            @Schema(allowableValues = {"ACTIVE", "BOUNCED", "UNSUBSCRIBED", "COMPLAINED"},
                    description = "ACTIVE lifts a suppression; the others suppress the address (any case). Required "
                            + "unless a name is given")
            String status,
            @Schema(description = "why, kept with the entry (default \"set through the API\"), without control characters")
            String reason,
            @Schema(maxLength = 255, description = "the recipient's first name ({{FIRST_NAME}})")
            String firstName,
            @Schema(maxLength = 255, description = "the recipient's last name ({{LAST_NAME}})")
            String lastName) {
    }
}
