//! The disk fills up under recordings: the gateway runs as its own process with its data
//! (the SQLite database) and its recordings on one small tmpfs, as on a one-disk install,
//! and the test fills that disk in the middle of recorded calls. Calls go on and new ones are
//! answered; each recording that could not be written is closed, marked failed with the
//! reason and not left half on disk; the administrators see an alert (the admin page's banner
//! and `/metrics`); nothing is lost from the call log. Once space returns, new calls are
//! recorded again and the alert clears.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};

use crate::harness::{
    ADMIN_PASSWORD, AGENT_PASSWORD, Process, SERIAL, Scratch, SippRun, free_port_pair, login,
    until, wait_healthy,
};

/// Calls in each phase: talking when the disk fills, placed while it is full, placed after.
const CALLS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_recordings_loses_no_call_and_recovers() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("disk-full");
    let disk = dir.0.join("disk");
    let http = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sip = free_port_pair();
    let base = format!("http://127.0.0.1:{http}");
    let (data, recordings) = (disk.join("data"), disk.join("recordings"));
    let env = [
        ("SWITCHBOARD_DATA_DIR", data.to_str().unwrap()),
        ("SWITCHBOARD_RECORDINGS__ROOT", recordings.to_str().unwrap()),
    ];
    let server = Process::start_on_tmpfs(crate::BIN, &dir.0, http, sip, 1, &env, &disk, 64);
    wait_healthy(&base).await;
    // The disk as the server sees it, in its own mount namespace.
    let seen =
        PathBuf::from(format!("/proc/{}/root", server.pid())).join(disk.strip_prefix("/").unwrap());
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;

    // Agents whose phones are one SIPp answering every call (2 kHz); wrap-up off.
    let phones = SippRun {
        pause_ms: 100,
        calls: u32::try_from(3 * CALLS).unwrap(),
        extra: ["-l", "100", "-timeout", "180s"].map(String::from).to_vec(),
        ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0))
    };
    let mut agents = Vec::new();
    for i in 0..2 * CALLS {
        let name = format!("agent{i}");
        let user = post(
            &admin,
            &base,
            "/api/users",
            json!({"login": name, "name": name, "role": "operator", "password": AGENT_PASSWORD}),
        )
        .await;
        let id = user["user"]["id"].as_str().unwrap().to_owned();
        let sip_uri = json!({"uri": format!("sip:{name}@127.0.0.1:{}", phones.port)});
        let res =
            admin.put(format!("{base}/api/users/{id}/sip")).json(&sip_uri).send().await.unwrap();
        assert_eq!(res.status(), 200);
        agents.push((id, login(&base, &name, AGENT_PASSWORD).await));
    }
    let ids: Vec<&str> = agents.iter().map(|(id, _)| id.as_str()).collect();
    post(&admin, &base, "/api/queues", json!({"name": "support", "number": "100", "members": ids, "wrap_up_ms": 0, "record": true})).await;
    for (_, agent) in &agents {
        let res = agent
            .put(format!("{base}/api/agent/state"))
            .json(&json!({"state": "available"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let phones = phones.spawn();
    let callers = |name: &str, number: &str, talk_ms: u64| SippRun {
        remote: Some(([127, 0, 0, 1], sip).into()),
        service: Some("100".into()),
        pause_ms: talk_ms,
        calls: u32::try_from(CALLS).unwrap(),
        keys: vec![("caller", number.to_owned())],
        extra: ["-l", "10", "-r", "10", "-timeout", "120s"].map(String::from).to_vec(),
        ..SippRun::new("caller.xml", &dir.tone_dir(name, 1000.0))
    };

    // Phase 1: calls talking, recorded, when the disk fills.
    let talking = callers("first", "89161111111", 20_000).spawn();
    until(Duration::from_secs(30), "the first calls answered", || async {
        calls(&admin, &base).await.iter().filter(|c| !c["answered_at"].is_null()).count() == CALLS
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let filler = fill(&seen.join("filler"));
    eprintln!("disk_full: the disk is full ({} MiB of filler)", filler >> 20);
    let alert = until_alert(&base, &admin, "recording_failed").await;
    assert!(
        alert["error"].as_str().is_some_and(|e| e.contains("No space left")),
        "the alert says why: {alert}"
    );
    let metrics = admin.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"switchboard_alert{kind="recording_failed"} 1"#),
        "the alert is on /metrics"
    );

    // Phase 2: new calls are answered while the disk is full.
    let during = callers("during", "89162222222", 3000).spawn();
    assert!(during.wait(Duration::from_secs(30)).await, "calls placed on a full disk succeed");
    let status = get(&admin, &base, "/api/telephony/status").await;
    let database_waited = has_alert(&status, "database_unavailable");
    eprintln!("disk_full: while full, alerts {}", status["alerts"]);

    // Space returns.
    std::fs::remove_file(seen.join("filler")).unwrap();
    until(Duration::from_secs(30), "the call log's writes through again", || async {
        !has_alert(&get(&admin, &base, "/api/telephony/status").await, "database_unavailable")
    })
    .await;
    assert!(talking.wait(Duration::from_secs(60)).await, "the first calls end normally");

    // Phase 3: new calls are recorded again.
    let after = callers("after", "89163333333", 3000).spawn();
    assert!(after.wait(Duration::from_secs(30)).await, "calls after the disk is freed succeed");
    assert!(phones.wait(Duration::from_secs(30)).await, "every agent's call ends normally");

    let all = until_some(|| async {
        let all = calls(&admin, &base).await;
        let done = all.iter().filter(|c| c["end_reason"] == "caller_hangup").count();
        // A recording's size is written when its file is closed, which may come after the
        // call's end on a slow machine.
        let closed = all
            .iter()
            .filter(|c| c["from_e164"] == "+79163333333")
            .all(|c| c["recording_size"].as_i64().is_some());
        (done == 3 * CALLS && closed).then_some(all)
    })
    .await;
    assert_eq!(all.len(), 3 * CALLS, "every call in the log once");
    for c in &all {
        let id = c["id"].as_str().unwrap();
        let after_space = c["from_e164"] == "+79163333333";
        if after_space {
            assert!(c["recording_size"].as_i64().unwrap_or(0) > 0, "recorded again: {c}");
            assert!(find(&seen.join("recordings"), &format!("{id}.wav")), "its file: {c}");
        } else {
            assert_eq!(c["recorded"], false, "a recording hit by the full disk is marked: {c}");
            let detail = get(&admin, &base, &format!("/api/calls/{id}")).await;
            let failed = detail["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["kind"] == "recording_failed");
            let why = failed.map(|e| e["detail"]["error"].to_string()).unwrap_or_default();
            assert!(why.contains("No space left"), "marked failed with the reason: {detail}");
            assert!(!find(&seen.join("recordings"), &format!("{id}.wav")), "no half file: {c}");
        }
    }
    // The recorder works again: its alert is gone.
    let status = get(&admin, &base, "/api/telephony/status").await;
    assert!(!has_alert(&status, "recording_failed"), "{}", status["alerts"]);
    eprintln!(
        "disk_full: {} calls logged, {} recorded after the disk was freed; the database {} while \
         the disk was full",
        all.len(),
        CALLS,
        if database_waited { "waited (its writes were retried)" } else { "kept writing" }
    );
    drop(server);
}

/// Fills the file system holding `path` with a file there; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut written = 0u64;
    // Bounded: a tmpfs of 64 MiB is full long before 1,024 blocks.
    for _ in 0..1024 {
        match file.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
    }
    let _ = file.flush();
    written
}

fn find(dir: &Path, name: &str) -> bool {
    crate::harness::find_file(dir, name).is_some()
}

fn has_alert(status: &Value, kind: &str) -> bool {
    status["alerts"].as_array().is_some_and(|a| a.iter().any(|x| x["kind"] == kind))
}

async fn until_alert(base: &str, admin: &Client, kind: &str) -> Value {
    until_some(|| async {
        let status = get(admin, base, "/api/telephony/status").await;
        status["alerts"].as_array()?.iter().find(|a| a["kind"] == kind).cloned()
    })
    .await
}

async fn until_some<T, F, Fut>(f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    crate::harness::eventually(Duration::from_secs(30), "the expected state", f).await
}

async fn calls(admin: &Client, base: &str) -> Vec<Value> {
    get(admin, base, "/api/calls?per_page=100").await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn get(client: &Client, base: &str, path: &str) -> Value {
    let res = client.get(format!("{base}{path}")).send().await.unwrap();
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    res.json().await.unwrap()
}

async fn post(client: &Client, base: &str, path: &str, body: Value) -> Value {
    let res = client.post(format!("{base}{path}")).json(&body).send().await.unwrap();
    let status = res.status();
    let value: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {status} {value}");
    value
}
