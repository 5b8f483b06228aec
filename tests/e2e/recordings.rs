//! Recordings and callbacks with real SIP peers: a bridged call's stereo WAV, playback with
//! HTTP Range and its audit entry, and a missed call's callback task escalating.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_media::tone::dominant;

use crate::harness::{
    Gateway, GatewayOptions, SERIAL, Scratch, SippRun, eventually, wav_channels as channels,
};
use crate::sip_calls::{kinds, newest_call};

const CALLER_NUMBER: &str = "89161234567";

/// Waits (bounded) until the call record has its recording's length.
pub(crate) async fn wait_recording(gw: &Gateway, call_id: &str) -> Value {
    let what = format!("the recording of {call_id} finished");
    eventually(Duration::from_secs(10), &what, || async {
        let call = gw.get(&gw.admin, &format!("/api/calls/{call_id}")).await;
        (!call["call"]["recording_duration_ms"].is_null()).then_some(call)
    })
    .await
}

/// A caller (1 kHz) talks to a desk phone (2 kHz) for three seconds: the recording has the
/// caller on the left and the agent on the right, lasts the call, and plays back over HTTP
/// with Range requests, audited once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_call_is_recorded_in_stereo_and_served_with_range() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("record");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 300, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("rita", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({"wrap_up_ms": 1000})).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 3000,
        keys: vec![("caller", CALLER_NUMBER.into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller's scenario passes");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent phone's scenario passes");
    let id = newest_call(&gw).await;
    gw.wait_call_ended(&id).await;
    let call = wait_recording(&gw, &id).await;
    let c = &call["call"];
    assert_eq!(c["recorded"], true);
    assert!(kinds(&call).contains(&"recording_started".to_owned()));
    // The call log has every duration: wait, talk, hold and (after the 1 s wrap-up) wrap-up.
    assert!(c["wait_ms"].is_i64() && c["hold_ms"] == 0, "{c}");
    let wrapup = eventually(Duration::from_secs(5), "a wrap-up time", || async {
        gw.get(&gw.admin, &format!("/api/calls/{id}")).await["call"]["wrapup_ms"].as_i64()
    })
    .await;
    assert!((900..2000).contains(&wrapup), "wrap-up {wrapup} ms");
    // The statistics saw the call as it ended (and its wrap-up), and the agent's states.
    let offered = c["offered_at"].as_i64().unwrap();
    let stats = gw
        .get(
            &gw.admin,
            &format!(
                "/api/stats?from={}&to={}&group=agent",
                offered - 3_600_000,
                offered + 3_600_000
            ),
        )
        .await;
    let row = stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == agent_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{stats}"));
    assert_eq!(
        (
            row["metrics"]["offered"].as_i64(),
            row["metrics"]["answered"].as_i64(),
            row["metrics"]["handled"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{row}"
    );
    assert_eq!(row["counters"]["wrapup_ms"].as_i64(), Some(wrapup));
    let occupancy = row["occupancy"].as_f64().unwrap_or_else(|| panic!("no occupancy: {row}"));
    assert!(occupancy > 0.3 && occupancy <= 1.0, "{row}");
    let duration = c["recording_duration_ms"].as_i64().unwrap();
    let talk = c["talk_ms"].as_i64().unwrap();
    assert!((duration - talk).abs() < 300, "recording {duration} ms vs talk {talk} ms");

    // The file is where the layout says, and each side is on its own channel.
    let file = &gw.recording_file(&id).expect("the recording file");
    assert!(file.ends_with(format!("{id}.wav")), "{}", file.display());
    assert_eq!(
        file.parent().unwrap().strip_prefix(&gw.recordings).unwrap().components().count(),
        3,
        "YYYY/MM/DD"
    );
    assert_eq!(std::fs::metadata(file).unwrap().len(), c["recording_size"].as_u64().unwrap());
    let (left, right) = channels(file);
    let mid = left.len() / 2;
    assert_eq!(
        dominant(&left[mid - 4000..mid + 4000], &[1000.0, 2000.0]),
        Some(1000.0),
        "the caller is on the left"
    );
    assert_eq!(
        dominant(&right[mid - 4000..mid + 4000], &[1000.0, 2000.0]),
        Some(2000.0),
        "the agent is on the right"
    );

    // Playback: whole file, then ranges; the agent who took the call may hear it.
    let bytes = std::fs::read(file).unwrap();
    let url = format!("{}/api/recordings/{id}/audio", gw.base);
    let whole = agent.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let part = agent.get(&url).header("Range", "bytes=100-199").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-199/{}", bytes.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let tail = agent.get(&url).header("Range", "bytes=-44").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &bytes[bytes.len() - 44..]);
    let beyond =
        agent.get(&url).header("Range", format!("bytes={}-", bytes.len())).send().await.unwrap();
    assert_eq!(beyond.status(), 416);
    let waveform = gw.get(&agent, &format!("/api/recordings/{id}/waveform?points=50")).await;
    assert_eq!(waveform["left"].as_array().unwrap().len(), 50);
    // One listen (several requests) and one download in the audit log.
    let download =
        agent.get(format!("{}/api/recordings/{id}/download", gw.base)).send().await.unwrap();
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let audit = gw.get(&gw.admin, &format!("/api/audit?entity=call&entity_id={id}")).await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|a| a["action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "recording.play").count(), 1, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "recording.download").count(), 1, "{actions:?}");
    gw.stop().await;
}

/// The same number gives up twice while the phone rings: one callback task for the queue,
/// standing for two missed calls; with a one-second due time it is escalated to the
/// supervisor of the team whose agent serves the queue, who is notified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_calls_make_one_callback_that_escalates() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("callback");
    let gw =
        Gateway::start(GatewayOptions { callbacks: (1, 1), ..GatewayOptions::default() }).await;
    let phone =
        SippRun { calls: 2, ..SippRun::new("agent_no_answer.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("lena", ([127, 0, 0, 1], phone.port).into()).await;
    let sup = gw.post(&gw.admin, "/api/users", json!({"login": "olga", "name": "Olga", "role": "supervisor", "password": crate::harness::AGENT_PASSWORD})).await;
    let sup_id = sup["user"]["id"].as_str().unwrap().to_owned();
    let team = gw
        .post(&gw.admin, "/api/teams", json!({"name": "First line", "supervisor_id": sup_id}))
        .await;
    let res = gw
        .admin
        .patch(format!("{}/api/users/{agent_id}", gw.base))
        .json(&json!({"team_id": team["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;
    let phone = phone.spawn();
    let mut calls = Vec::new();
    for _ in 0..2 {
        let caller = SippRun {
            remote: Some(gw.sip),
            service: Some("100".into()),
            pause_ms: 800,
            keys: vec![("caller", CALLER_NUMBER.into())],
            ..SippRun::new("caller_cancel.xml", &dir.tone_dir("caller", 1000.0))
        };
        assert!(caller.spawn().wait(Duration::from_secs(30)).await, "the caller gives up");
        let id = newest_call(&gw).await;
        assert_eq!(gw.wait_call_ended(&id).await["call"]["end_reason"], "abandoned");
        calls.push(id);
        // Out of wrap-up for the next call.
        gw.available(&agent).await;
    }
    drop(phone);
    // Exactly one open callback for the number, linked from both calls.
    let what = "one callback for two missed calls";
    let task = eventually(Duration::from_secs(10), what, || async {
        let tasks = gw.get(&gw.admin, "/api/tasks?status=open").await;
        let callbacks: Vec<Value> = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["callback"] == true)
            .cloned()
            .collect();
        assert!(callbacks.len() <= 1, "duplicates: {callbacks:?}");
        (callbacks.len() == 1 && callbacks[0]["missed_count"] == 2).then(|| callbacks[0].clone())
    })
    .await;
    assert_eq!(task["phone_e164"], "+79161234567");
    assert_eq!(task["kind"], "call");
    assert!(task["queue_id"].is_string());
    for id in &calls {
        let call = gw.get(&gw.admin, &format!("/api/calls/{id}")).await;
        assert_eq!(call["call"]["task_id"], task["id"]);
    }
    // Due a second after the miss, checked every second: escalated to Olga.
    let olga = crate::harness::login(&gw.base, "olga", crate::harness::AGENT_PASSWORD).await;
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    let escalated = eventually(Duration::from_secs(10), "the callback escalated", || async {
        let t = gw.get(&gw.admin, &path).await;
        (!t["escalated_at"].is_null()).then_some(t)
    })
    .await;
    assert_eq!(escalated["escalated_to"], sup_id);
    let notes = gw.get(&olga, "/api/notifications?unread=true").await;
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["task_id"], task["id"]);
    assert_eq!(notes[0]["kind"], "task_escalated");
    // Completing it records the result and time.
    let done = gw
        .post(
            &agent,
            &format!("/api/tasks/{}/complete", task["id"].as_str().unwrap()),
            json!({"result": "called back, resolved"}),
        )
        .await;
    assert_eq!(done["status"], "done");
    assert!(done["completed_at"].is_i64());
    gw.stop().await;
}
