//! Click-to-call: the API asks; the gateway rings the agent's desk phone (SIPp), then the
//! customer through the PBX (SIPp, which challenges with 401 or 407), and bridges them.

use std::time::Duration;

use serde_json::json;

use crate::harness::{
    Capture, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, assert_tone, audio_to,
    wait_udp_bound,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_answers_then_customer_answers_after_a_401() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("c2c");
    let pbx = SippRun {
        pause_ms: 2500,
        keys: vec![("password", "pbx-secret".into())],
        ..SippRun::new("pbx_customer.xml", &dir.tone_dir("customer", 1000.0))
    };
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{digits}}@127.0.0.1:{}", pbx.port), "pbx-secret".into())),
        ..GatewayOptions::default()
    })
    .await;
    let phone =
        SippRun { pause_ms: 200, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (agent_id, agent) = gw.agent("irina", ([127, 0, 0, 1], phone.port).into()).await;
    let capture = Capture::start(&dir.0, &[pbx.media_port, phone.media_port]).await;
    let (pbx_media, phone_media) = (pbx.media_port, phone.media_port);
    let ports = (pbx.port, phone.port);
    let (pbx, phone) = (pbx.spawn(), phone.spawn());
    wait_udp_bound(ports.0).await;
    wait_udp_bound(ports.1).await;

    let res = agent
        .post(format!("{}/api/calls/dial", gw.base))
        .json(&json!({"number": "8 (916) 555-01-02"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let call_id =
        res.json::<serde_json::Value>().await.unwrap()["call_id"].as_str().unwrap().to_owned();
    assert!(
        pbx.wait(Duration::from_secs(30)).await,
        "the PBX saw a digest-authenticated INVITE, answered, and the customer hung up"
    );
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's phone got the BYE");
    let packets = capture.stop().await;
    let call = gw.wait_call_ended(&call_id).await;
    let c = &call["call"];
    assert_eq!(c["end_reason"], "caller_hangup", "the customer hung up: {call}");
    assert_tone(&audio_to(&packets, phone_media), 1000.0, "customer's voice at the agent's phone");
    assert_tone(&audio_to(&packets, pbx_media), 2000.0, "agent's voice at the customer");

    assert_eq!(c["direction"], "outbound");
    assert_eq!(c["to_e164"], "+79165550102");
    assert_eq!(c["agent_id"], agent_id);
    assert!(!c["answered_at"].is_null());
    let kinds: Vec<&str> =
        call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"dialing_agent") && kinds.contains(&"dialing_customer"), "{kinds:?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_customer_after_a_407_is_the_outcome_with_its_code() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("c2cbusy");
    let pbx = SippRun::new("pbx_busy.xml", &dir.tone_dir("customer", 1000.0));
    let gw = Gateway::start(GatewayOptions {
        outbound: Some((format!("sip:{{e164}}@127.0.0.1:{}", pbx.port), "x".into())),
        ..GatewayOptions::default()
    })
    .await;
    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (_, agent) = gw.agent("oleg", ([127, 0, 0, 1], phone.port).into()).await;
    let ports = (pbx.port, phone.port);
    let (pbx, phone) = (pbx.spawn(), phone.spawn());
    wait_udp_bound(ports.0).await;
    wait_udp_bound(ports.1).await;
    let res = agent
        .post(format!("{}/api/calls/dial", gw.base))
        .json(&json!({"number": "+7 916 5550103"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let call_id =
        res.json::<serde_json::Value>().await.unwrap()["call_id"].as_str().unwrap().to_owned();
    assert!(pbx.wait(Duration::from_secs(30)).await);
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent's phone is hung up");
    let call = gw.wait_call_ended(&call_id).await;
    assert_eq!(call["call"]["end_reason"], "busy");
    assert_eq!(call["call"]["sip_code"], 486);

    // A number that is not one: 422 naming the field, nothing dialled.
    let res = agent
        .post(format!("{}/api/calls/dial", gw.base))
        .json(&json!({"number": "call me maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["field"], "number");
    gw.stop().await;
}
