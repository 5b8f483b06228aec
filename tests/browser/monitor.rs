//! Live listening in the browser: a supervisor on the wallboard listens to a SIPp caller
//! (1 kHz) talking to a browser agent (2 kHz), then whispers (a 440 Hz microphone): the agent's
//! page hears the whisper, the caller's side (captured) never does.

use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{Agent, Driver, tone_wav};
use crate::calls::{Scene, browser_agent, caller, go_available};
use crate::harness::{AGENT_PASSWORD, Capture, Gateway, GatewayOptions, audio_to_between};
use switchboard_media::tone::goertzel_power;

/// Where the README's screenshot of live listening goes.
const SHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots/live-listen.png");

/// The spectrum of what the console's speaker plays (its remote stream), over one second:
/// the peak level in dB around each frequency asked.
fn spectrum_js(frequencies: &[f64]) -> String {
    format!(
        r"(async () => {{
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(document.getElementById('remote-audio').srcObject);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0.5;
  source.connect(analyser);
  await new Promise((r) => setTimeout(r, 1200));
  const data = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(data);
  const width = ctx.sampleRate / analyser.fftSize;
  const peak = (hz) => Math.max(...[-2, -1, 0, 1, 2].map((d) => data[Math.round(hz / width) + d]));
  const out = {{}};
  for (const hz of {frequencies:?}) out[hz] = peak(hz);
  await ctx.close();
  return out;
}})()"
    )
}

async fn spectrum(driver: &mut Driver, agent: &Agent) -> Value {
    driver.must(json!({"cmd": "eval", "agent": agent.name, "js": spectrum_js(&[440.0, 700.0, 1000.0, 1500.0, 2000.0])})).await
}

fn db(spectrum: &Value, hz: &str) -> f64 {
    spectrum[hz].as_f64().unwrap_or(f64::NEG_INFINITY)
}

fn epoch_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

pub(crate) async fn supervisor_listens_and_whispers_from_the_wallboard() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    let sam = gw.post(&gw.admin, "/api/users", json!({"login": "sam", "name": "Sam Supervisor", "role": "supervisor", "password": AGENT_PASSWORD})).await["user"]["id"].as_str().unwrap().to_owned();
    let team =
        gw.post(&gw.admin, "/api/teams", json!({"name": "Support", "supervisor_id": sam})).await;
    let res = gw
        .admin
        .patch(format!("{}/api/users/{anna}", gw.base))
        .json(&json!({"team_id": team["id"]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;

    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-listen");
    let agent = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &agent).await;
    let sup_wav = tone_wav(&scratch.0.join("supervisor-440.wav"), 440.0);
    let sup = Agent::sign_in(&mut driver, &gw.base, "sam", AGENT_PASSWORD, &sup_wav).await;
    driver
        .must(json!({"cmd": "goto", "agent": sup.name, "url": format!("{}/wallboard", gw.base)}))
        .await;

    let mut run = caller("caller.xml", &caller_dir, &gw, "+79161234567");
    run.pause_ms = 24_000;
    let caller_port = run.media_port;
    let capture = Capture::start(&scratch.0, &[caller_port]).await;
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ringing]", "timeout": 15000})).await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=connected]"})).await;

    // Listen from the agent's tile: the first listen connects the page's audio, once.
    let tile = format!(".agent[data-agent='{anna}'] button.listen");
    driver
        .must(json!({"cmd": "click", "agent": sup.name, "selector": tile, "timeout": 5000}))
        .await;
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": "#listen-bar[data-state=listen]", "timeout": 20000})).await;
    // Up to ten seconds for the level to rise; the assertion below reports it either way.
    let _ = driver
        .send(json!({"cmd": "until", "agent": sup.name, "js": "window.switchboard.level > 0.01", "timeout": 10000}))
        .await;
    let level = driver
        .must(json!({"cmd": "eval", "agent": sup.name, "js": "window.switchboard.level"}))
        .await
        .as_f64()
        .unwrap_or(0.0);
    assert!(level > 0.01, "the supervisor's page hears the call (inbound audio level {level})");
    std::fs::create_dir_all(std::path::Path::new(SHOT).parent().unwrap()).unwrap();
    driver.must(json!({"cmd": "screenshot", "agent": sup.name, "path": SHOT})).await;
    let quiet = spectrum(&mut driver, &agent).await;
    assert!(db(&quiet, "1000") > db(&quiet, "700") + 20.0, "the agent hears the caller: {quiet}");
    assert!(
        db(&quiet, "440") < db(&quiet, "1000") - 30.0,
        "listening is silent to the agent: {quiet}"
    );

    // Whisper: the agent hears the supervisor's 440 Hz, the caller does not.
    driver.must(json!({"cmd": "click", "agent": sup.name, "selector": "#listen-bar .mode[data-mode=whisper]"})).await;
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": "#listen-bar[data-state=whisper]"})).await;
    let from = epoch_ms() + 700;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_millis(700)).await;
    let whisper = spectrum(&mut driver, &agent).await;
    assert!(
        db(&whisper, "440") > db(&whisper, "700") + 20.0,
        "the agent hears the whisper: {whisper}"
    );
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let to = epoch_ms();
    driver.must(json!({"cmd": "click", "agent": sup.name, "selector": "#listen-stop"})).await;
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": "#listen-bar[data-state=idle]", "state": "attached"})).await;

    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 30000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await, "the SIPp caller completed its call");
    let datagrams = capture.stop().await;
    let heard = audio_to_between(&datagrams, caller_port, from, to);
    assert!(
        heard.len() > 8000,
        "the caller received audio while the supervisor whispered ({} samples)",
        heard.len()
    );
    let (p440, p2000) = (goertzel_power(&heard, 440.0), goertzel_power(&heard, 2000.0));
    assert!(
        p2000 > 1000.0 && p440 < 0.01 * p2000,
        "the caller hears the agent (2 kHz power {p2000:.0}) and not the whisper (440 Hz power {p440:.0})"
    );

    let audit = gw.get(&gw.admin, "/api/audit?action=call.&per_page=50").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["call.listen", "call.whisper", "call.listen_stop"], "{audit}");
    driver.quit().await;
    gw.stop().await;
}
