package com.mailrelay.workspace;

import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ValidationException.FieldError;

/**
 * A check of workspace settings that only the feature using them can make (a DKIM key that must
 * sign, an inbound key that must parse): the admin API runs every bean of this type before it
 * stores settings, so that what is stored works at once, and names each bad field. Here, below the
 * features, so that they implement it without the API importing them.
 */
public interface SettingsCheck {

    /** The problems of these settings, each naming its field as the API spells it (e.g. dkim[0].private_key). */
    List<FieldError> problems(String workspace, RelayProperties.Workspace settings);
}
