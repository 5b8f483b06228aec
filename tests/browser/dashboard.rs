//! The manager's dashboard over a seeded month, and the supervisor's wallboard following a
//! real call.

use std::time::Duration;

use serde_json::json;

use crate::agent::Agent;
use crate::calls::{Scene, browser_agent, caller, epoch_ms, go_available};
use crate::harness::{AGENT_PASSWORD, Gateway, GatewayOptions};

/// Where the README's screenshot of the dashboard goes.
const DASHBOARD_SHOT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots/dashboard.png");

/// A manager opens the dashboard over a seeded month: the headline figures and all four charts
/// are drawn, and the AHT table's CSV export downloads and parses with a row per agent.
pub(crate) async fn dashboard_shows_a_seeded_month_and_exports_csv() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let hash = switchboard_api::hash_password(AGENT_PASSWORD).unwrap();
    let options = switchboard_server::demo::DemoOptions {
        days: 30,
        agents: 6,
        contacts: 100,
        seed: 3,
        now: epoch_ms(),
        utc_offset_ms: 0,
        events: false,
        stats: Default::default(),
        lang: Default::default(),
        recordings: None,
    };
    let made = switchboard_server::demo::seed_demo(&gw.store, &options, &hash).await.unwrap();
    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } =
        Scene::new("browser-dashboard");
    let manager = Agent::sign_in(&mut driver, &gw.base, "manager", AGENT_PASSWORD, &wav).await;
    driver
        .must(
            json!({"cmd": "goto", "agent": manager.name, "url": format!("{}/dashboard", gw.base)}),
        )
        .await;
    driver.must(json!({"cmd": "wait", "agent": manager.name, "selector": "body[data-loaded=true]", "state": "attached", "timeout": 20000})).await;
    let drawn = driver
        .must(json!({"cmd": "eval", "agent": manager.name, "js": "['chart-hourly', 'chart-sl', 'chart-aht', 'chart-dispositions'].map((id) => document.querySelectorAll(`#${id} svg rect`).length)"}))
        .await;
    assert!(
        drawn.as_array().unwrap().iter().all(|n| n.as_u64().unwrap_or(0) > 0),
        "every chart has bars: {drawn}"
    );
    let offered = driver.must(json!({"cmd": "text", "agent": manager.name, "selector": ".tile[data-metric=offered] strong"})).await;
    let offered: i64 = offered.as_str().unwrap().parse().unwrap();
    assert!(
        offered > 0 && offered <= i64::try_from(made.calls).unwrap(),
        "offered {offered} of {} calls",
        made.calls
    );
    let tooltip = driver.must(json!({"cmd": "eval", "agent": manager.name, "js": "document.querySelector('.tile[data-metric=service_level]').title"})).await;
    assert!(
        tooltip.as_str().unwrap().contains("offered"),
        "the definition is the tooltip: {tooltip}"
    );
    // Calls released after the maximum wait and calls refused for capacity have tiles too.
    let lost = driver.must(json!({"cmd": "eval", "agent": manager.name, "js": "['timed_out', 'blocked'].map((k) => [document.querySelector(`.tile[data-metric=${k}] strong`).textContent, document.querySelector(`.tile[data-metric=${k}]`).title])"})).await;
    for (i, pair) in lost.as_array().unwrap().iter().enumerate() {
        assert!(pair[0].as_str().unwrap().parse::<i64>().is_ok(), "a count: {lost}");
        let definition = pair[1].as_str().unwrap();
        assert!(definition.contains(["maximum wait", "call limit"][i]), "{lost}");
    }
    std::fs::create_dir_all(std::path::Path::new(DASHBOARD_SHOT).parent().unwrap()).unwrap();
    driver.must(json!({"cmd": "screenshot", "agent": manager.name, "path": DASHBOARD_SHOT})).await;
    let file = driver.must(json!({"cmd": "download", "agent": manager.name, "selector": "button.csv[data-table=chart-aht]"})).await;
    assert!(file["name"].as_str().unwrap().ends_with(".csv"), "{file}");
    let mut reader =
        csv::ReaderBuilder::new().from_reader(file["text"].as_str().unwrap().as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header.len(), 9, "{header:?}");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6, "a row per agent");
    let handled: i64 = rows.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert!(handled > 0);
    driver.quit().await;
    gw.stop().await;
}

/// Where the README's screenshot of the wallboard goes.
const WALLBOARD_SHOT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots/wallboard.png");

/// A supervisor watches the wallboard while a real SIPp call arrives and a browser agent
/// answers it: the agent's tile goes available -> ringing -> on a call, each within about a
/// second of the console, and today's answered count goes up when the call ends.
pub(crate) async fn wallboard_follows_a_real_call() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.post(&gw.admin, "/api/users", json!({"login": "sam", "name": "Sam Supervisor", "role": "supervisor", "password": AGENT_PASSWORD})).await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch: _scratch, wav, caller_dir, mut driver } = Scene::new("browser-wallboard");
    let agent = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &agent).await;
    let sup = Agent::sign_in(&mut driver, &gw.base, "sam", AGENT_PASSWORD, &wav).await;
    driver
        .must(json!({"cmd": "goto", "agent": sup.name, "url": format!("{}/wallboard", gw.base)}))
        .await;
    let tile = |state: &str| format!(".agent[data-agent='{anna}'][data-state={state}]");
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": tile("available"), "timeout": 5000})).await;

    let mut run = caller("caller.xml", &caller_dir, &gw, "+79161234567");
    run.pause_ms = 3000;
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ringing]", "timeout": 15000})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": sup.name, "selector": tile("ringing"), "timeout": 1500}),
        )
        .await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#answer"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": sup.name, "selector": tile("on_call"), "timeout": 1500}),
        )
        .await;
    std::fs::create_dir_all(std::path::Path::new(WALLBOARD_SHOT).parent().unwrap()).unwrap();
    driver.must(json!({"cmd": "screenshot", "agent": sup.name, "path": WALLBOARD_SHOT})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await);
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": "#queues tr td.answered", "text": "1", "timeout": 6000})).await;
    driver.must(json!({"cmd": "wait", "agent": sup.name, "selector": ".tile[data-metric=answered] strong", "text": "1", "timeout": 6000})).await;
    driver.quit().await;
    gw.stop().await;
}
