//! Call statistics kept as calls change, equal to a recount.

use super::*;

both_backends!(call_stats_follow_calls_and_equal_a_recount, |db| {
    use switchboard_core::stats::{StatsConfig, metrics};
    let store = db
        .store
        .clone()
        .with_stats_config(StatsConfig { short_abandon_ms: 5_000, utc_offset_ms: 0 });
    let store = &store;
    let anna = user(store, Role::Operator, None).await;
    let boris = user(store, Role::Operator, None).await;
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "stats".into(),
                number: Some("200".into()),
                sl_answer_ms: Some(20_000),
                members: vec![anna.clone(), boris.clone()],
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    // 2026-11-24 10:00 UTC.
    let t0: i64 = 1_795_514_400_000;
    let q = Some(queue.id.clone());
    // 1. Answered by Anna after 10 s; 60 s connected; Boris missed the offer first.
    let c1 = store.create_call(inbound("+79160000101", t0, q.clone())).await.unwrap();
    store
        .add_call_event(&c1.id, t0 + 5_000, CallEventKind::NoAnswer, Some(&boris), json!({}))
        .await
        .unwrap();
    store.call_answered(&c1.id, &anna, t0 + 10_000).await.unwrap();
    store.call_ended(&c1.id, t0 + 70_000, EndReason::CallerHangup, 0).await.unwrap();
    // 2. Abandoned exactly at the 5 s threshold (not short); 3. after 2 s (short).
    let c2 = store.create_call(inbound("+79160000102", t0 + 60_000, q.clone())).await.unwrap();
    store.call_ended(&c2.id, t0 + 65_000, EndReason::Abandoned, 0).await.unwrap();
    let c3 = store.create_call(inbound("+79160000103", t0 + 60_000, q.clone())).await.unwrap();
    store.call_ended(&c3.id, t0 + 62_000, EndReason::Abandoned, 0).await.unwrap();
    // 4. Transferred: Anna answers after 30 s (outside SL), transfers at +90 s, Boris answers
    //    at +100 s, ends at +160 s with 20 s hold; Boris's wrap-up 15 s; disposition sale.
    let c4 = store.create_call(inbound("+79160000104", t0 + 120_000, q.clone())).await.unwrap();
    store.call_answered(&c4.id, &anna, t0 + 150_000).await.unwrap();
    store
        .add_call_event(&c4.id, t0 + 210_000, CallEventKind::Transferred, Some(&anna), json!({}))
        .await
        .unwrap();
    store.call_transferred_to(&c4.id, &boris, t0 + 220_000).await.unwrap();
    store.call_ended(&c4.id, t0 + 280_000, EndReason::CallerHangup, 20_000).await.unwrap();
    store.set_call_wrapup(&c4.id, 15_000).await.unwrap();
    store
        .set_call_outcome(
            &Actor::user(boris.clone()),
            &c4.id,
            CallOutcome { disposition: Some("sale".into()), ..Default::default() },
        )
        .await
        .unwrap();
    // 5. Still open at "restart": closed as interrupted.
    let c5 = store.create_call(inbound("+79160000105", t0 + 200_000, q.clone())).await.unwrap();
    store.call_answered(&c5.id, &boris, t0 + 201_000).await.unwrap();
    store.close_open_calls(t0 + 260_000, None, EndReason::Interrupted).await.unwrap();

    assert_eq!(
        store.call_stats_rows().await.unwrap(),
        store.recount_call_stats().await.unwrap(),
        "rollups equal a recount"
    );
    let range = StatsFilter { from: t0 - 3_600_000, to: t0 + 3_600_000, ..Default::default() };
    let total = store.call_stats(&range, StatsGroup::Total).await.unwrap();
    let m = metrics(&total[0].counters);
    assert_eq!(
        (m.offered, m.answered, m.abandoned, m.short_abandoned, m.missed_offers),
        (5, 3, 1, 1, 1)
    );
    // SL: c1 (10 s) and c5 (1 s) within 20 s of 5 offered; ASA (10 + 30 + 1) / 3 s.
    assert_eq!(m.service_level, Some(0.4));
    assert_eq!(m.asa_ms, Some(41_000.0 / 3.0));
    assert_eq!(m.abandonment_rate, Some(0.2));
    // Handled: c1 (Anna), c4 (Anna, Boris), c5 (Boris) = 4; talk 60 + 60 + 40 + 59 s, hold 20, wrap 15.
    assert_eq!(m.handled, 4);
    let c = total[0].counters;
    assert_eq!((c.talk_ms, c.hold_ms, c.wrapup_ms), (219_000, 20_000, 15_000));
    let by_agent = store.call_stats(&range, StatsGroup::Agent).await.unwrap();
    let agent = |id: &str| by_agent.iter().find(|r| r.key == id).map(|r| r.counters).unwrap();
    assert_eq!(
        (agent(&anna).handled, agent(&anna).talk_ms, agent(&anna).answered),
        (2, 120_000, 2)
    );
    assert_eq!(
        (
            agent(&boris).handled,
            agent(&boris).talk_ms,
            agent(&boris).hold_ms,
            agent(&boris).wrapup_ms,
            agent(&boris).missed_offers
        ),
        (2, 99_000, 20_000, 15_000, 1)
    );
    let by_disposition = store.call_stats(&range, StatsGroup::Disposition).await.unwrap();
    assert_eq!(
        by_disposition.iter().find(|r| r.key == "sale").map(|r| r.counters.offered),
        Some(1)
    );
    // By hour (UTC+3 boundaries are the same hours): everything in 10:00.
    let hours = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(3_600_000),
        )
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert_eq!(hours[0].key, t0.to_string());
    // A day in Moscow starts at 21:00 UTC; a week on Monday (2026-11-23 00:00 UTC+3).
    let days = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(86_400_000),
        )
        .await
        .unwrap();
    assert_eq!(days[0].key, (t0 - 13 * 3_600_000).to_string());
    let weeks = store
        .call_stats(
            &StatsFilter { utc_offset_ms: 3 * 3_600_000, ..range.clone() },
            StatsGroup::Interval(7 * 86_400_000),
        )
        .await
        .unwrap();
    assert_eq!(weeks[0].key, (t0 - 13 * 3_600_000 - 86_400_000).to_string());
    // Changing the definitions' settings and rebuilding: the 5 s abandon becomes short.
    let stricter = db
        .store
        .clone()
        .with_stats_config(StatsConfig { short_abandon_ms: 6_000, utc_offset_ms: 0 });
    stricter.rebuild_call_stats().await.unwrap();
    let m = metrics(&stricter.call_stats(&range, StatsGroup::Total).await.unwrap()[0].counters);
    assert_eq!((m.abandoned, m.short_abandoned), (0, 2));
    // Occupancy from the state log: 30 min available, 15 on calls, 15 paused in the hour.
    store.agent_state_changed(&anna, "available", None, t0).await.unwrap();
    store.agent_state_changed(&anna, "on_call", None, t0 + 1_800_000).await.unwrap();
    store.agent_state_changed(&anna, "paused", Some("lunch"), t0 + 2_700_000).await.unwrap();
    let spans = store.agent_state_spans(t0, t0 + 3_600_000, Some(&anna)).await.unwrap();
    let (handling, available) =
        switchboard_core::stats::state_times(&spans[&anna], t0, t0 + 3_600_000, t0 + 3_600_000);
    assert_eq!(switchboard_core::stats::occupancy(handling, available), Some(1.0 / 3.0));
});

both_backends!(call_stats_equal_a_recount_after_random_sequences, |db| {
    // Moscow time: days (and the day rollups) start at 21:00 UTC.
    let store = &db.store.clone().with_stats_config(switchboard_core::stats::StatsConfig {
        short_abandon_ms: 5_000,
        utc_offset_ms: 3 * 3_600_000,
    });
    let agents = [
        user(store, Role::Operator, None).await,
        user(store, Role::Operator, None).await,
        user(store, Role::Operator, None).await,
    ];
    let queue = store
        .create_queue(
            &Actor::system(),
            NewQueue {
                name: "rand".into(),
                number: Some("300".into()),
                members: agents.to_vec(),
                ..NewQueue::default()
            },
        )
        .await
        .unwrap();
    let mut seed: u64 = 7;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((seed >> 33) % n).unwrap()
    };
    let t0: i64 = 1_795_478_400_000;
    let mut ended = Vec::new();
    for i in 0..60 {
        let at = t0 + next(2 * 86_400) * 1000;
        let agent = &agents[usize::try_from(next(3)).unwrap()];
        let call = store
            .create_call(inbound(&format!("+7916000{:04}", next(20)), at, Some(queue.id.clone())))
            .await
            .unwrap();
        if next(3) == 0 {
            store
                .add_call_event(
                    &call.id,
                    at + 1000,
                    CallEventKind::NoAnswer,
                    Some(&agents[usize::try_from(next(3)).unwrap()]),
                    json!({}),
                )
                .await
                .unwrap();
        }
        match next(4) {
            0 => {
                store
                    .call_ended(
                        &call.id,
                        at + next(60_000),
                        if next(2) == 0 { EndReason::Abandoned } else { EndReason::MaxWait },
                        0,
                    )
                    .await
                    .unwrap();
            }
            1 if i % 2 == 0 => {} // left open for close_open_calls
            _ => {
                store.call_answered(&call.id, agent, at + next(40_000)).await.unwrap();
                if next(3) == 0 {
                    store
                        .add_call_event(
                            &call.id,
                            at + 50_000,
                            CallEventKind::Transferred,
                            Some(agent),
                            json!({}),
                        )
                        .await
                        .unwrap();
                    store
                        .call_transferred_to(
                            &call.id,
                            &agents[usize::try_from(next(3)).unwrap()],
                            at + 55_000,
                        )
                        .await
                        .unwrap();
                }
                store
                    .call_ended(
                        &call.id,
                        at + 60_000 + next(600_000),
                        EndReason::CallerHangup,
                        next(20_000),
                    )
                    .await
                    .unwrap();
                ended.push(call.id.clone());
            }
        }
    }
    // Changes after the end, in random order: wrap-ups and dispositions, some twice.
    for _ in 0..40 {
        let id = &ended[usize::try_from(next(ended.len() as u64)).unwrap()];
        if next(2) == 0 {
            store.set_call_wrapup(id, next(90_000)).await.unwrap();
        } else {
            let d = ["sale", "resolved", "complaint"][usize::try_from(next(3)).unwrap()];
            store
                .set_call_outcome(
                    &Actor::system(),
                    id,
                    CallOutcome { disposition: Some(d.into()), ..Default::default() },
                )
                .await
                .unwrap();
        }
    }
    // Agents' states, some spans crossing midnight, some left open.
    for _ in 0..50 {
        let agent = &agents[usize::try_from(next(3)).unwrap()];
        let state = ["available", "ringing", "on_call", "wrap_up", "paused"]
            [usize::try_from(next(5)).unwrap()];
        store.agent_state_changed(agent, state, None, t0 + next(3 * 86_400) * 1000).await.unwrap();
    }
    store.close_open_calls(t0 + 3 * 86_400_000, None, EndReason::Interrupted).await.unwrap();
    let maintained = store.call_stats_rows().await.unwrap();
    assert!(!maintained.is_empty());
    assert_eq!(maintained, store.recount_call_stats().await.unwrap());

    // Every rollup gives the slot table's figures, for whole days (the day table) and not
    // (the queue table, or the slot table for one agent), in every grouping.
    const DAY: i64 = 86_400_000;
    let offset = 3 * 3_600_000;
    let midnight = (t0 + offset).div_euclid(DAY) * DAY - offset;
    let groups = [
        StatsGroup::Total,
        StatsGroup::Queue,
        StatsGroup::Agent,
        StatsGroup::Disposition,
        StatsGroup::Interval(900_000),
        StatsGroup::Interval(3_600_000),
        StatsGroup::Interval(DAY),
        StatsGroup::Interval(7 * DAY),
    ];
    let check = async |label: &str| {
        for (from, to) in [
            (midnight, midnight + 3 * DAY),
            (midnight + DAY, midnight + 2 * DAY),
            (midnight + 3_600_000, midnight + DAY + 7_200_000),
        ] {
            for agent_id in [None, Some(agents[1].clone())] {
                for queue_id in [None, Some(queue.id.clone())] {
                    let filter = StatsFilter {
                        from,
                        to,
                        queue_id: queue_id.clone(),
                        agent_id: agent_id.clone(),
                        utc_offset_ms: offset,
                    };
                    for group in groups {
                        let fast = store.call_stats(&filter, group).await.unwrap();
                        let exact = store.call_stats_by_slot(&filter, group).await.unwrap();
                        assert_eq!(fast, exact, "{label}: {group:?} over {filter:?}");
                    }
                }
            }
            // Occupancy's inputs: the day rollup plus open spans equal the state log itself.
            let now = t0 + 4 * DAY;
            let rolled = store.agent_times(from, to, None, now).await.unwrap();
            let spans = store.agent_state_spans(from, to, None).await.unwrap();
            let logged: std::collections::BTreeMap<String, (i64, i64)> = spans
                .iter()
                .map(|(a, s)| (a.clone(), switchboard_core::stats::state_times(s, from, to, now)))
                .filter(|(_, (h, a))| h + a > 0)
                .collect();
            let rolled: std::collections::BTreeMap<String, (i64, i64)> =
                rolled.into_iter().filter(|(_, (h, a))| h + a > 0).collect();
            assert_eq!(rolled, logged, "{label}: agents' times over {from}..{to}");
        }
    };
    check("maintained").await;
    // Deriving them again from the slot table and the log changes nothing.
    store.derive_rollups().await.unwrap();
    check("derived").await;
    assert!(!store.prepare_stats().await.unwrap(), "derived for this zone already");
    let utc = db.store.clone().with_stats_config(switchboard_core::stats::StatsConfig {
        short_abandon_ms: 5_000,
        utc_offset_ms: 0,
    });
    assert!(utc.prepare_stats().await.unwrap(), "another zone: derived again");
});
