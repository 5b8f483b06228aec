//! The agent's softphone always comes back: after the browser was closed for 40 s, after a
//! reload right after it connected, after the network went away for 20 s (idle and during a
//! call), and with two tabs of the same agent (the newest wins, the other says so). Each
//! ends with a real SIPp call answered in the page, with audio checked both ways: the agent
//! hears the caller (inbound PCMU above silence) and the caller's captured RTP carries the
//! browser's 2 kHz. And an idle softphone sends no RTP at all.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{Agent, Driver};
use crate::calls::{Scene, browser_agent, caller, go_available};
use crate::harness::{AGENT_PASSWORD, Capture, Gateway, GatewayOptions, assert_tone, audio_to};

/// The softphone's RTP counters as `getStats()` reports them: packets received, their audio
/// level, and packets sent.
const RTP_STATS: &str = r"(async () => {
  const pc = window.switchboard.softphone.pc;
  if (!pc) return null;
  const all = [...(await pc.getStats()).values()];
  const inbound = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio') || {};
  const outbound = all.find((s) => s.type === 'outbound-rtp' && s.kind === 'audio') || {};
  return { received: inbound.packetsReceived ?? 0, level: inbound.audioLevel ?? 0, sent: outbound.packetsSent ?? 0 };
})()";

async fn rtp(driver: &mut Driver, who: &str) -> Value {
    driver.must(json!({"cmd": "eval", "agent": who, "js": RTP_STATS})).await
}

async fn agent_state(gw: &Gateway, login: &str) -> Value {
    let client = crate::harness::login(&gw.base, login, AGENT_PASSWORD).await;
    gw.get(&client, "/api/agent/state").await
}

/// A call from a SIPp caller, answered in `who`'s page: the agent hears the caller, the caller
/// hears the agent's 2 kHz; the agent hangs up.
async fn answer_with_audio_both_ways(
    driver: &mut Driver,
    gw: &Gateway,
    who: &str,
    caller_dir: &Path,
    scratch: &Path,
) {
    let run = caller("caller_waits.xml", caller_dir, gw, "89161234567");
    let capture = Capture::start(scratch, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();
    driver
        .must(json!({"cmd": "wait", "agent": who, "selector": "#answer", "timeout": 15000}))
        .await;
    driver.must(json!({"cmd": "click", "agent": who, "selector": "#answer"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": who, "selector": "#call-status[data-status=connected]"}),
        )
        .await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = rtp(driver, who).await;
    assert!(
        stats["received"].as_u64().unwrap_or(0) > 50
            && stats["level"].as_f64().unwrap_or(0.0) > 0.01,
        "the agent hears the caller: {stats}"
    );
    driver.must(json!({"cmd": "click", "agent": who, "selector": "#hangup"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": who, "selector": "#call-status[data-status=ended]"}))
        .await;
    assert!(sipp.wait(Duration::from_secs(15)).await, "the caller got the agent's BYE");
    assert_tone(
        &audio_to(&capture.stop().await, media_port),
        2000.0,
        "the caller hears the browser agent",
    );
}

/// The operator closes the browser for 40 s (the laptop sleeps), then opens the console
/// again: the gateway paused them as `connection_lost` meanwhile; the new page makes a new
/// softphone, the agent is available again and answers a call with audio both ways.
pub(crate) async fn softphone_comes_back_after_the_browser_was_closed() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-softphone-closed");
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    driver.must(json!({"cmd": "close", "agent": a.name})).await;
    // A deliberate 40 s outage.
    tokio::time::sleep(Duration::from_secs(40)).await;
    let state = agent_state(&gw, "anna").await;
    assert_eq!(
        (state["state"].as_str(), state["reason"].as_str()),
        (Some("paused"), Some("connection_lost")),
        "nobody rings a closed browser: {state}"
    );

    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]", "timeout": 15000})).await;
    answer_with_audio_both_ways(&mut driver, &gw, &a.name, &caller_dir, &scratch.0).await;
    driver.quit().await;
    gw.stop().await;
}

/// A reload right after the softphone connected: the server still holds the first page's
/// connection, which it must not use; the new page connects its own, and the first call is
/// heard both ways. While idle, the page sends no RTP.
pub(crate) async fn reload_right_after_connect_then_answer() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-softphone-reload");
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    driver.must(json!({"cmd": "reload", "agent": a.name})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#softphone[data-state=connected]", "timeout": 20000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]", "timeout": 15000})).await;

    // Idle: connected, but nothing on the wire.
    let before = rtp(&mut driver, &a.name).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rtp(&mut driver, &a.name).await;
    assert_eq!(
        before["sent"], after["sent"],
        "an idle softphone sends no RTP ({before} -> {after})"
    );

    answer_with_audio_both_ways(&mut driver, &gw, &a.name, &caller_dir, &scratch.0).await;
    // And once the call is over, it stops sending again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rtp(&mut driver, &a.name).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rtp(&mut driver, &a.name).await;
    assert_eq!(before["sent"], after["sent"], "no RTP after the call ({before} -> {after})");
    driver.quit().await;
    gw.stop().await;
}

/// The browser's network goes away for 20 s while the agent waits, and again during a call:
/// both times the console comes back by itself; the call's audio goes on.
pub(crate) async fn network_gone_for_20s_idle_and_during_a_call() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-softphone-offline");
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;

    driver.must(json!({"cmd": "offline", "agent": a.name, "on": true})).await;
    // A deliberate 20 s outage.
    tokio::time::sleep(Duration::from_secs(20)).await;
    driver.must(json!({"cmd": "offline", "agent": a.name, "on": false})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#softphone[data-state=connected]", "timeout": 30000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]", "timeout": 30000})).await;
    let state = agent_state(&gw, "anna").await;
    assert_eq!(state["state"], "available", "{state}");

    // During a call.
    let run = caller("caller_waits.xml", &caller_dir, &gw, "89161234567");
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": "#answer", "timeout": 15000}))
        .await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]"})).await;
    driver.must(json!({"cmd": "offline", "agent": a.name, "on": true})).await;
    // A deliberate 20 s outage.
    tokio::time::sleep(Duration::from_secs(20)).await;
    driver.must(json!({"cmd": "offline", "agent": a.name, "on": false})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#softphone[data-state=connected]", "timeout": 30000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]", "timeout": 15000})).await;
    let first = rtp(&mut driver, &a.name).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = rtp(&mut driver, &a.name).await;
    assert!(
        second["received"].as_u64().unwrap_or(0) > first["received"].as_u64().unwrap_or(0) + 50,
        "the caller is still heard ({first} -> {second})"
    );
    assert!(second["level"].as_f64().unwrap_or(0.0) > 0.01, "{second}");
    assert!(
        second["sent"].as_u64().unwrap_or(0) > first["sent"].as_u64().unwrap_or(0) + 50,
        "the agent is still sending ({first} -> {second})"
    );
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#hangup"})).await;
    assert!(sipp.wait(Duration::from_secs(15)).await, "the caller got the agent's BYE");
    assert_tone(
        &audio_to(&capture.stop().await, media_port),
        2000.0,
        "the caller hears the browser agent",
    );
    driver.quit().await;
    gw.stop().await;
}

/// The same agent opens the console in a second tab: the newest tab takes the softphone and
/// the calls; the first says it was replaced and does not reconnect.
pub(crate) async fn two_tabs_the_newest_wins() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-softphone-tabs");
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    driver.must(json!({"cmd": "tab", "agent": a.name, "as": "anna-tab2"})).await;
    driver.must(json!({"cmd": "goto", "agent": "anna-tab2", "url": format!("{}/console?lang=ru", gw.base)})).await;
    driver.must(json!({"cmd": "wait", "agent": "anna-tab2", "selector": "#softphone[data-state=connected]", "timeout": 20000})).await;
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": "#replaced", "timeout": 10000}))
        .await;
    driver.must(json!({"cmd": "wait", "agent": "anna-tab2", "selector": "#state[data-state=available]", "timeout": 15000})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first = driver.must(json!({"cmd": "eval", "agent": a.name, "js": "[window.switchboard.socket.readyState, window.switchboard.softphone.pc === null]"})).await;
    assert_eq!(
        first,
        json!([3, true]),
        "the replaced tab closed its socket and softphone and stays closed"
    );
    answer_with_audio_both_ways(&mut driver, &gw, "anna-tab2", &caller_dir, &scratch.0).await;
    let rang = driver.must(json!({"cmd": "eval", "agent": a.name, "js": "document.getElementById('call-status').dataset.status"})).await;
    assert_eq!(rang, "idle", "the old tab never rang");
    driver.quit().await;
    gw.stop().await;
}
