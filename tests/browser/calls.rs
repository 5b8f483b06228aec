//! Calls from a SIPp caller to agents in the browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::agent::{Agent, Driver, tone_wav};
use crate::harness::{
    AGENT_PASSWORD, Capture, Gateway, GatewayOptions, Scratch, SippRun, assert_tone, audio_to,
    eventually, wav_channels,
};
use switchboard_media::tone::dominant;

/// Where the README's screenshot of the console goes.
const SCREENSHOT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots/console-card.png");

/// What every browser test starts with: a scratch directory, the agents' microphone (a 2 kHz
/// WAV), the caller's 1 kHz tone, and the browser driver.
pub(crate) struct Scene {
    pub(crate) scratch: Scratch,
    pub(crate) wav: PathBuf,
    pub(crate) caller_dir: PathBuf,
    pub(crate) driver: Driver,
}

impl Scene {
    pub(crate) fn new(name: &str) -> Scene {
        let scratch = Scratch::new(name);
        let wav = tone_wav(&scratch.0.join("agent-2k.wav"), 2000.0);
        let caller_dir = scratch.tone_dir("caller", 1000.0);
        Scene { scratch, wav, caller_dir, driver: Driver::start() }
    }
}

/// A SIPp caller from `number` to the queue at 100.
pub(crate) fn caller(scenario: &'static str, dir: &Path, gw: &Gateway, number: &str) -> SippRun {
    let mut run = SippRun::new(scenario, dir);
    run.remote = Some(gw.sip);
    run.service = Some("100".into());
    run.keys.push(("caller", number.to_owned()));
    run
}

/// Milliseconds since the epoch (task due times).
pub(crate) fn epoch_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

/// Creates a browser agent (no SIP phone) and returns their id.
pub(crate) async fn browser_agent(gw: &Gateway, login: &str, name: &str) -> String {
    let user = gw
        .post(
            &gw.admin,
            "/api/users",
            json!({"login": login, "name": name, "role": "operator", "password": AGENT_PASSWORD}),
        )
        .await;
    user["user"]["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn go_available(driver: &mut Driver, agent: &Agent) {
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#go-available"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": agent.name, "selector": "#state[data-state=available]"}),
        )
        .await;
}

/// The softphone's inbound audio as `getStats()` reports it.
pub(crate) const INBOUND_STATS: &str = r"(async () => {
  const stats = await window.switchboard.softphone.pc.getStats();
  const all = [...stats.values()];
  const inbound = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
  if (!inbound) return null;
  const codec = all.find((s) => s.id === inbound.codecId);
  return { packets: inbound.packetsReceived, audioLevel: inbound.audioLevel ?? 0, codec: codec ? codec.mimeType : null };
})()";

async fn inbound_stats(driver: &mut Driver, agent: &Agent) -> Value {
    driver.must(json!({"cmd": "eval", "agent": agent.name, "js": INBOUND_STATS})).await
}

/// A known caller: the card with the contact's name is on screen while it rings; the agent
/// answers with the A key on the Russian layout; audio flows both ways (the browser hears the caller at PCMU with an
/// audio level above silence, the caller's side receives the browser's 2 kHz); the caller's
/// BYE ends the call in the page.
pub(crate) async fn known_caller_card_before_answer_audio_both_ways() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let company = gw.post(&gw.admin, "/api/companies", json!({"name": "Romashka LLC"})).await;
    let contact = gw.post(&gw.admin, "/api/contacts", json!({"first_name": "Petr", "last_name": "Ivanov", "phones": ["+79161234567"], "company_id": company["id"]})).await;
    let deal = gw.post(&gw.admin, "/api/deals", json!({"title": "Annual support contract", "contact_id": contact["id"], "amount": 120000})).await;

    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-known");
    let agent = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &agent).await;

    let mut run = caller("caller.xml", &caller_dir, &gw, "89161234567");
    run.pause_ms = 9000;
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();

    // The card, with the contact's name, while it is still ringing.
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#card .contact-name", "text": "Ivanov", "timeout": 15000})).await;
    let ringing = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "[document.getElementById('call-status').dataset.status, document.getElementById('answer').hidden, document.querySelector('#card .contact-company').textContent, document.querySelector('#card .deals').textContent]"})).await;
    assert_eq!(ringing[0], "ringing", "the card came before answering: {ringing}");
    assert_eq!(ringing[1], false, "the answer button is shown");
    assert_eq!(ringing[2], "Romashka LLC");
    assert!(ringing[3].as_str().unwrap().contains("Annual support contract"), "{ringing}");

    // Answered with the A key typed on the Russian layout (it types "ф"): shortcuts go by the
    // physical key.
    let key = "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ф', code: 'KeyA', bubbles: true}))";
    driver.must(json!({"cmd": "eval", "agent": agent.name, "js": key})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=connected]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = inbound_stats(&mut driver, &agent).await;
    assert_eq!(stats["codec"], "audio/PCMU", "{stats}");
    assert!(
        stats["packets"].as_u64().unwrap_or(0) > 50,
        "inbound RTP reached the browser: {stats}"
    );
    assert!(
        stats["audioLevel"].as_f64().unwrap_or(0.0) > 0.01,
        "the caller is audible, not silence: {stats}"
    );
    std::fs::create_dir_all(std::path::Path::new(SCREENSHOT).parent().unwrap()).unwrap();
    driver.must(json!({"cmd": "screenshot", "agent": agent.name, "path": SCREENSHOT})).await;

    // Hold and resume from the page, and a key on the keypad (RFC 4733 from the browser).
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#hold"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": agent.name, "selector": "#hold", "text": "Resume"}))
        .await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#hold"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": agent.name, "selector": "#hold", "text": "Hold"}))
        .await;
    driver
        .must(json!({"cmd": "click", "agent": agent.name, "selector": ".key[data-digit='5']"}))
        .await;
    // Recording paused for a card number, then resumed: silence in the file.
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#record-pause"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#record-pause[data-paused=true]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#record-pause"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#record-pause[data-paused=false]"})).await;

    // The caller hangs up: the page shows it.
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await, "the SIPp caller completed its call");
    let heard = audio_to(&capture.stop().await, media_port);
    assert_tone(&heard, 2000.0, "the caller's side hears the browser agent");

    // After the call: the form, with the contact's one open deal already chosen.
    let chosen = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "document.getElementById('form-deal').value"})).await;
    assert_eq!(chosen, deal["id"], "the one open deal is linked by default");
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#form-reason", "value": "Invoice question"})).await;
    driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "document.getElementById('form-disposition').value = 'sale'"})).await;
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#form-notes", "value": "Wants three more licences"})).await;
    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#form-save"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#form-saved"})).await;

    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call_id = calls["items"][0]["id"].as_str().unwrap().to_owned();
    let call = gw.wait_call_ended(&call_id).await;
    assert_eq!(call["call"]["end_reason"], "caller_hangup");
    assert_eq!(call["call"]["agent_id"], anna.as_str());
    assert_eq!(call["call"]["contact_id"], contact["id"]);
    assert_eq!(call["call"]["deal_id"], deal["id"]);
    assert_eq!(call["call"]["reason"], "Invoice question");
    assert_eq!(call["call"]["disposition"], "sale");
    assert_eq!(call["call"]["notes"], "Wants three more licences");
    let events: Vec<(String, Value)> = call["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap_or("").to_owned(), e["detail"].clone()))
        .collect();
    assert!(events.iter().any(|(k, d)| k == "hold" && d["by"] == "agent"), "{events:?}");
    assert!(events.iter().any(|(k, d)| k == "resume" && d["by"] == "agent"), "{events:?}");
    assert!(
        events.iter().any(|(k, d)| k == "dtmf" && d["by"] == "agent" && d["digit"] == "5"),
        "the browser's key reached the relay: {events:?}"
    );
    assert!(
        events.iter().any(|(k, _)| k == "recording_paused")
            && events.iter().any(|(k, _)| k == "recording_resumed"),
        "{events:?}"
    );
    check_recording(&gw, &call_id).await;
    let timeline = gw
        .get(&gw.admin, &format!("/api/contacts/{}/timeline", contact["id"].as_str().unwrap()))
        .await;
    assert!(
        timeline.to_string().contains("sale") && timeline.to_string().contains("Invoice question"),
        "the contact's timeline shows the call's outcome: {timeline}"
    );
    driver.quit().await;
    gw.stop().await;
}

/// The recording of a call between a SIPp caller (1 kHz) and a browser agent (2 kHz, the
/// fake microphone): stereo, the caller's tone dominant on the left, the agent's on the right,
/// and the agent's pause silent on both.
async fn check_recording(gw: &Gateway, call_id: &str) {
    let call = eventually(Duration::from_secs(10), "the recording finished", || async {
        let call = gw.get(&gw.admin, &format!("/api/calls/{call_id}")).await;
        call["call"]["recording_duration_ms"].is_i64().then_some(call)
    })
    .await;
    let file = gw.recording_file(call_id).expect("the call's WAV file");
    let (left, right) = wav_channels(&file);
    assert_eq!(
        i64::try_from(left.len() / 8).unwrap(),
        call["call"]["recording_duration_ms"].as_i64().unwrap()
    );
    let tones = [1000.0, 2000.0];
    // Two seconds after the answer: both talking, nothing paused or held yet.
    assert_eq!(
        dominant(&left[8000..24000], &tones),
        Some(1000.0),
        "the caller is on the left channel"
    );
    assert_eq!(
        dominant(&right[8000..24000], &tones),
        Some(2000.0),
        "the browser agent is on the right channel"
    );
    // The pause: at least a second where both channels are silent.
    let mut run = 0usize;
    let mut longest = 0usize;
    for (l, r) in left.iter().zip(&right) {
        run = if *l == 0 && *r == 0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    assert!(longest >= 8000, "the paused stretch is silence: longest silent run {longest} samples");
}

/// An unknown number: the card offers to create a contact with the number filled in; the
/// agent creates it from the card while the call rings.
pub(crate) async fn unknown_caller_creates_contact_from_card() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let boris = browser_agent(&gw, "boris", "Boris Operator").await;
    gw.queue("100", &[&boris], json!({"ring_timeout_ms": 30000})).await;
    let Scene { scratch: _scratch, wav, caller_dir, mut driver } = Scene::new("browser-unknown");
    let agent = Agent::sign_in(&mut driver, &gw.base, "boris", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &agent).await;

    let mut run = caller("caller.xml", &caller_dir, &gw, "+79035551234");
    run.pause_ms = 2000;
    let sipp = run.spawn();

    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#card-unknown", "timeout": 15000})).await;
    let number = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "document.querySelector('#create-contact [name=phone]').value"})).await;
    assert_eq!(number, "+79035551234", "the number is filled in");
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#create-contact [name=first_name]", "value": "Olga"})).await;
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#create-contact [name=last_name]", "value": "Smirnova"})).await;
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#create-contact [name=deal]", "value": "New website"})).await;
    driver
        .must(json!({"cmd": "click", "agent": agent.name, "selector": "#create-contact-button"}))
        .await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#card .contact-name", "text": "Smirnova"})).await;
    let status = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "document.getElementById('call-status').dataset.status"})).await;
    assert_eq!(status, "ringing", "created while it still rings");

    let found = gw.get(&gw.admin, "/api/contacts?phone=%2B79035551234").await;
    assert_eq!(found["items"][0]["last_name"], "Smirnova", "{found}");
    // A callback scheduled from the card for a chosen time (tomorrow, 10:30 in the browser's zone).
    let tomorrow = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "(() => { const d = new Date(Date.now() + 86400000); const p = (n) => String(n).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:30`; })()"})).await;
    driver.must(json!({"cmd": "fill", "agent": agent.name, "selector": "#callback-due", "value": tomorrow})).await;
    driver
        .must(json!({"cmd": "click", "agent": agent.name, "selector": "#schedule-callback-button"}))
        .await;
    driver
        .must(json!({"cmd": "wait", "agent": agent.name, "selector": "#callback-scheduled"}))
        .await;
    let expected_due = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": &format!("new Date({tomorrow}).getTime()")})).await;
    let tasks = gw
        .get(
            &gw.admin,
            &format!("/api/tasks?contact_id={}", found["items"][0]["id"].as_str().unwrap()),
        )
        .await;
    let callback = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["callback"] == true)
        .cloned()
        .unwrap_or_else(|| panic!("no callback task: {tasks}"));
    assert_eq!(
        (callback["phone_e164"].as_str(), callback["kind"].as_str()),
        (Some("+79035551234"), Some("call"))
    );
    assert_eq!(callback["due_at"], expected_due, "due at the chosen time");
    assert_eq!(callback["assignee_id"], boris.as_str());
    let deals = gw
        .get(
            &gw.admin,
            &format!("/api/deals?contact_id={}", found["items"][0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(deals["items"][0]["title"], "New website", "{deals}");

    driver.must(json!({"cmd": "click", "agent": agent.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(sipp.wait(Duration::from_secs(20)).await, "the SIPp caller completed its call");
    driver.quit().await;
    gw.stop().await;
}

/// Ring-all to two browser agents with a number two contacts share: both see both contacts
/// while it rings; the first to answer wins and the other's card is withdrawn; the winner
/// picks the second contact, then hangs up from the page and the caller gets the BYE.
pub(crate) async fn ring_all_first_answer_wins_and_agent_hangs_up() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    let boris = browser_agent(&gw, "boris", "Boris Operator").await;
    gw.queue("100", &[&anna, &boris], json!({"strategy": "ring_all", "ring_timeout_ms": 30000}))
        .await;
    gw.post(
        &gw.admin,
        "/api/contacts",
        json!({"first_name": "Petr", "last_name": "Ivanov", "phones": ["+79161234567"]}),
    )
    .await;
    let elena = gw.post(&gw.admin, "/api/contacts", json!({"first_name": "Elena", "last_name": "Ivanova", "phones": ["8 (916) 123-45-67"], "force": true})).await;

    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-ring-all");
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    let b = Agent::sign_in(&mut driver, &gw.base, "boris", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    go_available(&mut driver, &b).await;

    let run = caller("caller_waits.xml", &caller_dir, &gw, "+79161234567");
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();

    for agent in [&a, &b] {
        driver.must(json!({"cmd": "wait", "agent": agent.name, "selector": "#card-several", "timeout": 15000})).await;
        let names = driver.must(json!({"cmd": "eval", "agent": agent.name, "js": "[...document.querySelectorAll('#card .contact-name')].map((e) => e.textContent).sort()"})).await;
        assert_eq!(
            names,
            json!(["Ivanov Petr", "Ivanova Elena"]),
            "{}: both contacts to pick from",
            agent.name
        );
    }
    driver.must(json!({"cmd": "click", "agent": b.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": b.name, "selector": "#call-status[data-status=connected]"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#card-withdrawn"})).await;
    let status = driver.must(json!({"cmd": "eval", "agent": a.name, "js": "[document.getElementById('call-status').dataset.status, document.getElementById('answer').hidden]"})).await;
    assert_eq!(status, json!(["idle", true]), "the other agent's card and answer button are gone");

    // The winner picks the second contact.
    driver
        .must(json!({"cmd": "eval", "agent": b.name, "js": "[...document.querySelectorAll('#card .contact')].find((e) => e.querySelector('.contact-name').textContent === 'Ivanova Elena').click()"}))
        .await;
    let picked = driver.must(json!({"cmd": "eval", "agent": b.name, "js": "document.querySelector('#card .contact.picked .contact-name').textContent"})).await;
    assert_eq!(picked, "Ivanova Elena");

    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    driver.must(json!({"cmd": "click", "agent": b.name, "selector": "#hangup"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": b.name, "selector": "#call-status[data-status=ended]"}),
        )
        .await;
    assert!(sipp.wait(Duration::from_secs(15)).await, "the caller got the agent's BYE");
    assert_tone(
        &audio_to(&capture.stop().await, media_port),
        2000.0,
        "the caller heard the winning agent",
    );
    // The form links the contact the agent picked (with two matches the call had none).
    driver.must(json!({"cmd": "click", "agent": b.name, "selector": "#form-save"})).await;
    driver.must(json!({"cmd": "wait", "agent": b.name, "selector": "#form-saved"})).await;
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(call["call"]["end_reason"], "agent_hangup");
    assert_eq!(call["call"]["agent_id"], boris.as_str());
    assert_eq!(call["call"]["contact_id"], elena["id"]);
    assert_eq!(call["call"]["disposition"], "resolved");
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"taken_by_other"), "{kinds:?}");
    driver.quit().await;
    gw.stop().await;
}

/// The agent's WebSocket drops while available and again during a call: the console
/// reconnects by itself, a call still rings there with its card, and after the second drop the
/// console resumes the connected call (and can hang it up) while audio keeps flowing. Due
/// tasks are pushed (once). Then the softphone's connection drops: the agent is paused as
/// `connection_lost` until the console has made a new one.
pub(crate) async fn websocket_reconnects_and_resumes() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    gw.post(
        &gw.admin,
        "/api/contacts",
        json!({"first_name": "Petr", "last_name": "Ivanov", "phones": ["+79161234567"]}),
    )
    .await;
    let Scene { scratch: _scratch, wav, caller_dir, mut driver } = Scene::new("browser-reconnect");
    let overdue = epoch_ms() - 60_000;
    gw.post(
        &gw.admin,
        "/api/tasks",
        json!({"subject": "Call back Ivanov", "assignee_id": anna, "due_at": overdue}),
    )
    .await;
    gw.post(
        &gw.admin,
        "/api/tasks",
        json!({"subject": "Not yet", "assignee_id": anna, "due_at": overdue + 86_400_000}),
    )
    .await;
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    // The live events include the agent's tasks that are due.
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#tasks-due .task-due", "text": "Call back Ivanov"})).await;

    let reconnect = async |driver: &mut Driver| {
        let before = driver.must(json!({"cmd": "eval", "agent": a.name, "js": "(() => { const s = window.switchboard.socket; s.close(); return s.url; })()"})).await;
        assert!(before.as_str().unwrap().ends_with("/api/agent/ws"));
        driver.must(json!({"cmd": "eval", "agent": a.name, "js": "new Promise((resolve, reject) => { const t0 = Date.now(); const tick = () => { const s = window.switchboard.socket; if (s.readyState === 1) resolve(true); else if (Date.now() - t0 > 10000) reject(new Error('no reconnect')); else setTimeout(tick, 50); }; setTimeout(tick, 100); })"})).await;
    };
    reconnect(&mut driver).await;
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]"}))
        .await;
    driver
        .must(
            json!({"cmd": "wait", "agent": a.name, "selector": "#softphone[data-state=connected]"}),
        )
        .await;
    let due = driver.must(json!({"cmd": "eval", "agent": a.name, "js": "[...document.querySelectorAll('#tasks-due .task-due')].map((e) => e.textContent.split(' · ')[0])"})).await;
    assert_eq!(
        due,
        json!(["Call back Ivanov"]),
        "only the due task, once, after the reconnect too"
    );

    let run = caller("caller_waits.xml", &caller_dir, &gw, "89161234567");
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#card .contact-name", "text": "Ivanov"})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]"})).await;

    reconnect(&mut driver).await;
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=on_call]"}))
        .await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#card .contact-name", "text": "Ivanov"})).await;
    let first = inbound_stats(&mut driver, &a).await["packets"].as_u64().unwrap_or(0);
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = inbound_stats(&mut driver, &a).await["packets"].as_u64().unwrap_or(0);
    assert!(
        second > first + 20,
        "audio keeps flowing across the reconnect ({first} -> {second} packets)"
    );
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#hangup"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]"}),
        )
        .await;
    assert!(sipp.wait(Duration::from_secs(15)).await, "the caller got the agent's BYE");

    // The softphone's connection drops (the browser side closes it): the gateway notices,
    // the agent is paused as connection_lost instead of being offered calls, the console
    // makes a new connection by itself and the agent is available again.
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#go-available"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]"}))
        .await;
    driver.must(json!({"cmd": "eval", "agent": a.name, "js": "window.switchboard.softphone.pc.close()"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=paused]", "text": "connection lost", "timeout": 45000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#softphone[data-state=connected]", "timeout": 30000})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#state[data-state=available]", "timeout": 30000})).await;
    driver.quit().await;
    gw.stop().await;
}

/// Blind transfer to a second browser agent: the first agent's call ends in their page, the
/// second is rung with the card, answers, and the caller now hears the second agent (440 Hz)
/// while the second agent hears the caller.
pub(crate) async fn transfer_to_a_second_browser_agent_keeps_audio_flowing() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    let boris = browser_agent(&gw, "boris", "Boris Operator").await;
    gw.queue("100", &[&anna, &boris], json!({"ring_timeout_ms": 30000})).await;
    gw.post(
        &gw.admin,
        "/api/contacts",
        json!({"first_name": "Petr", "last_name": "Ivanov", "phones": ["+79161234567"]}),
    )
    .await;
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-transfer");
    let wav_440 = tone_wav(&scratch.0.join("agent-440.wav"), 440.0);
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let run = caller("caller_waits.xml", &caller_dir, &gw, "+79161234567");
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let sipp = run.spawn();
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#card .contact-name", "text": "Ivanov"})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]"})).await;
    // Boris comes online while Anna talks, then Anna hands the call to him.
    let b = Agent::sign_in(&mut driver, &gw.base, "boris", AGENT_PASSWORD, &wav_440).await;
    go_available(&mut driver, &b).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(1)).await;
    driver.must(json!({"cmd": "eval", "agent": a.name, "js": format!("document.getElementById('transfer-target').value = 'agent:{boris}'")})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#transfer"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]"}),
        )
        .await;
    driver.must(json!({"cmd": "wait", "agent": b.name, "selector": "#card .contact-name", "text": "Ivanov"})).await;
    driver.must(json!({"cmd": "click", "agent": b.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": b.name, "selector": "#call-status[data-status=connected]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = inbound_stats(&mut driver, &b).await;
    assert!(
        stats["packets"].as_u64().unwrap_or(0) > 50
            && stats["audioLevel"].as_f64().unwrap_or(0.0) > 0.01,
        "the second agent hears the caller: {stats}"
    );
    driver.must(json!({"cmd": "click", "agent": b.name, "selector": "#hangup"})).await;
    assert!(sipp.wait(Duration::from_secs(15)).await, "the caller got the second agent's BYE");
    assert_tone(
        &audio_to(&capture.stop().await, media_port),
        440.0,
        "after the transfer the caller hears the second agent",
    );
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(call["call"]["agent_id"], boris.as_str());
    assert_eq!(call["call"]["end_reason"], "agent_hangup");
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"transferred"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "answered").count(), 2, "{kinds:?}");
    driver.quit().await;
    gw.stop().await;
}

/// Click-to-call from the console: the customer is called through the PBX (SIPp, which
/// challenges with 401) straight from the browser's softphone; both hear each other and the
/// customer's hang-up ends the call in the page.
pub(crate) async fn click_to_call_from_the_browser() {
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-dial");
    let pbx = SippRun {
        pause_ms: 4000,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &caller_dir)
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({})).await;
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let capture = Capture::start(&scratch.0, &[pbx.media_port]).await;
    let pbx_media = pbx.media_port;
    let pbx_port = pbx.port;
    let pbx = pbx.spawn();
    crate::harness::wait_udp_bound(pbx_port).await;

    // A callback due now, pushed to the console: one click calls the number back.
    let task = gw.post(&gw.admin, "/api/tasks", json!({"subject": "Call back", "callback_phone": "8 (916) 555-01-02", "due_at": epoch_ms() - 1000, "assignee_id": anna})).await;
    let task_id = task["id"].as_str().unwrap().to_owned();
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": &format!("#task-{task_id} .call-back"), "timeout": 20000})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": &format!("#task-{task_id} .call-back")})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats = inbound_stats(&mut driver, &a).await;
    assert!(
        stats["packets"].as_u64().unwrap_or(0) > 50
            && stats["audioLevel"].as_f64().unwrap_or(0.0) > 0.01,
        "the agent hears the customer: {stats}"
    );
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]", "timeout": 20000})).await;
    assert!(
        pbx.wait(Duration::from_secs(20)).await,
        "the PBX saw an authenticated INVITE and the customer hung up"
    );
    assert_tone(
        &audio_to(&capture.stop().await, pbx_media),
        2000.0,
        "the customer hears the browser agent",
    );
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(
        (call["call"]["direction"].as_str(), call["call"]["to_e164"].as_str()),
        (Some("outbound"), Some("+79165550102"))
    );
    assert_eq!(
        call["call"]["task_id"],
        task_id.as_str(),
        "the call is linked to its callback task"
    );
    // Completing the task from the console records its result.
    driver.must(json!({"cmd": "fill", "agent": a.name, "selector": &format!("#task-{task_id} .task-result"), "value": "Reached, order confirmed"})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": &format!("#task-{task_id} .task-done")})).await;
    let t = eventually(Duration::from_secs(10), "the task completed", || async {
        let t = gw.get(&gw.admin, &format!("/api/tasks/{task_id}")).await;
        (t["status"] == "done").then_some(t)
    })
    .await;
    assert_eq!(t["result"], "Reached, order confirmed");
    assert_eq!(call["call"]["agent_id"], anna.as_str());
    assert_eq!(call["call"]["end_reason"], "caller_hangup");
    driver.quit().await;
    gw.stop().await;
}

/// Blind transfer to a number: the call leaves the call center through the PBX (SIPp, which
/// challenges with 401 and answers playing 440 Hz); the caller then hears the number, and when
/// it hangs up the caller gets the BYE.
pub(crate) async fn transfer_to_a_number_through_the_pbx() {
    let Scene { scratch, wav, caller_dir, mut driver } = Scene::new("browser-transfer-number");
    let pbx = SippRun {
        pause_ms: 4000,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &scratch.tone_dir("target", 440.0))
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let anna = browser_agent(&gw, "anna", "Anna Operator").await;
    gw.queue("100", &[&anna], json!({"ring_timeout_ms": 30000})).await;
    let a = Agent::sign_in(&mut driver, &gw.base, "anna", AGENT_PASSWORD, &wav).await;
    go_available(&mut driver, &a).await;
    let run = caller("caller_waits.xml", &caller_dir, &gw, "+79161234567");
    let capture = Capture::start(&scratch.0, &[run.media_port]).await;
    let media_port = run.media_port;
    let (pbx, sipp) = (pbx.spawn(), run.spawn());
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ringing]"})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#answer"})).await;
    driver.must(json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=connected]"})).await;
    // A deliberate window (audio to flow, packets to count).
    tokio::time::sleep(Duration::from_secs(1)).await;
    driver.must(json!({"cmd": "fill", "agent": a.name, "selector": "#transfer-number", "value": "8 (495) 111-22-33"})).await;
    driver.must(json!({"cmd": "click", "agent": a.name, "selector": "#transfer"})).await;
    driver
        .must(
            json!({"cmd": "wait", "agent": a.name, "selector": "#call-status[data-status=ended]"}),
        )
        .await;
    assert!(
        pbx.wait(Duration::from_secs(30)).await,
        "the PBX saw an authenticated INVITE for the number, answered, and hung up"
    );
    assert!(
        sipp.wait(Duration::from_secs(15)).await,
        "the caller got the BYE when the number hung up"
    );
    assert_tone(
        &audio_to(&capture.stop().await, media_port),
        440.0,
        "after the transfer the caller hears the number",
    );
    let calls = gw.get(&gw.admin, "/api/calls").await;
    let call = gw.wait_call_ended(calls["items"][0]["id"].as_str().unwrap()).await;
    assert_eq!(call["call"]["end_reason"], "transfer_target_hangup");
    let transferred = call["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "transferred")
        .cloned()
        .unwrap_or_default();
    assert_eq!(transferred["detail"]["to_number"], "+74951112233", "{call}");
    driver.quit().await;
    gw.stop().await;
}
