//! A slow database must not hold up calls: the switch routes, rings and bridges from what it
//! holds in memory, and the call log catches up in order once the database answers.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Gateway, GatewayOptions, SERIAL, Scratch, SippRun, until};

/// Every query waits this long while the calls are placed.
const STORE_DELAY: Duration = Duration::from_secs(2);
/// Calls placed one after another.
const CALLS: u32 = 3;

/// Every store query slowed to 2 s: three calls are still answered and bridged within a
/// second of their INVITE (the caller's INVITE→200 time, measured by SIPp), and all three
/// reach the call log, answered by the agent, once the database is fast again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_answered_promptly_while_every_query_takes_two_seconds() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("slow-store");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 100,
        calls: CALLS,
        ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0))
    };
    let (agent_id, agent) = gw.agent("sveta", ([127, 0, 0, 1], phone.port).into()).await;
    // No wrap-up: each call is offered as soon as it arrives.
    gw.queue("100", &[&agent_id], json!({"wrap_up_ms": 0})).await;
    gw.available(&agent).await;
    let caller_dir = dir.tone_dir("caller", 1000.0);
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 500,
        calls: CALLS,
        keys: vec![("caller", "89161234567".into())],
        // One call at a time, each one's INVITE→200 time written to caller_<pid>_rtt.csv.
        extra: ["-l", "1", "-trace_rtt", "-rtt_freq", "1"].map(String::from).to_vec(),
        ..SippRun::new("caller.xml", &caller_dir)
    };

    gw.store.slow_down(STORE_DELAY);
    let phone = phone.spawn();
    let caller = caller.spawn();
    // The database is slow indeed (this query runs beside the calls).
    let started = std::time::Instant::now();
    gw.store.list_queues().await.unwrap();
    assert!(started.elapsed() >= STORE_DELAY, "a query waits {:?}", started.elapsed());
    let caller_ok = caller.wait(Duration::from_secs(40)).await;
    let phone_ok = phone.wait(Duration::from_secs(10)).await;
    gw.store.slow_down(Duration::ZERO);
    assert!(caller_ok, "every caller's scenario passes while the database is slow");
    assert!(phone_ok, "the agent's phone takes every call");

    let setup_ms = setup_times_ms(&caller_dir);
    assert_eq!(setup_ms.len(), CALLS as usize, "one INVITE→200 time per call: {setup_ms:?}");
    for ms in &setup_ms {
        assert!(*ms < 1000.0, "INVITE→200 took {ms} ms with a 2 s database: {setup_ms:?}");
    }

    // The call log catches up: every call is there, answered by the agent, ended by the caller.
    until(Duration::from_secs(30), "every call in the call log, answered", || async {
        let page = gw.get(&gw.admin, "/api/calls?per_page=10").await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let answered = items
            .iter()
            .filter(|c| c["agent_id"] == agent_id.as_str() && c["end_reason"] == "caller_hangup")
            .count();
        answered == CALLS as usize
    })
    .await;
    gw.stop().await;
}

/// The response times SIPp's `-trace_rtt` wrote (`date_ms;response_time_ms;rtd_no` rows).
fn setup_times_ms(dir: &std::path::Path) -> Vec<f64> {
    let mut times = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().ends_with("_rtt.csv") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        times.extend(text.lines().filter_map(|l| l.split(';').nth(1)?.trim().parse::<f64>().ok()));
    }
    times
}
