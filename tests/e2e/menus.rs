//! Call flows with real peers: a SIPp caller dials an entry point, hears the recording
//! notice and a menu, presses keys (RFC 4733), and reaches the queue its key chose. Each
//! prompt is a distinct tone, so what the caller heard, and when, is checked by frequency.

use std::time::Duration;

use serde_json::json;
use switchboard_media::tone::dominant;

use crate::harness::{
    Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, audio_to_between,
};
use crate::sip_calls::newest_call;

/// A WAV of `hz` for `seconds`, uploaded as a prompt; its id.
pub(crate) async fn tone_prompt(gw: &Gateway, name: &str, hz: f64, seconds: f64) -> String {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    for i in 0..(16_000.0 * seconds) as u32 {
        let t = f64::from(i) / 16_000.0;
        writer.write_sample(((std::f64::consts::TAU * hz * t).sin() * 10_000.0) as i16).unwrap();
    }
    writer.finalize().unwrap();
    let res = gw
        .admin
        .post(format!("{}/api/prompts", gw.base))
        .query(&[("name", name), ("language", "ru"), ("file_name", "tone.wav")])
        .body(out.into_inner())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "upload {name}");
    res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// The recording notice (600 Hz, 1 s) plays first, then the menu (800 Hz, 1.5 s); the caller
/// presses 7, which leads nowhere: the invalid-choice prompt (1200 Hz) and the menu again;
/// then 2, which sends the call to queue B, whose agent's phone (2 kHz) rings only now. The
/// queue wait is counted from there, not from the call's arrival.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_routes_2_to_queue_b_after_the_notice_and_a_wrong_key_gets_the_retry_prompt() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("menu");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 500,
        ..SippRun::new("agent_hangs_up.xml", &dir.tone_dir("agent", 2000.0))
    };
    let (agent_id, agent) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    let queue_a = gw.queue("101", &[], json!({"name": "A"})).await;
    let queue_b = gw.queue("102", &[&agent_id], json!({"name": "B"})).await;
    gw.available(&agent).await;
    let notice = tone_prompt(&gw, "notice", 600.0, 1.0).await;
    let menu = tone_prompt(&gw, "menu", 800.0, 1.5).await;
    let invalid = tone_prompt(&gw, "invalid", 1200.0, 0.8).await;
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({
            "name": "Main line",
            "numbers": ["200"],
            "flow": {
                "start": "notice",
                "nodes": {
                    "notice": {"type": "play", "prompts": [notice], "next": "menu"},
                    "menu": {"type": "menu", "prompts": [menu], "invalid_prompts": [invalid],
                             "choices": {"1": "a", "2": "b"}, "timeout_s": 5, "on_fail": "a"},
                    "a": {"type": "queue", "queue_id": queue_a},
                    "b": {"type": "queue", "queue_id": queue_b}
                }
            }
        }),
    )
    .await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_menu.xml", &dir.tone_dir("caller", 1000.0))
    };
    let (caller_sip, caller_media, phone_sip) = (caller.port, caller.media_port, phone.port);
    let capture =
        Capture::start(&dir.0, &[caller_sip, caller_media, phone_sip, gw.sip.port()]).await;
    let phone = phone.spawn();
    let caller = caller.spawn();
    let caller_ok = caller.wait(Duration::from_secs(40)).await;
    let phone_ok = phone.wait(Duration::from_secs(10)).await;
    let packets = capture.stop().await;
    if !caller_ok || !phone_ok {
        // What went wrong, for the log: the SIP exchanged and the call record.
        for d in packets.iter().filter(|d| d.payload.starts_with(b"SIP/2.0 ")) {
            let text = String::from_utf8_lossy(&d.payload);
            eprintln!(
                "{} {} -> {}: {}",
                d.at_ms,
                d.src_port,
                d.dst_port,
                text.lines().next().unwrap_or("")
            );
        }
        let id = newest_call(&gw).await;
        eprintln!("call: {}", gw.get(&gw.admin, &format!("/api/calls/{id}")).await);
    }
    assert!(caller_ok, "the caller's scenario passes");
    assert!(phone_ok, "the agent phone's scenario passes");

    let sip = |d: &&Datagram, start: &str| d.payload.starts_with(start.as_bytes());
    let answered = packets
        .iter()
        .find(|d| d.dst_port == caller_sip && sip(d, "SIP/2.0 200"))
        .expect("the caller is answered at once")
        .at_ms;
    let rung = packets
        .iter()
        .find(|d| d.dst_port == phone_sip && sip(d, "INVITE "))
        .expect("the agent's phone was rung")
        .at_ms;
    // RFC 4733 events go from the caller to the gateway: the first of each key.
    let key_at = |event: u8| {
        packets
            .iter()
            .filter(|d| d.src_port == caller_media && d.payload.len() >= 16)
            .find(|d| d.payload[1] & 0x7F == 96 && d.payload[12] == event)
            .unwrap_or_else(|| panic!("the caller's key {event} was captured"))
            .at_ms
    };
    let (seven, two) = (key_at(7), key_at(2));
    assert!(rung > two, "nobody is rung before the caller chose: rung {rung}, key 2 at {two}");
    let tones = [600.0, 800.0, 1200.0, 2000.0, 425.0];
    let heard =
        |from: i64, to: i64| dominant(&audio_to_between(&packets, caller_media, from, to), &tones);
    assert_eq!(heard(answered + 100, answered + 900), Some(600.0), "the recording notice first");
    assert_eq!(heard(answered + 1200, answered + 2400), Some(800.0), "then the menu");
    assert_eq!(
        heard(seven + 150, seven + 650),
        Some(1200.0),
        "a wrong key: the invalid-choice prompt"
    );
    assert_eq!(heard(seven + 1000, seven + 2200), Some(800.0), "and the menu again");
    let agent_heard = heard(two + 2000, two + 12_000);
    assert_eq!(agent_heard, Some(2000.0), "then queue B's agent");

    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    let c = &call["call"];
    assert_eq!(c["queue_id"], queue_b.as_str());
    assert_eq!(c["agent_id"], agent_id.as_str());
    let wait = c["wait_ms"].as_i64().unwrap();
    let before_answer = rung - answered;
    assert!(
        wait < before_answer - 5_000,
        "the queue wait ({wait} ms) leaves out the menu (the caller was {before_answer} ms in before the phone rang)"
    );
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["flow", "menu_choice", "queued", "answered"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let choices: Vec<(&str, bool)> = call["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "menu_choice")
        .map(|e| (e["detail"]["digit"].as_str().unwrap(), e["detail"]["valid"].as_bool().unwrap()))
        .collect();
    assert_eq!(choices, [("7", false), ("2", true)]);
    gw.stop().await;
}

/// `ms` of a key's two tones (row and column Hz) as μ-law, at about -12 dBFS each.
fn key_tones(row: f64, column: f64, ms: usize) -> Vec<u8> {
    (0..ms * 8)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let v = ((std::f64::consts::TAU * row * t).sin()
                + (std::f64::consts::TAU * column * t).sin())
                * 7000.0;
            switchboard_media::g711::linear_to_ulaw(v as i16)
        })
        .collect()
}

/// A caller whose phone offers no telephone-event (PCMU only) presses 2 as tones in its audio
/// during the menu prompt: the gateway hears the key in the audio (in-band DTMF) and queue B's
/// agent (2 kHz) is rung; the key is logged like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_pressed_as_tones_in_the_audio_routes_the_menu() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("menu-inband");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 500,
        ..SippRun::new("agent_hangs_up.xml", &dir.tone_dir("agent", 2000.0))
    };
    let (agent_id, agent) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    let queue_a = gw.queue("101", &[], json!({"name": "A"})).await;
    let queue_b = gw.queue("102", &[&agent_id], json!({"name": "B"})).await;
    gw.available(&agent).await;
    let menu = tone_prompt(&gw, "menu", 800.0, 3.0).await;
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({
            "name": "Main line",
            "numbers": ["200"],
            "flow": {
                "start": "menu",
                "nodes": {
                    "menu": {"type": "menu", "prompts": [menu], "choices": {"1": "a", "2": "b"},
                             "timeout_s": 10, "on_fail": "a"},
                    "a": {"type": "queue", "queue_id": queue_a},
                    "b": {"type": "queue", "queue_id": queue_b}
                }
            }
        }),
    )
    .await;
    // The caller's audio: 1.5 s of quiet, '2' (697 + 1336 Hz) for 120 ms, then quiet.
    let caller_dir = dir.tone_dir("caller", 1000.0);
    let quiet = |ms: usize| vec![0xFFu8; ms * 8];
    let keys = [quiet(1500), key_tones(697.0, 1336.0, 120), quiet(15_000)].concat();
    std::fs::write(caller_dir.join("keys.ul"), keys).unwrap();
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_inband.xml", &caller_dir)
    };
    let (caller_media, phone_sip) = (caller.media_port, phone.port);
    let capture = Capture::start(&dir.0, &[caller.port, caller_media, phone_sip]).await;
    let phone = phone.spawn();
    let caller = caller.spawn();
    let caller_ok = caller.wait(Duration::from_secs(40)).await;
    let phone_ok = phone.wait(Duration::from_secs(10)).await;
    let packets = capture.stop().await;
    if !(caller_ok && phone_ok) {
        let id = newest_call(&gw).await;
        eprintln!("call: {}", gw.get(&gw.admin, &format!("/api/calls/{id}")).await);
        let from_caller = packets.iter().filter(|d| d.src_port == caller_media).count();
        eprintln!("RTP packets from the caller: {from_caller}");
    }
    assert!(caller_ok && phone_ok, "both scenarios pass (caller {caller_ok}, phone {phone_ok})");
    let rung = packets
        .iter()
        .find(|d| d.dst_port == phone_sip && d.payload.starts_with(b"INVITE "))
        .expect("queue B's agent was rung")
        .at_ms;
    let agent_heard = dominant(
        &audio_to_between(&packets, caller_media, rung + 2000, rung + 6000),
        &[800.0, 2000.0, 425.0],
    );
    assert_eq!(agent_heard, Some(2000.0), "then the caller talks to queue B's agent");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["queue_id"], queue_b.as_str());
    let keys: Vec<(&str, &str)> = call["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "dtmf")
        .map(|e| (e["detail"]["by"].as_str().unwrap(), e["detail"]["digit"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [("caller", "2")], "one key, heard once");
    gw.stop().await;
}
