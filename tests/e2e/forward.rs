//! A call flow's `forward` step with real peers: a SIPp caller dials an entry point that
//! answers on early media and sends the call to an outside number. The gateway rings it
//! through the PBX (SIPp, after a 401), the caller hears ringback (425 Hz) meanwhile, and is
//! answered once, when the number answers; then the caller (1.5 kHz) and the number (1 kHz)
//! hear each other. No queue or agent has the call: it ends as `forwarded`.

use std::time::Duration;

use serde_json::json;
use switchboard_media::tone::dominant;

use crate::harness::{
    Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, assert_tone, audio_to,
    audio_to_between, wait_udp_bound,
};
use crate::sip_calls::newest_call;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_puts_the_caller_through_to_an_outside_number_with_audio_both_ways() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("forward");
    let pbx = SippRun {
        pause_ms: 3000,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &dir.tone_dir("partner", 1000.0))
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let (agent_id, _) = gw.agent("irina", ([127, 0, 0, 1], 5999).into()).await;
    let queue = gw.queue("101", &[&agent_id], json!({"name": "Продажи"})).await;
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({"name": "Partner line", "numbers": ["200"], "answer": "early",
                   "flow": {"start": "out", "nodes": {
                       "out": {"type": "forward", "number": "+7 916 765-43-21", "ring_s": 20,
                               "on_fail": "q"},
                       "q": {"type": "queue", "queue_id": queue}}}}),
    )
    .await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_waits.xml", &dir.tone_dir("caller", 1500.0))
    };
    let (caller_sip, caller_media, pbx_sip, pbx_media) =
        (caller.port, caller.media_port, pbx.port, pbx.media_port);
    let capture =
        Capture::start(&dir.0, &[caller_sip, caller_media, pbx_sip, pbx_media, gw.sip.port()])
            .await;
    let pbx = pbx.spawn();
    wait_udp_bound(pbx_sip).await;
    let caller = caller.spawn();
    assert!(pbx.wait(Duration::from_secs(30)).await, "the number was rung, answered, hung up");
    assert!(caller.wait(Duration::from_secs(10)).await, "the caller is hung up on after it");
    let packets = capture.stop().await;

    let sip = |d: &&Datagram, start: &str| d.payload.starts_with(start.as_bytes());
    let invite = packets
        .iter()
        .find(|d| d.dst_port == pbx_sip && sip(d, "INVITE "))
        .expect("an INVITE to the PBX");
    let line = String::from_utf8_lossy(&invite.payload).lines().next().unwrap_or("").to_owned();
    assert!(line.contains("79167654321"), "the outside number: {line}");
    let first_invite = invite.at_ms;
    let number_answered = packets
        .iter()
        .find(|d| d.src_port == pbx_sip && sip(d, "SIP/2.0 200"))
        .expect("the number answers")
        .at_ms;
    let answers: Vec<i64> = packets
        .iter()
        .filter(|d| d.dst_port == caller_sip && sip(d, "SIP/2.0 200"))
        .map(|d| d.at_ms)
        .collect();
    assert!(
        answers.first().is_some_and(|at| *at >= number_answered),
        "the caller is answered when the number answers, not before: {answers:?} vs {number_answered}"
    );
    // Ringback while the number rings (after the 401 round and the PBX's own ring).
    let ringing = audio_to_between(&packets, caller_media, first_invite, number_answered);
    assert_eq!(dominant(&ringing, &[425.0, 1000.0, 1500.0]), Some(425.0), "ringback");
    assert_tone(&audio_to(&packets, caller_media), 1000.0, "the number at the caller");
    assert_tone(&audio_to(&packets, pbx_media), 1500.0, "the caller at the number");

    let id = newest_call(&gw).await;
    let call = gw.wait_call_ended(&id).await;
    assert_eq!(call["call"]["end_reason"], "forwarded", "{call}");
    assert!(call["call"]["queue_id"].is_null(), "no queue had it");
    assert!(call["call"]["agent_id"].is_null());
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["flow", "forwarding", "transfer_answered", "ended"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Not a queue's call in the statistics.
    let stats = gw.get(&gw.admin, "/api/stats").await;
    assert_eq!(stats["total"]["metrics"]["offered"].as_i64(), Some(0), "{stats}");
    gw.stop().await;
}
