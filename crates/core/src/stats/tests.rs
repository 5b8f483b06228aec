use super::*;

const S: i64 = 1000;
const MIN: i64 = 60 * S;
/// 2026-11-24 00:00:00 UTC.
const DAY: i64 = 1_795_478_400_000;

fn inbound(offered_at: i64, wait: i64, reason: &str) -> CallFact {
    CallFact {
        inbound: true,
        queue_id: Some("q".into()),
        sl_answer_ms: 20 * S,
        offered_at,
        answered_at: None,
        ended_at: offered_at + wait,
        wait_ms: wait,
        hold_ms: 0,
        wrapup_ms: 0,
        end_reason: Some(reason.parse().unwrap()),
        disposition: None,
        agent_id: None,
        segments: Vec::new(),
        missed_offers: Vec::new(),
    }
}

fn answered(offered_at: i64, wait: i64, talk_end: i64, agent: &str) -> CallFact {
    let answer = offered_at + wait;
    CallFact {
        answered_at: Some(answer),
        ended_at: talk_end,
        segments: vec![Segment { agent_id: agent.into(), from: answer, to: talk_end }],
        ..inbound(offered_at, wait, "caller_hangup")
    }
}

fn sum(facts: &[CallFact]) -> std::collections::BTreeMap<Key, Counters> {
    let mut out = std::collections::BTreeMap::new();
    for f in facts {
        for (k, c) in contribution(f, &StatsConfig::default()) {
            *out.entry(k).or_default() += c;
        }
    }
    out
}

fn total(facts: &[CallFact]) -> Counters {
    let mut t = Counters::default();
    for c in sum(facts).values() {
        t += *c;
    }
    t
}

#[test]
fn an_answered_call_in_its_slot_with_every_part_of_its_handling() {
    // Offered 10:07:00, answered after 15 s (within the 20 s threshold), 5 min connected of
    // which 30 s on hold, 60 s of wrap-up.
    let at = DAY + 10 * 60 * MIN + 7 * MIN;
    let mut call = answered(at, 15 * S, at + 15 * S + 5 * MIN, "anna");
    call.hold_ms = 30 * S;
    call.wrapup_ms = 60 * S;
    call.disposition = Some("sale".into());
    let rows = contribution(&call, &StatsConfig::default());
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (key, c) = &rows[0];
    assert_eq!(key.slot, DAY + 10 * 60 * MIN, "10:07 is in the 10:00 slot");
    assert_eq!(
        (key.queue_id.as_str(), key.agent_id.as_str(), key.disposition.as_str()),
        ("q", "anna", "sale")
    );
    assert_eq!(
        (c.offered, c.answered, c.answered_in_sl, c.answer_wait_ms, c.handled),
        (1, 1, 1, 15 * S, 1)
    );
    assert_eq!(
        (c.talk_ms, c.hold_ms, c.wrapup_ms),
        (270 * S, 30 * S, 60 * S),
        "talk is connected time minus hold"
    );
    let m = metrics(c);
    assert_eq!(m.aht_ms, Some(360_000.0));
    assert_eq!(
        (m.avg_talk_ms, m.avg_hold_ms, m.avg_wrapup_ms),
        (Some(270_000.0), Some(30_000.0), Some(60_000.0))
    );
}

#[test]
fn abandons_at_the_threshold_are_not_short_and_timeouts_are_neither() {
    let at = DAY;
    let c = total(&[
        inbound(at, 4999, "abandoned"),
        inbound(at, 5000, "abandoned"),
        inbound(at, 90 * S, "max_wait"),
        inbound(at, 100, "failed"),
    ]);
    assert_eq!(
        (c.offered, c.short_abandoned, c.abandoned, c.timed_out, c.answered),
        (4, 1, 1, 1, 0)
    );
    let m = metrics(&c);
    assert_eq!(m.abandonment_rate, Some(0.25), "short abandons are not in the numerator");
    assert_eq!(m.service_level, Some(0.0));
    assert_eq!(m.asa_ms, None);
}

#[test]
fn service_level_counts_every_offered_call_in_its_denominator() {
    // Four calls: answered at 10 s, at exactly 20 s (within), at 21 s (outside), and a short
    // abandon: SL = 2 / 4, ASA = (10 + 20 + 21) / 3 s.
    let at = DAY + 5 * MIN;
    let c = total(&[
        answered(at, 10 * S, at + MIN, "a"),
        answered(at, 20 * S, at + MIN, "a"),
        answered(at, 21 * S, at + MIN, "b"),
        inbound(at, 2 * S, "abandoned"),
    ]);
    let m = metrics(&c);
    assert_eq!(m.service_level, Some(0.5));
    assert_eq!(m.asa_ms, Some(17_000.0));
    assert_eq!(m.abandonment_rate, Some(0.0));
    assert_eq!(m.short_abandoned, 1);
}

#[test]
fn a_transfer_is_one_call_for_the_queue_and_handled_by_each_agent() {
    // Anna answers at 12:00:10 and transfers at 12:02:10; Boris answers at 12:02:40 and the
    // call ends at 12:05:40 after 20 s of hold; Boris's wrap-up is 30 s.
    let at = DAY + 12 * 60 * MIN;
    let mut call = inbound(at, 10 * S, "caller_hangup");
    call.answered_at = Some(at + 10 * S);
    call.ended_at = at + 5 * MIN + 40 * S;
    call.hold_ms = 20 * S;
    call.wrapup_ms = 30 * S;
    call.segments = vec![
        Segment { agent_id: "anna".into(), from: at + 10 * S, to: at + 2 * MIN + 10 * S },
        Segment {
            agent_id: "boris".into(),
            from: at + 2 * MIN + 40 * S,
            to: at + 5 * MIN + 40 * S,
        },
    ];
    let rows = sum(&[call]);
    let anna = rows.iter().find(|(k, _)| k.agent_id == "anna").map(|(_, c)| *c).unwrap();
    let boris = rows.iter().find(|(k, _)| k.agent_id == "boris").map(|(_, c)| *c).unwrap();
    assert_eq!(
        (anna.offered, anna.answered, anna.handled, anna.talk_ms, anna.hold_ms, anna.wrapup_ms),
        (1, 1, 1, 120 * S, 0, 0)
    );
    assert_eq!(
        (
            boris.offered,
            boris.answered,
            boris.handled,
            boris.talk_ms,
            boris.hold_ms,
            boris.wrapup_ms
        ),
        (0, 0, 1, 160 * S, 20 * S, 30 * S)
    );
    let queue = anna + boris;
    assert_eq!((queue.offered, queue.answered, queue.handled), (1, 1, 2));
    // AHT over the two handled parts: (120 + 160 + 20 + 30) / 2 s.
    assert_eq!(metrics(&queue).aht_ms, Some(165_000.0));
}

#[test]
fn a_call_spanning_midnight_counts_on_the_day_it_came() {
    let at = DAY - 10 * S; // 23:59:50
    let call = answered(at, 5 * S, at + 10 * MIN, "anna");
    let rows = contribution(&call, &StatsConfig::default());
    assert_eq!(rows[0].0.slot, DAY - 15 * MIN, "the 23:45 slot of the first day");
    assert_eq!(rows[0].1.talk_ms, 10 * MIN - 5 * S, "all its talk with it");
}

#[test]
fn missed_offers_go_to_the_agent_in_the_slot_of_the_miss() {
    // Offered at 00:14; Anna lets it ring out at 00:14:20 and refuses again at 00:14:30,
    // Clara lets it ring out at 00:15:10, Boris answers.
    let at = DAY + 14 * MIN;
    let mut call = answered(at, 80 * S, at + 3 * MIN, "boris");
    call.missed_offers = vec![
        ("anna".into(), at + 20 * S),
        ("anna".into(), at + 30 * S),
        ("clara".into(), at + 70 * S),
    ];
    let rows = sum(&[call]);
    let find = |agent: &str| {
        rows.iter()
            .filter(|(k, _)| k.agent_id == agent)
            .map(|(k, c)| (k.slot, c.missed_offers, c.offered))
            .collect::<Vec<_>>()
    };
    assert_eq!(find("anna"), vec![(DAY, 2, 0)], "once per offer");
    assert_eq!(find("clara"), vec![(DAY + 15 * MIN, 1, 0)], "in the slot of the miss");
    assert_eq!(find("boris"), vec![(DAY, 0, 1)]);
}

#[test]
fn outbound_calls_count_attempts_connections_and_talk_per_agent() {
    let at = DAY + 9 * 60 * MIN;
    let mut connected = CallFact {
        inbound: false,
        queue_id: None,
        agent_id: Some("anna".into()),
        answered_at: Some(at + 10 * S),
        ended_at: at + 70 * S,
        ..inbound(at, 0, "caller_hangup")
    };
    connected.segments.clear();
    let busy = CallFact {
        answered_at: None,
        ended_at: at + 5 * S,
        end_reason: Some(EndReason::Busy),
        ..connected.clone()
    };
    let c = total(&[connected, busy]);
    assert_eq!(
        (c.offered, c.outbound_attempts, c.outbound_connected, c.outbound_talk_ms, c.handled),
        (0, 2, 1, 60 * S, 1)
    );
}

#[test]
fn occupancy_excludes_pauses_and_clips_to_the_interval() {
    let from = DAY + 10 * 60 * MIN;
    let to = from + 60 * MIN;
    let spans = vec![
        StateSpan { state: "available".into(), from: from - 30 * MIN, to: Some(from + 10 * MIN) },
        StateSpan { state: "ringing".into(), from: from + 10 * MIN, to: Some(from + 11 * MIN) },
        StateSpan { state: "on_call".into(), from: from + 11 * MIN, to: Some(from + 25 * MIN) },
        StateSpan { state: "wrap_up".into(), from: from + 25 * MIN, to: Some(from + 26 * MIN) },
        // Paused mid-interval for half an hour: not in either side.
        StateSpan { state: "paused".into(), from: from + 26 * MIN, to: Some(from + 56 * MIN) },
        StateSpan { state: "available".into(), from: from + 56 * MIN, to: None },
    ];
    let (handling, available) = state_times(&spans, from, to, to + 5 * MIN);
    assert_eq!((handling, available), (15 * MIN, 15 * MIN));
    assert_eq!(occupancy(handling, available), Some(0.5));
    assert_eq!(occupancy(0, 0), None);
}

/// A small deterministic generator (no dependency for one test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> i64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((self.0 >> 33) % n.max(1)).unwrap_or(0)
    }
}

/// A random ended call.
fn random_fact(r: &mut Lcg) -> CallFact {
    let at = DAY + r.next(3 * 24 * 3600) * S;
    let wait = r.next(120) * S;
    let agents = ["anna", "boris", "clara"];
    let agent = agents[usize::try_from(r.next(3)).unwrap_or(0)].to_owned();
    let mut fact = match r.next(5) {
        0 => inbound(at, wait, if r.next(2) == 0 { "abandoned" } else { "max_wait" }),
        1 => CallFact {
            inbound: false,
            queue_id: None,
            agent_id: Some(agent.clone()),
            answered_at: (r.next(2) == 0).then_some(at + wait),
            ended_at: at + wait + r.next(600) * S,
            ..inbound(at, 0, "caller_hangup")
        },
        _ => answered(at, wait, at + wait + r.next(900) * S, &agent),
    };
    fact.hold_ms = r.next(30) * S;
    fact.wrapup_ms = r.next(60) * S;
    fact.disposition =
        ["", "sale", "resolved"][usize::try_from(r.next(3)).unwrap_or(0)].to_owned().into();
    if fact.disposition.as_deref() == Some("") {
        fact.disposition = None;
    }
    for _ in 0..r.next(3) {
        fact.missed_offers.push((
            agents[usize::try_from(r.next(3)).unwrap_or(0)].to_owned(),
            at + r.next(60) * S,
        ));
    }
    fact
}

#[test]
fn rollups_maintained_by_updates_equal_a_recount() {
    let mut r = Lcg(42);
    let mut facts: Vec<CallFact> = (0..500).map(|_| random_fact(&mut r)).collect();
    let mut maintained = sum(&facts);
    // Random changes after the end (wrap-up recorded, disposition changed): subtract the old
    // contribution, add the new one.
    for _ in 0..300 {
        let i = usize::try_from(r.next(500)).unwrap_or(0);
        let old = facts[i].clone();
        facts[i].wrapup_ms = r.next(120) * S;
        facts[i].disposition = if r.next(2) == 0 { Some("complaint".into()) } else { None };
        for (k, c) in contribution(&old, &StatsConfig::default()) {
            *maintained.entry(k).or_default() -= c;
        }
        for (k, c) in contribution(&facts[i], &StatsConfig::default()) {
            *maintained.entry(k).or_default() += c;
        }
    }
    maintained.retain(|_, c| !c.is_zero());
    assert_eq!(maintained, sum(&facts));
}

#[test]
fn spans_split_at_local_midnight() {
    let msk = 3 * 3_600_000;
    // 2026-11-24 20:30 UTC is 23:30 in Moscow; the day began at 2026-11-23 21:00 UTC.
    let at = 1_795_552_200_000;
    let day = day_of(at, msk);
    assert_eq!(day, at - 23 * 3_600_000 - 1_800_000, "23:30 local is 23.5 h after local midnight");
    assert_eq!(day_of(day, msk), day, "midnight belongs to its own day");
    assert_eq!(day_of(day - 1, msk), day - DAY_MS);
    // An hour on a call from 23:30 to 00:30: half in each day.
    assert_eq!(
        span_days("on_call", at, at + 3_600_000, msk),
        vec![(day, 1_800_000, 0), (day + DAY_MS, 1_800_000, 0)]
    );
    assert_eq!(span_days("ringing", at, at + 60_000, msk), vec![(day, 0, 60_000)]);
    assert!(span_days("paused", at, at + 60_000, msk).is_empty(), "pauses count nowhere");
    assert!(span_days("available", at, at, msk).is_empty());
}

#[test]
fn calls_blocked_for_capacity_are_offered_and_unserved() {
    // Two answered within the threshold, two refused at the door (503 at capacity).
    let at = DAY + 9 * 60 * MIN;
    let facts = [
        answered(at, 5 * S, at + MIN, "anna"),
        answered(at, 5 * S, at + MIN, "boris"),
        inbound(at, 0, "blocked"),
        inbound(at + S, 0, "blocked"),
    ];
    let t = total(&facts);
    assert_eq!((t.offered, t.answered, t.blocked, t.abandoned, t.timed_out), (4, 2, 2, 0, 0));
    let m = metrics(&t);
    assert_eq!(m.blocked, 2);
    assert_eq!(m.service_level, Some(0.5), "blocked calls are in the service level's denominator");
    assert_eq!(m.abandonment_rate, Some(0.0), "and not abandons");
    assert!(DEFINITIONS.iter().any(|(k, d)| *k == "blocked" && d.contains("max_calls")));
}
