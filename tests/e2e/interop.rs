//! Interop with other SIP software: Kamailio as a proxy and registrar in front of the gateway,
//! baresip as an agent's desk phone registered as an extension.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Baresip, Capture, Gateway, GatewayOptions, Kamailio, SERIAL, Scratch, SippRun, assert_tone,
    audio_to, eventually, free_port_pair,
};
use crate::sip_calls::newest_call;

/// Kamailio stands in front of the gateway as a carrier's proxy would. The gateway registers
/// its account with Kamailio (digest), so a call to the account's user reaches it through
/// Kamailio's location table; a call to `100` is relayed to it with the Request-URI still
/// naming Kamailio. Kamailio record-routes both: the gateway echoes the Record-Route, the
/// caller's ACK and BYE come through Kamailio, and so does the gateway's own BYE when the
/// agent hangs up. A third call goes over TCP on both legs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kamailio_in_front_relays_calls_and_takes_the_gateways_registration() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("kamailio");
    let gw_port = free_port_pair();
    let kamailio =
        Kamailio::start(&dir.0, ([127, 0, 0, 1], gw_port).into(), "100", &[("gw", "kam-secret")])
            .await;
    // No trunk allows 127.0.0.1: calls are admitted only as the account's, from its registrar.
    let gw = Gateway::start(GatewayOptions {
        trunk_allow: vec!["10.9.9.9".into()],
        registrations: vec![(
            "kamailio".into(),
            format!("sip:{}", kamailio.addr()),
            "kam-secret".into(),
            120,
        )],
        sip_port: Some(gw_port),
        ..GatewayOptions::default()
    })
    .await;
    let reg = eventually(Duration::from_secs(15), "registered with Kamailio", || async {
        let status = gw.get(&gw.admin, "/api/telephony/status").await;
        let reg = status["registrations"][0].clone();
        (reg["state"] == "registered").then_some(reg)
    })
    .await;
    assert_eq!(reg["last_code"], 200, "{reg}");
    let log = kamailio.log();
    assert!(log.contains("REPLY 401") || log.contains("REQ REGISTER"), "{log}");

    let agent_dir = dir.tone_dir("agent", 2000.0);
    let phone = SippRun { pause_ms: 300, ..SippRun::new("agent.xml", &agent_dir) };
    let (agent_id, agent) = gw.agent("kira", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&agent_id], json!({})).await;
    gw.available(&agent).await;

    // 1. To the account's user, found in Kamailio's location table; the caller hangs up.
    let caller_dir = dir.tone_dir("caller", 1000.0);
    let caller = SippRun {
        remote: Some(kamailio.addr()),
        service: Some("gw".into()),
        pause_ms: 3000,
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller_proxied.xml", &caller_dir)
    };
    let capture = Capture::start(&dir.0, &[caller.media_port, phone.media_port]).await;
    let (caller_media, phone_media, phone_port) = (caller.media_port, phone.media_port, phone.port);
    let phone = phone.spawn();
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "the call through Kamailio is answered; ACK and BYE follow the route set:\n{}",
        kamailio.log()
    );
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's phone gets the BYE");
    let packets = capture.stop().await;
    assert_tone(&audio_to(&packets, phone_media), 1000.0, "the caller at the agent's phone");
    assert_tone(&audio_to(&packets, caller_media), 2000.0, "the agent at the caller");
    let first = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(first["call"]["origin"], "kamailio", "{first}");
    assert_eq!(first["call"]["end_reason"], "caller_hangup", "{first}");
    assert_eq!(first["call"]["from_e164"], "+79161234567");

    // 2. To `100`, relayed by Kamailio with its own Request-URI; the agent hangs up, and the
    // gateway's BYE must go through Kamailio (the caller is reachable only by the route set).
    until_available(&gw, &agent).await;
    let phone = SippRun {
        port: phone_port,
        pause_ms: 100,
        ..SippRun::new("agent_hangs_up.xml", &agent_dir)
    };
    let caller = SippRun {
        remote: Some(kamailio.addr()),
        service: Some("100".into()),
        keys: vec![("caller", "89162222222".into())],
        ..SippRun::new("caller_proxied_waits.xml", &caller_dir)
    };
    let phone = phone.spawn();
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "the caller gets the gateway's BYE through Kamailio:\n{}",
        kamailio.log()
    );
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's BYE is answered");
    let second = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(second["call"]["end_reason"], "agent_hangup", "{second}");
    assert_eq!(second["call"]["from_e164"], "+79162222222");

    // 3. The same over TCP end to end: the caller to Kamailio, Kamailio to the gateway; the
    // gateway's BYE goes back on the connection Kamailio opened.
    until_available(&gw, &agent).await;
    let phone = SippRun {
        port: phone_port,
        pause_ms: 100,
        ..SippRun::new("agent_hangs_up.xml", &agent_dir)
    };
    let caller = SippRun {
        remote: Some(kamailio.addr()),
        service: Some("100".into()),
        transport: "t1",
        keys: vec![("caller", "89163333333".into())],
        ..SippRun::new("caller_proxied_waits.xml", &caller_dir)
    };
    let phone = phone.spawn();
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "over TCP, the caller gets the gateway's BYE through Kamailio:\n{}",
        kamailio.log()
    );
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's BYE is answered");
    let third = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(third["call"]["end_reason"], "agent_hangup", "{third}");
    assert_eq!(third["call"]["from_e164"], "+79163333333");

    // What Kamailio saw: every ACK and BYE was loose-routed through it, and the third call
    // reached the gateway over TCP.
    let log = kamailio.log();
    let routed = |method: &str| log.matches(&format!("ROUTED {method} ")).count();
    assert!(
        routed("ACK") >= 3 && routed("BYE") >= 3,
        "in-dialog requests through Kamailio:\n{log}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("REPLY 200 for INVITE") && l.contains(&format!(":{gw_port}"))),
        "the gateway answered through Kamailio:\n{log}"
    );
    gw.stop().await;
}

/// baresip, a real softphone, registers as an agent's extension with digest auth and answers
/// a queue call by itself: the caller hears its tone and it hears the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_registers_as_an_extension_and_answers_a_queue_call() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("baresip");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let user = gw
        .post(
            &gw.admin,
            "/api/users",
            json!({"login": "lev", "name": "Lev", "role": "operator", "password": crate::harness::AGENT_PASSWORD}),
        )
        .await;
    let agent_id = user["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = gw
        .put(
            &gw.admin,
            &format!("/api/users/{agent_id}/sip"),
            json!({"extension": "201", "password": "bare-pass-201"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let baresip = Baresip::start(
        &dir.0,
        &format!("<sip:201@{}>;auth_pass=bare-pass-201;regint=120", gw.sip),
        2000.0,
    );
    let contact = eventually(Duration::from_secs(15), "baresip registered", || async {
        let status = gw.get(&gw.admin, "/api/telephony/status").await;
        status["extensions"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["extension"] == "201"))
            .and_then(|x| x["contact"].as_str().map(str::to_owned))
    })
    .await;
    assert!(
        contact.contains(&format!("127.0.0.1:{}", baresip.port)),
        "its Contact: {contact}\n{}",
        baresip.log()
    );

    gw.queue("100", &[&agent_id], json!({})).await;
    let agent = crate::harness::login(&gw.base, "lev", crate::harness::AGENT_PASSWORD).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 3000,
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let capture = Capture::start(&dir.0, &[caller.media_port]).await;
    let caller_media = caller.media_port;
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "baresip answers the queue call:\n{}",
        baresip.log()
    );
    let packets = capture.stop().await;
    assert_tone(&audio_to(&packets, caller_media), 2000.0, "baresip's tone at the caller");
    let heard = eventually(Duration::from_secs(10), "baresip's recording", || async {
        let heard = baresip.heard();
        (heard.len() >= 8000).then_some(heard)
    })
    .await;
    assert_tone(&heard, 1000.0, "the caller's tone at baresip");
    let call = gw.wait_call_ended(&newest_call(&gw).await).await;
    assert_eq!(call["call"]["agent_id"], agent_id.as_str(), "{call}");
    assert_eq!(call["call"]["end_reason"], "caller_hangup", "{call}");
    assert!(call["call"]["talk_ms"].as_i64().unwrap_or(0) >= 2500, "{call}");
    gw.stop().await;
}

/// Waits (bounded) until the agent is available again after a call's wrap-up.
async fn until_available(gw: &Gateway, agent: &reqwest::Client) {
    eventually(Duration::from_secs(15), "the agent available again", || async {
        let state: Value = agent
            .get(format!("{}/api/agent/state", gw.base))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (state["state"] == "available").then_some(())
    })
    .await;
}
