//! Business hours and voicemail with real peers: a SIPp caller dials an entry point whose
//! schedule says closed, hears the after-hours prompt and the voicemail prompt (distinct
//! tones), then the beep, says something (a 1.5 kHz tone) and stops; the silence ends the
//! message. The message is the call's recording and a callback task (for the contact's owner,
//! else the queue's agents), who may hear it (audited); another operator may not.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_media::tone::dominant;

use crate::harness::{
    Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, audio_to_between,
    eventually, wav_channels,
};
use crate::menus::tone_prompt;
use crate::sip_calls::newest_call;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hours_the_caller_hears_the_prompt_and_leaves_a_message_that_becomes_a_task() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("voicemail");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let (olga_id, olga) = gw.agent("olga", ([127, 0, 0, 1], 5999).into()).await;
    let (_, ivan) = gw.agent("ivan", ([127, 0, 0, 1], 5998).into()).await;
    let queue = gw.queue("101", &[&olga_id], json!({"name": "Продажи"})).await;
    let contact = gw
        .post(
            &gw.admin,
            "/api/contacts",
            json!({"first_name": "Пётр", "phones": ["+79161234567"], "owner_id": olga_id}),
        )
        .await;
    let after_hours = tone_prompt(&gw, "after hours", 600.0, 1.0).await;
    let invitation = tone_prompt(&gw, "voicemail", 800.0, 1.0).await;
    // A schedule with no hours at all: closed whenever the test runs.
    let closed = gw
        .post(&gw.admin, "/api/schedules", json!({"name": "Никогда", "time_zone": "Europe/Moscow"}))
        .await;
    gw.post(
        &gw.admin,
        "/api/entry-points",
        json!({
            "name": "Main line",
            "numbers": ["200"],
            "flow": {
                "start": "when",
                "nodes": {
                    "when": {"type": "hours", "schedule_id": closed["id"], "open": "q",
                             "closed": "closed"},
                    "q": {"type": "queue", "queue_id": queue},
                    "closed": {"type": "play", "prompts": [after_hours], "next": "vm"},
                    "vm": {"type": "voicemail", "prompts": [invitation], "queue_id": queue,
                           "max_s": 30, "silence_s": 2}
                }
            }
        }),
    )
    .await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("200".into()),
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_voicemail.xml", &dir.tone_dir("caller", 1500.0))
    };
    let (caller_sip, caller_media) = (caller.port, caller.media_port);
    let capture = Capture::start(&dir.0, &[caller_sip, caller_media, gw.sip.port()]).await;
    let caller = caller.spawn();
    let caller_ok = caller.wait(Duration::from_secs(40)).await;
    let packets = capture.stop().await;
    assert!(caller_ok, "the caller's scenario passes (answered, then hung up on by the gateway)");

    let sip = |d: &&Datagram, start: &str| d.payload.starts_with(start.as_bytes());
    let answered = packets
        .iter()
        .find(|d| d.dst_port == caller_sip && sip(d, "SIP/2.0 200"))
        .expect("the caller is answered")
        .at_ms;
    let bye = packets
        .iter()
        .find(|d| d.dst_port == caller_sip && sip(d, "BYE "))
        .expect("the gateway hangs up")
        .at_ms;
    let spoke = packets.iter().filter(|d| d.src_port == caller_media && d.payload.len() > 100);
    let (first_word, last_word) =
        spoke.fold((i64::MAX, 0), |(a, b), d| (a.min(d.at_ms), b.max(d.at_ms)));
    let tones = [600.0, 800.0, 1000.0, 425.0];
    let heard =
        |from: i64, to: i64| dominant(&audio_to_between(&packets, caller_media, from, to), &tones);
    assert_eq!(heard(answered + 100, answered + 900), Some(600.0), "the after-hours prompt");
    assert_eq!(heard(answered + 1200, answered + 1900), Some(800.0), "then the voicemail prompt");
    assert_eq!(heard(answered + 2050, answered + 2350), Some(1000.0), "then the beep");
    let silence_ended = bye - last_word;
    assert!(
        (2_000..6_000).contains(&silence_ended),
        "two seconds of silence (and the goodbye) end the message: BYE {silence_ended} ms after the last word"
    );

    let id = newest_call(&gw).await;
    let call = gw.wait_call_ended(&id).await;
    assert_eq!(call["call"]["end_reason"], "voicemail");
    assert!(call["call"]["agent_id"].is_null());
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["flow", "hours", "message", "recording_started"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let hours = call["events"].as_array().unwrap().iter().find(|e| e["kind"] == "hours").unwrap();
    assert_eq!(hours["detail"]["open"], false);

    // The callback task for the queue, with the message.
    let task: Value =
        eventually(Duration::from_secs(10), "the voicemail's callback task", || async {
            let tasks = gw.get(&gw.admin, "/api/tasks?status=open").await;
            tasks["items"]
                .as_array()?
                .iter()
                .find(|t| t["voicemail_call_id"] == id.as_str())
                .cloned()
        })
        .await;
    // A contact's callback goes to its owner (here an agent of the queue).
    assert_eq!(task["assignee_id"], olga_id.as_str());
    assert_eq!(task["phone_e164"], "+79161234567");
    assert_eq!(task["callback"], true);
    let recorded: Value = eventually(Duration::from_secs(10), "the message's length", || async {
        let c = gw.get(&gw.admin, &format!("/api/calls/{id}")).await;
        (!c["call"]["recording_duration_ms"].is_null()).then_some(c)
    })
    .await;
    let length = recorded["call"]["recording_duration_ms"].as_i64().unwrap();
    let spoken = last_word - first_word;
    assert!(
        length >= spoken && length < spoken + 5_000,
        "the message ({length} ms) holds what was said ({spoken} ms) and the silence after it"
    );
    // What the caller said is in it (left channel), from the start.
    let file = gw.recording_file(&id).expect("the message's file");
    let (left, _) = wav_channels(&file);
    assert!(left.len() > 16_000, "{} samples", left.len());
    // Half-second windows with sound: all of them the caller's 1.5 kHz, three seconds of it.
    let voiced: Vec<Option<f64>> = left
        .chunks(4_000)
        .filter(|w| w.iter().any(|s| s.unsigned_abs() > 1_000))
        .map(|w| dominant(w, &[1500.0, 1000.0, 800.0, 600.0]))
        .collect();
    assert!(voiced.iter().all(|f| *f == Some(1500.0)), "{voiced:?}");
    assert!((6..=8).contains(&voiced.len()), "{} voiced half-seconds", voiced.len());

    // The agent it is for may hear it (audited); another operator may not.
    let url = format!("{}/api/recordings/{id}/audio", gw.base);
    assert_eq!(olga.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(ivan.get(&url).send().await.unwrap().status(), 403);
    let audit = gw.get(&gw.admin, &format!("/api/audit?entity=call&entity_id={id}")).await;
    let plays = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "recording.play" && a["user_id"] == olga_id.as_str())
        .count();
    assert_eq!(plays, 1, "{audit}");
    // The contact card's timeline offers the message to Olga, not to Ivan.
    let timeline = format!("/api/contacts/{}/timeline", contact["id"].as_str().unwrap());
    let with_message = |items: &Value| {
        items.as_array().map_or(0, |items| {
            items
                .iter()
                .filter(|i| i["id"] == id.as_str() && i["recording_url"].is_string())
                .count()
        })
    };
    assert_eq!(with_message(&gw.get(&olga, &timeline).await), 1);
    assert_eq!(with_message(&gw.get(&ivan, &timeline).await), 0);
    gw.stop().await;
}
