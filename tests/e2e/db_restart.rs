//! The database goes away in the middle of live calls: PostgreSQL (a server of the test's
//! own) is stopped for 20 s and started again. Calls in progress keep their audio, new calls
//! are still answered by agents, and the call log catches up in order once the database is
//! back, with nothing missing.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use switchboard_media::tone::goertzel_power;

use crate::harness::{
    Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, TempPostgres, until,
    within,
};

/// How long the database is away.
const OUTAGE: Duration = Duration::from_secs(20);
/// Calls placed while it is away.
const DURING: usize = 5;
/// The agent's and the caller's tones.
const AGENT_HZ: f64 = 2000.0;
const CALLER_HZ: f64 = 1000.0;

/// Calls talking when the database goes away: 30 by default (the test runs in CI in a
/// debug build on two cores), `SWITCHBOARD_E2E_LIVE_CALLS=200` for the full run recorded in
/// docs/BENCHMARKS.md.
fn live_calls() -> usize {
    std::env::var("SWITCHBOARD_E2E_LIVE_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(30)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_go_on_and_nothing_is_lost_while_postgres_restarts() {
    let _serial = SERIAL.lock().await;
    let live = live_calls();
    let total = live + DURING;
    let dir = Scratch::new("db-restart");
    let mut pg = TempPostgres::start().await;
    let gw = Gateway::start(GatewayOptions {
        database_url: Some(pg.url()),
        max_calls: total * 2 + 10,
        ..GatewayOptions::default()
    })
    .await;

    // One SIPp answers for every agent's desk phone (each agent's address names its port).
    let phones = SippRun {
        pause_ms: 200,
        calls: u32::try_from(total).unwrap(),
        extra: ["-timeout", "300s"].map(String::from).to_vec(),
        ..SippRun::new("agent.xml", &dir.tone_dir("agent", AGENT_HZ))
    };
    let phone_addr = ([127, 0, 0, 1], phones.port).into();
    let mut agents = Vec::new();
    for i in 0..total {
        agents.push(gw.agent(&format!("agent{i}"), phone_addr).await);
    }
    let ids: Vec<&str> = agents.iter().map(|(id, _)| id.as_str()).collect();
    gw.queue("100", &ids, json!({"wrap_up_ms": 0, "record": true})).await;
    for (_, agent) in &agents {
        gw.available(agent).await;
    }
    let phones = phones.spawn();

    // `live` callers talk for long enough to span the outage.
    let caller_dir = dir.tone_dir("caller", CALLER_HZ);
    let talking = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 45_000,
        calls: u32::try_from(live).unwrap(),
        keys: vec![("caller", "89161234567".into())],
        extra: ["-r", "10", "-l", &live.to_string(), "-timeout", "300s"].map(String::from).to_vec(),
        ..SippRun::new("caller.xml", &caller_dir)
    }
    .spawn();
    until(Duration::from_secs(60), "every first call answered", || async {
        talking_now(&gw).await == live
    })
    .await;

    let capture = Capture::start_filter(&dir.0, "udp src portrange 20000-29999").await;
    pg.stop().await;
    let away_at = now_ms();
    // The database is away indeed.
    assert!(gw.store.list_queues().await.is_err(), "a query fails while PostgreSQL is stopped");

    // New calls are routed to the free agents and answered while it is away.
    let late_dir = dir.tone_dir("late", CALLER_HZ);
    let late = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 3000,
        calls: u32::try_from(DURING).unwrap(),
        keys: vec![("caller", "84951234567".into())],
        extra: ["-r", "5", "-l", &DURING.to_string()].map(String::from).to_vec(),
        ..SippRun::new("caller.xml", &late_dir)
    }
    .spawn();
    assert!(late.wait(Duration::from_secs(15)).await, "calls placed during the outage succeed");
    let late_done_at = now_ms();
    assert!(
        late_done_at - away_at < OUTAGE.as_millis() as i64,
        "the late calls ended in the outage"
    );

    let back_at = away_at + OUTAGE.as_millis() as i64;
    tokio::time::sleep(Duration::from_millis(u64::try_from(back_at - now_ms()).unwrap_or(0))).await;
    let packets = capture.stop().await;
    pg.start_again().await;
    // The writes kept during the outage go in once it is back: the late calls (whose every
    // write happened while it was away) are in the log, ended.
    until(Duration::from_secs(30), "the late calls in the call log", || async {
        let page = gw.get(&gw.admin, "/api/calls?per_page=500").await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .filter(|c| c["from_e164"] == "+74951234567" && !c["ended_at"].is_null())
            .count()
            == DURING
    })
    .await;
    let caught_up_ms = now_ms() - back_at;

    // Every call that was talking kept its audio both ways through the outage.
    let (to_callers, to_agents) = streams_by_tone(&packets, away_at + 1000, back_at - 1000);
    assert!(to_callers >= live, "{to_callers} streams carried the agents' tone, {live} expected");
    assert!(to_agents >= live, "{to_agents} streams carried the callers' tone, {live} expected");

    assert!(talking.wait(Duration::from_secs(120)).await, "every first call ends normally");
    let talk_done_at = now_ms();
    assert!(phones.wait(Duration::from_secs(30)).await, "every agent's phone call ends normally");

    // Nothing is missing once the database is back: every call, answered, ended by its
    // caller, recorded; the late ones answered while the database was away.
    let calls = within(Duration::from_secs(60), || async {
        let page = gw.get(&gw.admin, "/api/calls?per_page=500").await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let complete = items.iter().filter(|c| {
            c["end_reason"] == "caller_hangup"
                && !c["agent_id"].is_null()
                && c["recording_size"].as_i64().unwrap_or(0) > 0
        });
        (complete.count() == total).then_some(items)
    })
    .await
    .unwrap_or_else(|| panic!("{total} calls complete in the call log\n{}", pg.log()));
    assert_eq!(calls.len(), total, "no call is there twice or unaccounted for");
    eprintln!(
        "db_restart: {live} live calls, {to_callers} streams to callers and {to_agents} to agents \
         held their tone through the outage; {DURING} new calls answered during it, in the call \
         log {caught_up_ms} ms after the restart; the call log was complete {} ms after the last \
         call ended",
        now_ms() - talk_done_at
    );
    let answered_away = calls
        .iter()
        .filter(|c| c["from_e164"] == "+74951234567")
        .filter(|c| c["answered_at"].as_i64().is_some_and(|t| (away_at..back_at).contains(&t)))
        .count();
    assert_eq!(answered_away, DURING, "the late calls were answered while the database was away");
    for c in &calls {
        let (answered, ended) = (c["answered_at"].as_i64(), c["ended_at"].as_i64());
        assert!(answered.is_some() && answered <= ended, "answered before ended: {c}");
    }
    // No agent is left stuck in a call.
    for (id, agent) in &agents {
        let state = gw.get(agent, "/api/agent/state").await;
        assert_eq!(state["state"], "available", "agent {id}: {state}");
    }
    gw.stop().await;
}

/// How many calls are answered and not yet ended, by the call log.
async fn talking_now(gw: &Gateway) -> usize {
    let page = gw.get(&gw.admin, "/api/calls?per_page=500").await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    items.iter().filter(|c| !c["answered_at"].is_null() && c["ended_at"].is_null()).count()
}

/// The gateway's RTP streams (one per socket) between `from` and `to`: how many carried the
/// agents' tone (to the callers) and how many the callers' (to the agents).
fn streams_by_tone(packets: &[Datagram], from: i64, to: i64) -> (usize, usize) {
    let mut streams: HashMap<u16, Vec<i16>> = HashMap::new();
    for d in packets.iter().filter(|d| (from..to).contains(&d.at_ms)) {
        if let Ok(p) = switchboard_media::rtp::RtpPacket::parse(&d.payload)
            && p.payload_type == 0
        {
            let samples = streams.entry(d.src_port).or_default();
            samples.extend(
                p.payload(&d.payload).iter().map(|&b| switchboard_media::g711::ulaw_to_linear(b)),
            );
        }
    }
    let (mut to_callers, mut to_agents) = (0, 0);
    // Held through the window: (to - from) ms at 8 samples a ms, less a second for jitter.
    let enough = usize::try_from((to - from - 1000) * 8).unwrap_or(0);
    for samples in streams.values().filter(|s| s.len() >= enough) {
        let window = &samples[samples.len() - 4000..];
        let (agent, caller) = (goertzel_power(window, AGENT_HZ), goertzel_power(window, CALLER_HZ));
        if agent > 10.0 * caller {
            to_callers += 1;
        } else if caller > 10.0 * agent {
            to_agents += 1;
        }
    }
    (to_callers, to_agents)
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}
