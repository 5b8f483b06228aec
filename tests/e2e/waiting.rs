//! What a caller hears before an agent answers.

use std::time::Duration;

use serde_json::json;
use switchboard_media::rtp::RtpPacket;
use switchboard_media::tone::dominant;

use crate::harness::{
    Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, assert_tone, audio_to,
    audio_to_between,
};
use crate::sip_calls::newest_call;

/// A caller whose agent's phone rings for three seconds hears ringback (425 Hz) within the
/// first second, over early media (183 with SDP), then the agent on the same RTP stream: one
/// SSRC, sequence numbers without a hole, no long silence at the switch. Waiting time in the
/// statistics still runs until the agent answered, not until the 183.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_caller_hears_ringback_at_once_then_the_agent_on_the_same_stream() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("ringback");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 3000, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 2000,
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let (caller_sip, caller_media) = (caller.port, caller.media_port);
    let capture =
        Capture::start(&dir.0, &[caller_sip, caller_media, phone.media_port, gw.sip.port()]).await;
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller's scenario passes");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent phone's scenario passes");
    let packets = capture.stop().await;

    let sip = |d: &&Datagram, start: &str| d.payload.starts_with(start.as_bytes());
    let invite_at = packets
        .iter()
        .find(|d| d.dst_port == gw.sip.port() && sip(d, "INVITE "))
        .expect("the INVITE was captured")
        .at_ms;
    let to_caller: Vec<&Datagram> = packets.iter().filter(|d| d.dst_port == caller_sip).collect();
    let early = to_caller.iter().find(|d| sip(d, "SIP/2.0 183")).expect("183 Session Progress");
    assert!(String::from_utf8_lossy(&early.payload).contains("m=audio"), "the 183 carries SDP");
    let answers = to_caller
        .iter()
        .filter(|d| {
            sip(d, "SIP/2.0 200") && String::from_utf8_lossy(&d.payload).contains(" INVITE")
        })
        .count();
    assert!(answers >= 1, "the caller is answered");
    assert!(
        !to_caller.iter().any(|d| sip(d, "SIP/2.0 180")),
        "no 180 after the 183 (a phone could mute the ringback for its own)"
    );

    // Sound from the first second: ringback.
    let media: Vec<(&Datagram, RtpPacket)> = packets
        .iter()
        .filter(|d| d.dst_port == caller_media)
        .filter_map(|d| RtpPacket::parse(&d.payload).ok().map(|p| (d, p)))
        .collect();
    let first = media.first().expect("RTP reached the caller").0.at_ms;
    assert!(first - invite_at < 1000, "first sound {} ms after the INVITE", first - invite_at);
    let ringback = audio_to_between(&packets, caller_media, first, first + 900);
    assert_eq!(dominant(&ringback, &[425.0, 1000.0, 2000.0]), Some(425.0), "ringback first");
    // Then the agent, on the same stream: one SSRC, no hole in the numbering, no long pause.
    assert_tone(&audio_to(&packets, caller_media), 2000.0, "the agent's voice at the caller");
    let ssrc = media[0].1.ssrc;
    assert!(media.iter().all(|(_, p)| p.ssrc == ssrc), "one stream for the whole call");
    for pair in media.windows(2) {
        let ((d0, p0), (d1, p1)) = (&pair[0], &pair[1]);
        assert_eq!(p1.sequence, p0.sequence.wrapping_add(1), "no packet missing or repeated");
        assert!(
            d1.at_ms - d0.at_ms < 200,
            "a {} ms pause in the caller's audio",
            d1.at_ms - d0.at_ms
        );
    }

    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    let c = &call["call"];
    assert_eq!(c["agent_id"], agent_id);
    assert!(c["wait_ms"].as_i64().unwrap() >= 2500, "waiting lasts until the agent answers: {c}");
    gw.stop().await;
}
