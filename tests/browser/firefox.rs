//! Firefox ESR as a browser agent: Debian's Firefox, driven over WebDriver BiDi, signs in,
//! answers a queue call in the console, and audio flows both ways.

use std::time::Duration;

use serde_json::json;

use crate::agent::{Agent, Driver};
use crate::calls::{INBOUND_STATS, browser_agent, caller, go_available};
use crate::harness::{
    AGENT_PASSWORD, Capture, Gateway, GatewayOptions, Scratch, assert_tone, audio_to,
};

/// A Firefox agent (its microphone a 2 kHz tone) answers a SIPp caller (1 kHz) with the
/// answer button: the caller's side receives the browser's 2 kHz, the browser receives the
/// caller's PCMU above silence, and the call is logged against the agent.
pub(crate) async fn firefox_agent_answers_a_call_with_audio_both_ways() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let id = browser_agent(&gw, "fedor", "Fedor Firefox").await;
    gw.queue("100", &[&id], json!({"ring_timeout_ms": 30000})).await;
    let scratch = Scratch::new("firefox");
    let caller_dir = scratch.tone_dir("caller", 1000.0);
    let mut driver = Driver::start_firefox();
    let agent = Agent::sign_in_firefox(&mut driver, &gw.base, "fedor", AGENT_PASSWORD, 2000).await;
    let version = driver.must(json!({"cmd": "version", "agent": agent.name})).await;
    assert!(version.as_str().unwrap_or("").starts_with("firefox/"), "{version}");
    go_available(&mut driver, &agent).await;

    let mut run = caller("caller.xml", &caller_dir, &gw, "89165550101");
    run.pause_ms = 8000;
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ringing]", "timeout": 15000})).await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=connected]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": INBOUND_STATS})).await;
    assert_eq!(stats["codec"], "audio/PCMU", "{stats}");
    assert!(stats["packets"].as_u64().unwrap_or(0) > 50, "inbound RTP reached Firefox: {stats}");

    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await, "the SIPp caller completed its call");
    let heard = audio_to(&capture.stop().await, media_port);
    assert_tone(&heard, 2000.0, "the caller's side hears the Firefox agent");

    let calls = gw.get(&gw.admin, "/api/calls?per_page=1").await;
    let call = &calls["items"][0];
    assert_eq!(call["agent_id"], id.as_str(), "{call}");
    assert_eq!(call["from_e164"], "+79165550101", "{call}");
    driver.quit().await;
    gw.stop().await;
}
