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

/// Anna, the one agent of queue 100, available on the desk phone `phone` plays; her id.
async fn anna_takes_calls_on(gw: &Gateway, phone: &SippRun) -> String {
    let (agent_id, agent) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    agent_id
}

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
    let agent_id = anna_takes_calls_on(&gw, &phone).await;
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

/// The agent's desk phone puts the caller on hold (re-INVITE `a=sendonly`): the caller hears
/// the built-in music instead of the phone, then the agent again once the phone resumes, all
/// on one stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_on_hold_hears_music_then_the_agent_again() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("holdmusic");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 100,
        ..SippRun::new("agent_holds.xml", &dir.tone_dir("agent", 2000.0))
    };
    let agent_id = anna_takes_calls_on(&gw, &phone).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_waits.xml", &dir.tone_dir("caller", 1000.0))
    };
    let caller_media = caller.media_port;
    let capture = Capture::start(&dir.0, &[caller_media, gw.sip.port()]).await;
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(phone.wait(Duration::from_secs(30)).await, "the phone holds, resumes and hangs up");
    assert!(caller.wait(Duration::from_secs(10)).await, "the caller gets the BYE");
    let packets = capture.stop().await;

    let reinvite = |direction: &str| {
        packets
            .iter()
            .find(|d| {
                let text = String::from_utf8_lossy(&d.payload);
                d.dst_port == gw.sip.port()
                    && text.starts_with("INVITE ")
                    && text.contains(&format!("a={direction}"))
            })
            .unwrap_or_else(|| panic!("the phone's re-INVITE a={direction} was captured"))
            .at_ms
    };
    let (held, resumed) = (reinvite("sendonly"), reinvite("sendrecv"));
    let notes = [220.0, 261.63, 329.63, 392.0, 440.0, 523.25];
    let strongest = |samples: &[i16]| {
        let mut candidates = notes.to_vec();
        candidates.push(2000.0);
        dominant(samples, &candidates)
    };
    let before = audio_to_between(&packets, caller_media, held - 1000, held);
    assert_eq!(strongest(&before), Some(2000.0), "the agent before the hold");
    let on_hold = audio_to_between(&packets, caller_media, held + 300, resumed);
    assert!(on_hold.len() >= 16_000, "two seconds of sound on hold: {}", on_hold.len());
    let note = strongest(&on_hold);
    assert!(note.is_some_and(|hz| hz < 1000.0), "music on hold, not the phone: {note:?}");
    let after = audio_to_between(&packets, caller_media, resumed + 300, resumed + 1400);
    assert_eq!(strongest(&after), Some(2000.0), "the agent again after the hold");
    let media: Vec<RtpPacket> = packets
        .iter()
        .filter(|d| d.dst_port == caller_media)
        .filter_map(|d| RtpPacket::parse(&d.payload).ok())
        .collect();
    assert!(media.windows(2).all(|w| w[1].ssrc == w[0].ssrc), "one stream through the hold");

    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "agent_hangup");
    assert_eq!(call["call"]["agent_id"], agent_id);
    assert!(call["call"]["hold_ms"].as_i64().unwrap() >= 2500, "{}", call["call"]);
    gw.stop().await;
}

/// A queue with its own music (an uploaded 700 Hz clip) and announcements every 8 s: the
/// caller hears the music from the first second, then their position spoken over it (the
/// music stops for the words), then the music again, until the maximum wait releases them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_plays_its_own_music_and_announces_the_position() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("announce");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let music = crate::menus::tone_prompt(&gw, "music", 700.0, 2.0).await;
    gw.queue(
        "100",
        &[],
        json!({"max_wait_ms": 14_000, "waiting_sound": music, "announce_every_s": 10, "language": "ru"}),
    )
    .await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_max_wait.xml", &dir.tone_dir("caller", 1000.0))
    };
    let caller_media = caller.media_port;
    let capture = Capture::start(&dir.0, &[caller_media, gw.sip.port()]).await;
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "released with 480 after 14 s");
    let packets = capture.stop().await;
    let first =
        packets.iter().find(|d| d.dst_port == caller_media).expect("RTP reached the caller").at_ms;
    // The music's strength at 700 Hz in a window, against its first second: the clip is a
    // steady tone, the spoken words are not.
    let power = |from: i64, to: i64| {
        let samples = audio_to_between(&packets, caller_media, first + from, first + to);
        // A steady tone's Goertzel power grows with the square of the window's length.
        let n = samples.len().max(1) as f64;
        switchboard_media::tone::goertzel_power(&samples, 700.0) / (n * n)
    };
    // Half-second windows: a loop's seam may shift the phase, which a long window would
    // count against the tone.
    let full = power(0, 500);
    let music_in = |from: i64, to: i64| {
        (from..to - 499).step_by(500).all(|at| power(at, at + 500) > full / 2.0)
    };
    let quiet_music = |from: i64, to: i64| {
        (from..to - 499).step_by(500).all(|at| power(at, at + 500) < full / 100.0)
    };
    assert!(
        dominant(
            &audio_to_between(&packets, caller_media, first, first + 900),
            &[700.0, 425.0, 1000.0]
        ) == Some(700.0)
    );
    assert!(music_in(0, 900), "the queue's music from the first second");
    assert!(music_in(5_000, 9_500), "music until the announcement");
    assert!(quiet_music(10_900, 11_900), "the position is spoken instead of the music");
    assert!(music_in(13_200, 13_700), "then the music again");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["end_reason"], "max_wait");
    gw.stop().await;
}
