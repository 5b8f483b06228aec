//! The recordings page: a recorded call listed, played with its waveform, seeked, and the
//! listen audited.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::Agent;
use crate::calls::{Scene, browser_agent, caller, go_available};
use crate::harness::{AGENT_PASSWORD, Gateway, GatewayOptions, until};

/// A manager opens the recordings page: the call is listed, plays in the browser (the audio
/// element advances, fetching the WAV with Range requests) with its waveform drawn, and the
/// listen is in the audit log.
pub(crate) async fn recordings_page_plays_a_call_with_its_waveform() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.post(&gw.admin, "/api/users", json!({"login": "maria", "name": "Maria Manager", "role": "manager", "password": AGENT_PASSWORD})).await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch: _scratch, wav, caller_dir, mut driver } = Scene::new("browser-recordings");
    let agent = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &agent).await;
    let mut run = caller("caller.xml", &caller_dir, &gw, "+79161234567");
    run.pause_ms = 4000;
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ringing]", "timeout": 15000})).await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await);
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call_id = calls["items"][0]["id"].as_str().unwrap().to_owned();
    gw.wait_call_ended(&call_id).await;
    check_recording_exists(&gw, &call_id).await;

    let manager = Agent::sign_in(&mut driver, &gw.base, "maria", AGENT_PASSWORD, &wav).await;
    driver
        .must(
            json!({"cmd": "goto", "agent": manager.name, "url": format!("{}/recordings", gw.base)}),
        )
        .await;
    driver.must(json!({"cmd": "wait", "agent": manager.name, "selector": &format!("#results tr[data-id='{call_id}'] .play")})).await;
    let row = driver.must(json!({"cmd": "text", "agent": manager.name, "selector": &format!("#results tr[data-id='{call_id}']")})).await;
    assert!(
        row.as_str().unwrap().contains("+7 916 123-45-67")
            && row.as_str().unwrap().contains("Anna Operator"),
        "{row}"
    );
    driver.must(json!({"cmd": "click", "agent": manager.name, "selector": &format!("#results tr[data-id='{call_id}'] .play")})).await;
    driver
        .must(json!({"cmd": "wait", "agent": manager.name, "selector": "#waveform rect.left"}))
        .await;
    // The recording plays: its position passes one second.
    driver.must(json!({"cmd": "until", "agent": manager.name, "js": "document.getElementById('player').currentTime > 1", "timeout": 15000})).await;
    // Seek by clicking the waveform near its end.
    driver.must(json!({"cmd": "eval", "agent": manager.name, "js": "(() => { const svg = document.getElementById('waveform'); const b = svg.getBoundingClientRect(); svg.dispatchEvent(new MouseEvent('click', { clientX: b.left + b.width * 0.8, clientY: b.top + 10, bubbles: true })); return true; })()"})).await;
    let (at, duration) = {
        let v = driver.must(json!({"cmd": "eval", "agent": manager.name, "js": "[document.getElementById('player').currentTime, document.getElementById('player').duration]"})).await;
        (v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0))
    };
    assert!(
        duration > 3.0 && at >= duration * 0.7,
        "seeking by the waveform: at {at} of {duration}"
    );
    std::fs::create_dir_all(std::path::Path::new(RECORDINGS_SHOT).parent().unwrap()).unwrap();
    driver.must(json!({"cmd": "screenshot", "agent": manager.name, "path": RECORDINGS_SHOT})).await;
    let audit = gw
        .get(&gw.admin, &format!("/api/audit?entity=call&entity_id={call_id}&action=recording."))
        .await;
    let plays: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "recording.play")
        .collect();
    assert_eq!(plays.len(), 1, "one listen, however many Range requests: {audit}");

    // Another operator does not see Anna's recording, on the page or through the API.
    gw.post(&gw.admin, "/api/users", json!({"login": "oleg", "name": "Oleg Operator", "role": "operator", "password": AGENT_PASSWORD})).await;
    let oleg = Agent::sign_in(&mut driver, &gw.base, "oleg", AGENT_PASSWORD, &wav).await;
    driver
        .must(json!({"cmd": "goto", "agent": oleg.name, "url": format!("{}/recordings", gw.base)}))
        .await;
    driver
        .must(json!({"cmd": "wait", "agent": oleg.name, "selector": "#total", "text": "0"}))
        .await;
    let rows = driver.must(json!({"cmd": "eval", "agent": oleg.name, "js": "document.querySelectorAll('#results tbody tr[data-id]').length"})).await;
    assert_eq!(rows, json!(0), "an operator lists no one else's recordings");
    for path in
        [format!("/api/recordings/{call_id}/audio"), format!("/api/recordings/{call_id}/download")]
    {
        let status = driver.must(json!({"cmd": "eval", "agent": oleg.name, "js": format!("fetch('{path}').then((r) => r.status)")})).await;
        assert!(
            status == json!(403) || status == json!(404),
            "{path} answered {status} to another operator"
        );
    }
    // Anna herself lists her own call.
    let own = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "fetch('/api/recordings').then((r) => r.json()).then((b) => b.items.map((c) => c.id))"})).await;
    assert_eq!(own, json!([call_id]), "the agent hears her own calls");
    driver.quit().await;
    gw.stop().await;
}

/// Where the README's screenshot of the recordings page goes.
const RECORDINGS_SHOT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots/recordings.png");

async fn check_recording_exists(gw: &Gateway, call_id: &str) {
    let path = format!("/api/calls/{call_id}");
    until(Duration::from_secs(10), "the recording finished", || async {
        !gw.get(&gw.admin, &path).await["call"]["recording_duration_ms"].is_null()
    })
    .await;
}
