//! Routing by what the CRM knows, with real peers: a caller whose contact has an owner rings
//! that owner's desk phone first (not the agent who has waited longest), and a VIP caller is
//! answered before a caller who was waiting longer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Capture, Datagram, Gateway, GatewayOptions, SERIAL, Scratch, SippRun};
use crate::sip_calls::kinds;

/// A contact with this number, owner and custom fields.
async fn contact(gw: &Gateway, number: &str, owner: Option<&str>, custom: Value) {
    gw.post(
        &gw.admin,
        "/api/contacts",
        json!({"first_name": "Иван", "last_name": "Петров", "phones": [{"number": number}],
               "owner_id": owner, "custom": custom}),
    )
    .await;
}

/// The calls of the log, oldest first.
async fn calls(gw: &Gateway, count: usize) -> Vec<Value> {
    crate::harness::eventually(Duration::from_secs(15), "the calls ended", || async {
        let page = gw.get(&gw.admin, "/api/calls?per_page=10").await;
        let items = page["items"].as_array()?.clone();
        (items.len() == count && items.iter().all(|c| !c["ended_at"].is_null()))
            .then(|| items.into_iter().rev().collect())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_with_an_owner_rings_the_owner_first() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("owner-first");
    let gw = Gateway::start(GatewayOptions::default()).await;
    // Anna has been free longest; her phone's port has no phone behind it (it must not ring).
    let anna_port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (anna_id, anna) = gw.agent("anna", ([127, 0, 0, 1], anna_port).into()).await;
    let boris_phone =
        SippRun { pause_ms: 300, ..SippRun::new("agent.xml", &dir.tone_dir("boris", 2000.0)) };
    let (boris_id, boris) = gw.agent("boris", ([127, 0, 0, 1], boris_phone.port).into()).await;
    gw.queue("100", &[&anna_id, &boris_id], json!({"owner_first_s": 15})).await;
    gw.available(&anna).await;
    gw.available(&boris).await;
    contact(&gw, "+79161234567", Some(&boris_id), json!({})).await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 1500,
        keys: vec![("caller", "89161234567".into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let boris_port = boris_phone.port;
    let capture = Capture::start(&dir.0, &[anna_port, boris_port]).await;
    let phone = boris_phone.spawn();
    let caller = caller.spawn();
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller's scenario passes");
    assert!(phone.wait(Duration::from_secs(10)).await, "the owner's phone answered");
    let packets = capture.stop().await;
    let invites_to = |port: u16| {
        packets
            .iter()
            .filter(|d: &&Datagram| d.dst_port == port && d.payload.starts_with(b"INVITE "))
            .count()
    };
    assert_eq!(invites_to(anna_port), 0, "the agent free longest is not rung");
    assert!(invites_to(boris_port) >= 1, "the owner's phone is");
    let call = &calls(&gw, 1).await[0];
    assert_eq!(call["agent_id"], boris_id.as_str());
    let id = call["id"].as_str().unwrap();
    let full = gw.get(&gw.admin, &format!("/api/calls/{id}")).await;
    assert!(kinds(&full).contains(&"routed".to_owned()), "{:?}", kinds(&full));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vip_caller_is_answered_before_a_caller_who_waited_longer() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("vip");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone = SippRun {
        pause_ms: 300,
        calls: 2,
        ..SippRun::new("agent.xml", &dir.tone_dir("anna", 2000.0))
    };
    let (anna_id, anna) = gw.agent("anna", ([127, 0, 0, 1], phone.port).into()).await;
    gw.queue("100", &[&anna_id], json!({"vip_field": "vip"})).await;
    gw.post(
        &gw.admin,
        "/api/custom-fields",
        json!({"entity": "contact", "key": "vip", "label": "VIP", "field_type": "text"}),
    )
    .await;
    contact(&gw, "+79161234567", None, json!({"vip": "да"})).await;
    contact(&gw, "+79031112233", None, json!({})).await;

    let caller = |name: &str, number: &str| SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 1000,
        keys: vec![("caller", number.into())],
        ..SippRun::new("caller.xml", &dir.tone_dir(name, 1000.0))
    };
    let phone = phone.spawn();
    // Nobody is available: the ordinary caller comes first, the VIP a second later.
    let ordinary = caller("ordinary", "89031112233").spawn();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let vip = caller("vip", "89161234567").spawn();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Rung at once: the answer already says "ringing".
    let (status, _) = gw.put(&anna, "/api/agent/state", json!({"state": "available"})).await;
    assert_eq!(status, 200);
    assert!(vip.wait(Duration::from_secs(30)).await, "the VIP's call passes");
    assert!(ordinary.wait(Duration::from_secs(30)).await, "the other caller's too");
    assert!(phone.wait(Duration::from_secs(10)).await, "anna's phone took both");
    let calls = calls(&gw, 2).await;
    let (first, second) = (&calls[0], &calls[1]);
    assert_eq!(first["from_e164"], "+79031112233", "the ordinary caller came first");
    assert_eq!(second["from_e164"], "+79161234567");
    let answered = |c: &Value| c["answered_at"].as_i64().expect("answered");
    assert!(answered(second) < answered(first), "the VIP was answered first: {calls:?}");
    assert!(first["wait_ms"].as_i64().unwrap() > second["wait_ms"].as_i64().unwrap());
    gw.stop().await;
}
