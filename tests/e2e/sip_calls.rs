//! Calls from SIPp callers through the gateway to SIPp agent phones.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Capture, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, assert_tone, audio_to,
};

const CALLER_NUMBER: &str = "89161234567";

/// The newest call's id, waiting (bounded) for it to appear.
pub(crate) async fn newest_call(gw: &Gateway) -> String {
    crate::harness::eventually(Duration::from_secs(10), "a call logged", || async {
        let page = gw.get(&gw.admin, "/api/calls?per_page=1").await;
        page["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await
}

pub(crate) fn kinds(call: &Value) -> Vec<String> {
    call["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A caller calls the queue, a desk phone answers, each side's tone arrives on the other,
/// the caller hangs up; the call record follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_is_answered_and_audio_flows_both_ways() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("answer");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 300, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    // The agent also has the console open: the desk phone rings, the card opens on the PC.
    let mut console = crate::harness::Socket::open(&gw, "anna", "/api/agent/ws").await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 3000,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let capture = Capture::start(&dir.0, &[caller.media_port, phone.media_port]).await;
    let (caller_media, phone_media) = (caller.media_port, phone.media_port);
    let phone = phone.spawn();
    let caller = caller.spawn();
    let ringing = console.next("ringing").await;
    assert_eq!(
        (ringing["desk_phone"].as_bool(), ringing["from"].as_str()),
        (Some(true), Some("+79161234567")),
        "{ringing}"
    );
    let card = if ringing["card"].is_null() {
        console.next("card").await["card"].clone()
    } else {
        ringing["card"].clone()
    };
    assert!(card.is_object(), "the client card reaches a desk-phone agent's console: {card}");
    let connected = console.next("connected").await;
    assert_eq!(
        connected["call_id"], ringing["call_id"],
        "answered on the desk phone, the console follows"
    );
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller's scenario passes");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent phone's scenario passes");
    let packets = capture.stop().await;

    assert_tone(&audio_to(&packets, phone_media), 1000.0, "caller's voice at the agent's phone");
    assert_tone(&audio_to(&packets, caller_media), 2000.0, "agent's voice at the caller");

    let id = newest_call(&gw).await;
    let call = gw.wait_call_ended(&id).await;
    let c = &call["call"];
    assert_eq!(c["from_e164"], "+79161234567", "the caller's number is stored as E.164");
    assert_eq!(c["agent_id"], agent_id);
    assert_eq!(c["end_reason"], "caller_hangup");
    assert_eq!(c["origin"], "pbx");
    assert!(c["wait_ms"].as_i64().unwrap() >= 250, "the agent's phone rang 300 ms: {c}");
    assert!(c["talk_ms"].as_i64().unwrap() >= 2500, "{c}");
    let k = kinds(&call);
    for expected in ["offered", "offer", "ringing", "answered", "ended"] {
        assert!(k.contains(&expected.to_owned()), "{expected} in {k:?}");
    }
    // The agent is in wrap-up or available again, not stuck on the call.
    let state = gw.get(&agent, "/api/agent/state").await;
    assert!(matches!(state["state"].as_str(), Some("available" | "wrap_up")), "{state}");
    gw.stop().await;
}

/// The agent hangs up: the caller gets the BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_hangs_up() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("agentbye");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 100,
        ..SippRun::new("agent_hangs_up.xml", &dir.tone_dir("agent", 2000.0))
    };
    let (agent_id, agent) = gw.agent("boris", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_waits.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller gets and answers the BYE");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent phone's BYE is answered");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "agent_hangup");
    gw.stop().await;
}

/// The caller gives up while the agent's phone rings: 487 to the caller, CANCEL to the phone,
/// and the call is logged as abandoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_ringing_is_abandoned() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("cancel");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun::new("agent_no_answer.xml", &dir.tone_dir("agent", 2000.0));
    let (agent_id, agent) = gw.agent("vera", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 1500,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_cancel.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "CANCEL gets 200 and the INVITE 487");
    assert!(phone.wait(Duration::from_secs(10)).await, "the phone was CANCELled");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "abandoned");
    assert!(call["call"]["answered_at"].is_null());
    let k = kinds(&call);
    assert!(k.contains(&"offer_withdrawn".to_owned()), "{k:?}");
    gw.stop().await;
}

/// The first agent lets it ring past the ring timeout; the next agent gets it and answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_timeout_moves_to_the_next_agent() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("ringnext");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let slow = SippRun::new("agent_no_answer.xml", &dir.tone_dir("slow", 440.0));
    let quick =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("quick", 2000.0)) };
    let (slow_id, slow_agent) = gw.agent("slow", ([127, 0, 0, 1], slow.port).into()).await;
    let (quick_id, quick_agent) = gw.agent("quick", ([127, 0, 0, 1], quick.port).into()).await;
    let queue_id = gw.queue("100", &[&slow_id, &quick_id], json!({"ring_timeout_ms": 2000})).await;
    // Longest idle first: the slow agent goes available first, so it is rung first.
    gw.available(&slow_agent).await;
    // Idle-since times a few ms apart, so the order is not a tie.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = gw
        .admin
        .patch(format!("{}/api/queues/{queue_id}", gw.base))
        .json(&json!({"members": [slow_id, quick_id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    gw.available(&quick_agent).await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 1000,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let (slow, quick, caller) = (slow.spawn(), quick.spawn(), caller.spawn());
    assert!(caller.wait(Duration::from_secs(30)).await);
    assert!(
        slow.wait(Duration::from_secs(10)).await,
        "the slow phone was CANCELled after the ring timeout"
    );
    assert!(quick.wait(Duration::from_secs(10)).await);
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["agent_id"], quick_id);
    let events = call["events"].as_array().unwrap();
    let no_answer = events.iter().find(|e| e["kind"] == "no_answer").expect("a no_answer event");
    assert_eq!(no_answer["agent_id"], slow_id);
    let wait = call["call"]["wait_ms"].as_i64().unwrap();
    assert!(wait >= 2000, "the caller waited at least the ring timeout: {wait}");
    gw.stop().await;
}

/// Nobody answers within the queue's maximum wait: the caller is released with 480 and the
/// call counts as missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_wait_releases_the_caller() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("maxwait");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun::new("agent_no_answer.xml", &dir.tone_dir("agent", 2000.0));
    let (agent_id, agent) = gw.agent("gleb", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({"ring_timeout_ms": 10000, "max_wait_ms": 2000})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_max_wait.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let started = std::time::Instant::now();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "480 after the maximum wait");
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert!(phone.wait(Duration::from_secs(10)).await, "the ringing phone was CANCELled");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "max_wait");
    gw.stop().await;
}

/// Refusals: an address no trunk allows gets 403; an offer without PCMU/PCMA gets 488.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_source_and_no_common_codec() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("refuse");
    let gw = Gateway::start(GatewayOptions {
        trunk_allow: vec!["10.9.9.9".into()],
        ..GatewayOptions::default()
    })
    .await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_forbidden.xml", &dir.tone_dir("c1", 1000.0))
    };
    assert!(caller.spawn().wait(Duration::from_secs(20)).await, "403 from a non-allowed address");
    gw.stop().await;

    let gw = Gateway::start(GatewayOptions::default()).await;
    gw.queue("100", &[], json!({})).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_no_codec.xml", &dir.tone_dir("c2", 1000.0))
    };
    assert!(caller.spawn().wait(Duration::from_secs(20)).await, "488 for a G.729-only offer");
    gw.stop().await;
}

/// The caller holds (re-INVITE sendonly) and resumes, then presses 5: both re-INVITEs are
/// answered, the hold time is counted and the digit is in the call's events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_resume_and_dtmf() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("hold");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("dina", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 1000,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_hold.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "both re-INVITEs answered with 200");
    assert!(phone.wait(Duration::from_secs(10)).await);
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    let hold_ms = call["call"]["hold_ms"].as_i64().unwrap();
    assert!((1200..=3000).contains(&hold_ms), "held for about 1.5 s: {hold_ms}");
    let events = call["events"].as_array().unwrap();
    let k = kinds(&call);
    assert!(k.contains(&"hold".to_owned()) && k.contains(&"resume".to_owned()), "{k:?}");
    let dtmf = events.iter().find(|e| e["kind"] == "dtmf").expect("a dtmf event");
    assert_eq!(dtmf["detail"]["digit"], "5");
    assert_eq!(dtmf["detail"]["by"], "caller");
    gw.stop().await;
}

/// A caller who sends no audio at all: after the dead-peer time the gateway hangs up both
/// sides and logs why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_rtp_peer_ends_the_call() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("dead");
    let gw = Gateway::start(GatewayOptions { dead_peer_s: 2, ..GatewayOptions::default() }).await;
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("egor", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller_silent.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "the silent caller gets a BYE");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent gets a BYE");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "media_timeout");
    let talk = call["call"]["talk_ms"].as_i64().unwrap();
    assert!((1500..6000).contains(&talk), "ended about 2 s after the answer: {talk}");
    gw.stop().await;
}

/// The gateway registers to a SIPp registrar that challenges with 401, refreshes before the
/// short expiry, shows the state in the API, and takes a call that arrives on the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_with_digest_and_refresh() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("register");
    let registrar = SippRun {
        keys: vec![("password", "reg-secret".into()), ("expires", "2".into())],
        ..SippRun::new("registrar.xml", &dir.tone_dir("pbx", 440.0))
    };
    let registrar_uri = format!("sip:127.0.0.1:{}", registrar.port);
    let registrar = registrar.spawn();
    // No trunk allows 127.0.0.1: calls are admitted only as the registered account's.
    let gw = Gateway::start(GatewayOptions {
        trunk_allow: vec!["10.9.9.9".into()],
        registrations: vec![("provider".into(), registrar_uri, "reg-secret".into(), 2)],
        ..GatewayOptions::default()
    })
    .await;
    assert!(
        registrar.wait(Duration::from_secs(30)).await,
        "three REGISTERs accepted after digest challenges"
    );
    let status = gw.get(&gw.admin, "/api/telephony/status").await;
    let reg = &status["registrations"][0];
    assert_eq!(reg["name"], "provider");
    assert!(reg["successes"].as_u64().unwrap() >= 3, "{reg}");
    assert_eq!(reg["last_code"], 200, "{reg}");

    // A call from the registrar's address to the account's user lands in the account's queue.
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("fedor", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("200", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("gw".into()),
        pause_ms: 500,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    assert!(caller.spawn().wait(Duration::from_secs(30)).await, "the account's call is answered");
    assert!(phone.wait(Duration::from_secs(10)).await);
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["origin"], "provider");
    gw.stop().await;
}

/// `switchboard call simulate` (the binary) calls the queue; a SIPp desk phone answers; the
/// simulator reports hearing the phone's 2 kHz tone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_test_caller_places_a_real_call() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("simulate");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("zoya", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let phone = phone.spawn();
    let recorded = dir.0.join("heard.wav");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "call",
            "simulate",
            "--from",
            "8 (916) 123-45-67",
            "--to",
            "100",
            "--seconds",
            "2",
            "--gateway",
            &gw.sip.to_string(),
            "--record",
        ])
        .arg(&recorded)
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("strongest test tone 2000 Hz"), "{stdout}");
    assert!(std::fs::metadata(&recorded).unwrap().len() > 16_000, "about 2 s of 8 kHz audio saved");
    assert!(phone.wait(Duration::from_secs(10)).await);
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["from_e164"], "+79161234567");
    gw.stop().await;
}

/// A trunk that demands digest credentials: the first INVITE gets 401, the retry with the
/// right credentials is queued and answered; TCP is used for the signalling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_digest_challenge_over_tcp() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("trunkauth");
    let gw = Gateway::start(GatewayOptions {
        trunk_credential: Some(("pbx-user".into(), "trunk-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("kira", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 500,
        transport: "t1",
        keys: vec![("caller", CALLER_NUMBER.into())],
        extra: vec!["-au".into(), "pbx-user".into(), "-ap".into(), "trunk-secret".into()],
        ..SippRun::new("caller_auth.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "401, then the authenticated INVITE is answered"
    );
    assert!(phone.wait(Duration::from_secs(10)).await);
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "caller_hangup");
    gw.stop().await;
}
