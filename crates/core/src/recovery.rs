//! After a crash: when did a call that was never closed really end?
//!
//! The gateway writes a heartbeat every second while it serves, and a recording's length is
//! brought up to date on disk every second. Both are moments the gateway is known to have
//! still carried the call; the later of them is when it ended, give or take a second. The
//! restart time is not: counting it would add the downtime to the call's talk time (a minute
//! of downtime once made an hour's AHT read 48 s of pure downtime per call).

/// When an interrupted call ended: the latest moment it is known to have been carried (the
/// node's last heartbeat `last_alive`, or the end of its recording, `answered_at +
/// recording_ms`), never before the call began nor after `now`. With neither known (a store
/// from before heartbeats), `now`.
pub fn interrupted_end(
    now: i64,
    last_alive: Option<i64>,
    offered_at: i64,
    answered_at: Option<i64>,
    recording_ms: Option<i64>,
) -> i64 {
    let recorded_until = answered_at.zip(recording_ms).map(|(answered, ms)| answered + ms.max(0));
    let known = [last_alive, recorded_until].into_iter().flatten().max();
    let began = answered_at.unwrap_or(offered_at).max(offered_at);
    let end = match known {
        Some(at) => at.max(began),
        None => now,
    };
    end.min(now.max(began))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn the_downtime_is_not_counted() {
        // Answered at 900 s, heartbeat at 910 s, restart at 1000 s: ended at 910 s.
        assert_eq!(interrupted_end(NOW, Some(910_000), 895_000, Some(900_000), None), 910_000);
        // The recording ran a little past the last heartbeat: its end wins.
        assert_eq!(
            interrupted_end(NOW, Some(910_000), 895_000, Some(900_000), Some(10_600)),
            910_600
        );
        // A recording without a heartbeat (the first start after an upgrade).
        assert_eq!(interrupted_end(NOW, None, 895_000, Some(900_000), Some(9_000)), 909_000);
    }

    #[test]
    fn never_before_the_call_nor_after_now() {
        // The call began after the last heartbeat (inside the last second).
        assert_eq!(interrupted_end(NOW, Some(909_500), 909_800, Some(909_900), None), 909_900);
        assert_eq!(interrupted_end(NOW, Some(909_500), 909_800, None, None), 909_800);
        // A clock that went back: never after now.
        assert_eq!(interrupted_end(NOW, Some(2_000_000), 895_000, Some(900_000), None), NOW);
        // Nothing known: the old behaviour.
        assert_eq!(interrupted_end(NOW, None, 895_000, Some(900_000), None), NOW);
    }
}
