package com.mailrelay.accept;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The accept path is visible as routes: {@code GET /api/v1/routes} lists {@code accept} and, in
 * the database mode of the shared context, {@code accept-database} — Java routes, started — and no
 * {@code accept-kafka}, whose beans exist only with relay.queue: kafka (KafkaQueueTest lists it).
 */
public class AcceptRoutesTest extends RelayTestSupport {

    @Test
    void theRoutesApiListsTheAcceptRoutes() {
        Map<String, Map<String, Object>> routes = routes(port);
        assertThat(routes).containsKeys("accept", "accept-database").doesNotContainKey("accept-kafka");
        for (String id : List.of("accept", "accept-database")) {
            assertThat(routes.get(id)).as(id).containsEntry("source", "java").containsEntry("state", "Started");
        }
    }

    /** The routes {@code GET /api/v1/routes} lists, by id. */
    public static Map<String, Map<String, Object>> routes(int port) {
        var response = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/routes"))
                .header("Authorization", "Bearer admin-key").GET().build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, Map<String, Object>> byId = new TreeMap<>();
        for (Object route : (List<?>) read(response.body()).get("routes")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> view = (Map<String, Object>) route;
            byId.put((String) view.get("id"), view);
        }
        return byId;
    }
}
