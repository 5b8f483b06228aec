//! A crash in the middle of recorded calls: the gateway runs as its own process, twenty SIPp
//! calls are connected and recorded, the process is killed with SIGKILL, and the next start
//! must leave twenty WAV files that open and play to (nearly) the moment of the kill, and
//! twenty call records closed as `interrupted` with their recordings' lengths, ended when the
//! gateway last carried them (the downtime before the restart is not talk time).

use std::net::TcpListener;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use switchboard_media::tone::dominant;

use crate::harness::{
    ADMIN_PASSWORD, AGENT_PASSWORD, Process, SERIAL, Scratch, SippRun, find_file, free_port_pair,
    login, until, wait_healthy, wav_channels as channels,
};

const CALLS: usize = 20;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

async fn calls(admin: &Client, base: &str) -> Vec<Value> {
    let page: Value = admin
        .get(format!("{base}/api/calls?per_page=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_twenty_recorded_calls_leaves_playable_files() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("crash");
    let http = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sip = free_port_pair();
    let base = format!("http://127.0.0.1:{http}");
    let mut server = Process::start(crate::BIN, &dir.0, http, sip, 1, &[]);
    wait_healthy(&base).await;
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;

    // Twenty agents whose phones are one SIPp answering every call (2 kHz).
    let phone = SippRun {
        pause_ms: 100,
        calls: u32::try_from(CALLS).unwrap(),
        extra: vec!["-l".into(), "100".into()],
        ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0))
    };
    let mut agents = Vec::new();
    for i in 0..CALLS {
        let name = format!("agent{i:02}");
        let user: Value =
            admin.post(format!("{base}/api/users")).json(&json!({"login": name, "name": name, "role": "operator", "password": AGENT_PASSWORD})).send().await.unwrap().json().await.unwrap();
        let id = user["user"]["id"].as_str().unwrap().to_owned();
        let res = admin
            .put(format!("{base}/api/users/{id}/sip"))
            .json(&json!({"uri": format!("sip:{name}@127.0.0.1:{}", phone.port)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        agents.push(id);
    }
    let res = admin
        .post(format!("{base}/api/queues"))
        .json(&json!({"name": "support", "number": "100", "members": agents}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    for i in 0..CALLS {
        let agent = login(&base, &format!("agent{i:02}"), AGENT_PASSWORD).await;
        let res = agent
            .put(format!("{base}/api/agent/state"))
            .json(&json!({"state": "available"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Twenty callers (1 kHz) who would talk for a minute.
    let caller = SippRun {
        remote: Some(([127, 0, 0, 1], sip).into()),
        service: Some("100".into()),
        pause_ms: 60_000,
        calls: u32::try_from(CALLS).unwrap(),
        keys: vec![("caller", "89161234567".into())],
        extra: vec!["-l".into(), "100".into(), "-r".into(), "10".into()],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    let caller = caller.spawn();
    until(Duration::from_secs(30), "every call answered", || async {
        calls(&admin, &base).await.iter().filter(|c| !c["answered_at"].is_null()).count() == CALLS
    })
    .await;
    // Four seconds of talk (recorded) before the crash: a deliberate window.
    tokio::time::sleep(Duration::from_secs(4)).await;
    server.kill9();
    let killed_at = now_ms();
    drop(caller);
    drop(phone);
    // The gateway stays down a while: that time must not become talk time.
    tokio::time::sleep(Duration::from_secs(6)).await;

    // The next start repairs the files and closes the calls.
    let _server = Process::start(crate::BIN, &dir.0, http, sip, 2, &[]);
    wait_healthy(&base).await;
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let all = calls(&admin, &base).await;
    assert_eq!(all.len(), CALLS);
    let root = dir.0.join("recordings");
    let mut lost = Vec::new();
    for call in &all {
        let id = call["id"].as_str().unwrap();
        assert_eq!(call["end_reason"], "interrupted", "{call}");
        assert!(call["ended_at"].is_i64(), "{call}");
        assert_eq!(call["recorded"], true, "{call}");
        let recorded_ms = call["recording_duration_ms"]
            .as_i64()
            .unwrap_or_else(|| panic!("no recording length: {call}"));
        let talked_ms = killed_at - call["answered_at"].as_i64().unwrap();
        // Headers are brought up to date every second and audio is written 300 ms behind:
        // at most about 1.5 s is lost at the end.
        assert!(
            recorded_ms <= talked_ms && recorded_ms >= talked_ms - 1600,
            "{id}: recording {recorded_ms} ms of {talked_ms} ms talked"
        );
        lost.push(talked_ms - recorded_ms);
        // The call ends when the gateway last carried it (its heartbeat, its recording), not
        // at the restart six seconds later.
        let talk_ms = call["talk_ms"].as_i64().unwrap_or_else(|| panic!("no talk time: {call}"));
        assert!(
            (talk_ms - talked_ms).abs() <= 2000,
            "{id}: talk time {talk_ms} ms, talked until the kill {talked_ms} ms"
        );
        assert!(
            call["ended_at"].as_i64().unwrap() <= killed_at + 1000,
            "{id}: ended at the restart: {call}"
        );
        let file =
            find_file(&root, &format!("{id}.wav")).unwrap_or_else(|| panic!("no file for {id}"));
        assert_eq!(
            std::fs::metadata(&file).unwrap().len(),
            call["recording_size"].as_u64().unwrap()
        );
        let (left, right) = channels(&file);
        assert_eq!(
            i64::try_from(left.len()).unwrap() / 8,
            recorded_ms,
            "the file plays as long as the record says"
        );
        let mid = left.len() / 2;
        assert_eq!(
            dominant(&left[mid - 2000..mid + 2000], &[1000.0, 2000.0]),
            Some(1000.0),
            "{id}: the caller on the left"
        );
        assert_eq!(
            dominant(&right[mid - 2000..mid + 2000], &[1000.0, 2000.0]),
            Some(2000.0),
            "{id}: the agent on the right"
        );
    }
    lost.sort_unstable();
    eprintln!(
        "audio lost at the kill (ms): min {} median {} max {}",
        lost[0],
        lost[lost.len() / 2],
        lost[lost.len() - 1]
    );
}
