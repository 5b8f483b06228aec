//! Queue callback ("virtual hold") with real peers: a SIPp caller waits in a queue nobody
//! serves yet, is offered a callback after two seconds, presses 1 and 1 (RFC 4733) to take it
//! on the number they call from, hears the confirmation and is let go. When an agent becomes
//! available the gateway rings the agent's desk phone (SIPp, 2 kHz) first, then calls the
//! customer through the PBX (SIPp, 1 kHz, after a 401), bridges them with audio both ways,
//! and the outbound call is on the same callback task, which is done.
//!
//! After hours the caller is offered a callback "when we open": 1 and 1 leave a callback task
//! for the queue due at its next opening, and the call ends.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Capture, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, assert_tone, audio_to, eventually,
    wait_udp_bound,
};
use crate::sip_calls::newest_call;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn press_1_in_the_queue_ends_in_a_call_from_the_gateway_to_the_agent_then_the_customer() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("callback");
    let pbx = SippRun {
        pause_ms: 2500,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &dir.tone_dir("customer", 1000.0))
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let phone =
        SippRun { pause_ms: 200, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("irina", ([127, 0, 0, 1], phone.port).into()).await;
    let queue =
        gw.queue("101", &[&agent_id], json!({"name": "Продажи", "callback_after_s": 2})).await;
    // The entry point answers the call before the queue, so keys always reach the gateway.
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({"name": "Main line", "numbers": ["200"],
               "flow": {"start": "q", "nodes": {"q": {"type": "queue", "queue_id": queue}}}}),
    )
    .await;

    // Nobody serves the queue: the caller takes the offer.
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_callback.xml", &dir.tone_dir("caller", 1500.0))
    };
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(40)).await, "answered, 1 and 1, then hung up on");
    let original = newest_call(&gw).await;
    let call = gw.wait_call_ended(&original).await;
    assert_eq!(call["call"]["end_reason"], "callback_requested", "{call}");
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["queued", "callback_offered", "callback_requested"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let task: Value = eventually(Duration::from_secs(10), "the callback task", || async {
        let tasks = gw.get(&gw.admin, "/api/tasks?status=open").await;
        tasks["items"].as_array()?.iter().find(|t| t["call_id"] == original.as_str()).cloned()
    })
    .await;
    assert_eq!(task["phone_e164"], "+79161234567");

    // The agent comes: their phone first, then the customer.
    let capture = Capture::start(&dir.0, &[pbx.media_port, phone.media_port, pbx.port]).await;
    let (pbx_media, phone_media, pbx_sip) = (pbx.media_port, phone.media_port, pbx.port);
    let ports = (pbx.port, phone.port);
    let (pbx, phone) = (pbx.spawn(), phone.spawn());
    wait_udp_bound(ports.0).await;
    wait_udp_bound(ports.1).await;
    let (status, state) = gw.put(&agent, "/api/agent/state", json!({"state": "available"})).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["state"], "on_call", "the callback is theirs at once: {state}");
    assert!(pbx.wait(Duration::from_secs(30)).await, "the customer was called and answered");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's phone rang, talked, got BYE");
    let packets = capture.stop().await;
    let invite = packets
        .iter()
        .find(|d| d.dst_port == pbx_sip && d.payload.starts_with(b"INVITE "))
        .expect("an INVITE to the PBX");
    let line = String::from_utf8_lossy(&invite.payload).lines().next().unwrap_or("").to_owned();
    assert!(line.contains("79161234567"), "the customer's number: {line}");
    assert_tone(&audio_to(&packets, phone_media), 1000.0, "the customer at the agent's phone");
    assert_tone(&audio_to(&packets, pbx_media), 2000.0, "the agent at the customer");

    // One task: the outbound call is on it, and it is done.
    let leg = format!("{original}-1");
    let out = gw.wait_call_ended(&leg).await;
    let c = &out["call"];
    assert_eq!(
        (c["direction"].as_str(), c["to_e164"].as_str(), c["agent_id"].as_str()),
        (Some("outbound"), Some("+79161234567"), Some(agent_id.as_str()))
    );
    assert!(!c["answered_at"].is_null());
    let done: Value = eventually(Duration::from_secs(10), "the task done", || async {
        let t = gw.get(&gw.admin, &format!("/api/tasks/{}", task["id"].as_str()?)).await;
        (t["status"] == "done").then_some(t)
    })
    .await;
    assert_eq!(done["result"], "called back on attempt 1: connected");
    assert_eq!(c["task_id"], task["id"]);
    gw.stop().await;
}

/// The civil date (`YYYY-MM-DD`) `days` days after 1970-01-01.
fn civil(days: i64) -> String {
    let (year, month, day) = switchboard_core::recording::civil_date(days * 86_400_000);
    format!("{year:04}-{month:02}-{day:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hours_press_1_leaves_a_callback_due_when_the_queue_opens() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("callback-later");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let (agent_id, _) = gw.agent("irina", ([127, 0, 0, 1], 5999).into()).await;
    // Open only on one day two days from now (Moscow time), from 09:00: closed now.
    let day =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64
            + 3 * 3_600_000)
            / 86_400_000
            + 2;
    let opens_at = day * 86_400_000 + 6 * 3_600_000;
    let schedule = gw
        .post(
            &gw.admin,
            "/api/schedules",
            json!({"name": "Редко", "time_zone": "Europe/Moscow",
                   "exceptions": {civil(day): ["09:00-18:00"]}}),
        )
        .await;
    let queue = gw
        .queue(
            "101",
            &[&agent_id],
            json!({"name": "Продажи", "schedule_id": schedule["id"], "after_hours": "callback"}),
        )
        .await;
    let closed = crate::menus::tone_prompt(&gw, "closed", 600.0, 1.0).await;
    let offer = crate::menus::tone_prompt(&gw, "offer", 800.0, 1.0).await;
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({"name": "Main line", "numbers": ["200"],
               "flow": {"start": "when", "nodes": {
                   "when": {"type": "hours", "schedule_id": schedule["id"], "open": "q",
                            "closed": "sorry"},
                   "q": {"type": "queue", "queue_id": queue},
                   "sorry": {"type": "play", "prompts": [closed], "next": "offer"},
                   "offer": {"type": "callback", "prompts": [offer], "queue_id": queue}}}}),
    )
    .await;

    // 1 four seconds after the answer (the offer is over), 1 again to confirm the number.
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_callback.xml", &dir.tone_dir("caller", 1500.0))
    };
    let (caller_sip, caller_media) = (caller.port, caller.media_port);
    let capture = Capture::start(&dir.0, &[caller_sip, caller_media, gw.sip.port()]).await;
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(40)).await, "answered, 1 and 1, then hung up on");
    let packets = capture.stop().await;
    let answered = packets
        .iter()
        .find(|d| d.dst_port == caller_sip && d.payload.starts_with(b"SIP/2.0 200"))
        .expect("the caller is answered")
        .at_ms;
    let heard = |from: i64, to: i64| {
        switchboard_media::tone::dominant(
            &crate::harness::audio_to_between(&packets, caller_media, from, to),
            &[600.0, 800.0, 1000.0],
        )
    };
    assert_eq!(heard(answered + 100, answered + 900), Some(600.0), "the after-hours prompt");
    assert_eq!(heard(answered + 1200, answered + 1900), Some(800.0), "then the offer");

    let id = newest_call(&gw).await;
    let call = gw.wait_call_ended(&id).await;
    assert_eq!(call["call"]["end_reason"], "callback_requested", "{call}");
    assert!(call["call"]["queue_id"].is_null(), "it waited in no queue");
    let task: Value = eventually(Duration::from_secs(10), "the callback task", || async {
        let tasks = gw.get(&gw.admin, "/api/tasks?status=open").await;
        tasks["items"].as_array()?.iter().find(|t| t["call_id"] == id.as_str()).cloned()
    })
    .await;
    assert_eq!(task["phone_e164"], "+79161234567");
    assert_eq!(task["queue_id"], queue.as_str(), "for the queue's agents");
    assert_eq!(task["due_at"].as_i64(), Some(opens_at), "due when the queue opens: {task}");
    gw.stop().await;
}
