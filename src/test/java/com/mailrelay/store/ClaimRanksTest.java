package com.mailrelay.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Priority;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The rank computation of store/ClaimRanks alone: what order the claim then walks. */
class ClaimRanksTest {

    private static final Instant T0 = Instant.parse("2026-03-01T12:00:00Z");

    private record Ranked(String stream, Instant rank) {
    }

    private static ClaimRanks ranks(RelayProperties.QueuePriorities levels) {
        return new ClaimRanks(levels, Clock.fixed(T0, ZoneOffset.UTC));
    }

    @Test
    void aBacklogIsSpreadAtItsRateAndANewcomerRanksNearItsDueTime() {
        ClaimRanks ranks = ranks(null);   // the defaults: low 5 a second, no head start
        List<Instant> backlog = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            backlog.add(ranks.next("a", Priority.LOW.level(), T0));
        }
        assertThat(backlog.get(0)).isEqualTo(T0.plusMillis(200));
        assertThat(backlog.get(19_999)).isEqualTo(T0.plusSeconds(4000));
        // Another workspace's first low message, a second later: after 5 of A's, not 20,000.
        Instant newcomer = ranks.next("b", Priority.LOW.level(), T0.plusSeconds(1));
        assertThat(backlog.stream().filter(rank -> rank.isBefore(newcomer)).count()).isEqualTo(5);
        // Its high message (a head start of 2 minutes) before all of them.
        assertThat(ranks.next("b", Priority.HIGH.level(), T0.plusSeconds(1))).isBefore(backlog.get(0));
    }

    @Test
    void backlogsOfTwoLevelsShareTheClaimsInProportionToTheirRates() {
        RelayProperties.Level high = new RelayProperties.Level(Duration.ZERO, 4.0);
        RelayProperties.Level low = new RelayProperties.Level(Duration.ZERO, 1.0);
        ClaimRanks ranks = ranks(new RelayProperties.QueuePriorities(null, high, null, low));
        List<Ranked> all = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            all.add(new Ranked("urgent", ranks.next("b", Priority.HIGH.level(), T0)));
            all.add(new Ranked("bulk", ranks.next("a", Priority.LOW.level(), T0)));
        }
        all.sort(Comparator.comparing(Ranked::rank));
        List<Ranked> firstClaims = all.subList(0, 1_000);
        long urgent = firstClaims.stream().filter(r -> r.stream().equals("urgent")).count();
        assertThat(urgent).isEqualTo(800);
        assertThat(1_000 - urgent).as("low still progresses").isEqualTo(200);
    }

    @Test
    void aRetryRanksAtItsDueTimeLessItsHeadStartWithoutAStream() {
        ClaimRanks ranks = ranks(null);
        Instant due = T0.plusSeconds(30);
        assertThat(ranks.again(Priority.CRITICAL.level(), due)).isEqualTo(due.minus(Duration.ofMinutes(10)));
        assertThat(ranks.again(Priority.HIGH.level(), due)).isEqualTo(due.minus(Duration.ofMinutes(2)));
        assertThat(ranks.again(Priority.NORMAL.level(), due)).isEqualTo(due.minusSeconds(30));
        assertThat(ranks.again(Priority.LOW.level(), due)).isEqualTo(due);
        // The SQL parameters: one per level, critical first.
        assertThat(ranks.positional(due)).containsExactly(java.sql.Timestamp.from(due.minusSeconds(600)),
                java.sql.Timestamp.from(due.minusSeconds(120)), java.sql.Timestamp.from(due.minusSeconds(30)),
                java.sql.Timestamp.from(due));
        // Retries advance no stream.
        assertThat(ranks.next("a", Priority.LOW.level(), T0)).isEqualTo(T0.plusMillis(200));
    }

    @Test
    void fullClaimsBehindTheClockMoveNewRanksBackUntilAClaimIsNotFull() {
        ClaimRanks ranks = ranks(null);
        // The claims took high rows ranked (less their 2 minutes) an hour behind the clock.
        ranks.claimed(T0.minus(Duration.ofHours(1)).minus(Duration.ofMinutes(2)), Priority.HIGH.level(), true);
        assertThat(ranks.lag()).isEqualTo(Duration.ofHours(1));
        assertThat(ranks.next("c", Priority.LOW.level(), T0)).isEqualTo(T0.minus(Duration.ofHours(1)).plusMillis(200));
        assertThat(ranks.again(Priority.LOW.level(), T0.plusSeconds(60)))
                .isEqualTo(T0.plusSeconds(60).minus(Duration.ofHours(1)));
        // A head start alone is no lag; nor are ranks ahead of the clock.
        ranks.claimed(T0.minus(Duration.ofMinutes(2)), Priority.HIGH.level(), true);
        assertThat(ranks.lag()).isZero();
        ranks.claimed(T0.plusSeconds(3600), Priority.LOW.level(), true);
        assertThat(ranks.lag()).isZero();
        ranks.claimed(T0.minus(Duration.ofHours(1)), Priority.LOW.level(), false);
        assertThat(ranks.lag()).as("a claim that is not full: nothing is waiting behind").isZero();
    }
}
