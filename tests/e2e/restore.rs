//! A restart puts desk-phone agents back: the gateway runs as its own process; an agent on a
//! fixed SIP URI is available, another paused for lunch, a third's phone registered as
//! extension 101, a fourth's extension 102 never registered. After `kill -9` and a restart,
//! the first three are back as they were (the registration was kept across the restart) and
//! the status API lists them; the fourth is offline.

use std::net::TcpListener;
use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use switchboard_store::now_ms;
use tokio::net::UdpSocket;

use crate::extensions::{authorization, exchange, register, status_of};
use crate::harness::{
    ADMIN_PASSWORD, AGENT_PASSWORD, Process, SERIAL, Scratch, free_port_pair, login, until,
    wait_healthy,
};

async fn agent(admin: &Client, base: &str, name: &str, sip: Value) -> String {
    let user: Value = admin
        .post(format!("{base}/api/users"))
        .json(&json!({"login": name, "name": name, "role": "operator", "password": AGENT_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = user["user"]["id"].as_str().unwrap().to_owned();
    let res = admin.put(format!("{base}/api/users/{id}/sip")).json(&sip).send().await.unwrap();
    assert_eq!(res.status(), 200, "{name}");
    id
}

async fn state_of(base: &str, name: &str) -> Value {
    let client = login(base, name, AGENT_PASSWORD).await;
    client.get(format!("{base}/api/agent/state")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_phone_agents_come_back_after_a_restart() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("restore");
    let http = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sip = free_port_pair();
    let gw: std::net::SocketAddr = ([127, 0, 0, 1], sip).into();
    let base = format!("http://127.0.0.1:{http}");
    let mut server = Process::start(crate::BIN, &dir.0, http, sip, 1, &[]);
    wait_healthy(&base).await;
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let ids = [
        agent(&admin, &base, "fixed", json!({"uri": "sip:fixed@127.0.0.1:5999"})).await,
        agent(&admin, &base, "lunch", json!({"uri": "sip:lunch@127.0.0.1:5998"})).await,
        agent(&admin, &base, "ext", json!({"extension": "101", "password": "ext-pass-1"})).await,
        agent(&admin, &base, "unreg", json!({"extension": "102", "password": "ext-pass-2"})).await,
    ];
    let res = admin
        .post(format!("{base}/api/queues"))
        .json(&json!({"name": "support", "number": "100", "members": ids}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    // Extension 101's phone registers (digest).
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = socket.local_addr().unwrap();
    let challenge = exchange(&socket, gw, &register(gw, me, 5997, 1, None)).await;
    let ok = exchange(
        &socket,
        gw,
        &register(gw, me, 5997, 2, Some(authorization(&challenge, gw, "ext-pass-1"))),
    )
    .await;
    assert_eq!(status_of(&ok), 200, "{ok}");
    for (name, state) in [
        ("fixed", json!({"state": "available"})),
        ("lunch", json!({"state": "available"})),
        ("ext", json!({"state": "available"})),
        ("unreg", json!({"state": "available"})),
    ] {
        let client = login(&base, name, AGENT_PASSWORD).await;
        let res = client.put(format!("{base}/api/agent/state")).json(&state).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name}");
    }
    let lunch = login(&base, "lunch", AGENT_PASSWORD).await;
    let res = lunch
        .put(format!("{base}/api/agent/state"))
        .json(&json!({"state": "paused", "reason": "lunch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The binding and the states reach the store through the ordered call log: read the
    // gateway's SQLite file beside it until they are there.
    let db = format!("sqlite://{}", dir.0.join("data/switchboard.db").display());
    let store = switchboard_store::Store::connect(&db, 1).await.unwrap();
    until(Duration::from_secs(10), "the binding and four agent states stored", || async {
        let bound = store.live_sip_bindings(now_ms()).await.unwrap_or_default();
        let states = store.open_agent_states().await.unwrap_or_default();
        let lunch = states
            .iter()
            .any(|(_, state, reason)| state == "paused" && reason.as_deref() == Some("lunch"));
        let taking_calls = states.iter().filter(|(_, state, _)| state != "offline").count();
        bound.iter().any(|(ext, _, _)| ext == "101") && taking_calls == 4 && lunch
    })
    .await;
    store.close().await;

    server.kill9();
    let _server = Process::start(crate::BIN, &dir.0, http, sip, 2, &[]);
    wait_healthy(&base).await;
    assert_eq!(state_of(&base, "fixed").await["state"], "available");
    let lunch = state_of(&base, "lunch").await;
    assert_eq!(
        (lunch["state"].as_str(), lunch["reason"].as_str()),
        (Some("paused"), Some("lunch")),
        "paused stays paused: {lunch}"
    );
    assert_eq!(state_of(&base, "ext").await["state"], "available", "a phone still registered");
    assert_eq!(state_of(&base, "unreg").await["state"], "offline", "a phone that never registered");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let status: Value = admin
        .get(format!("{base}/api/telephony/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut restored: Vec<(String, String)> = status["restored_agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (a["user_id"].as_str().unwrap().to_owned(), a["state"].as_str().unwrap().to_owned())
        })
        .collect();
    restored.sort();
    let mut expected = vec![
        (ids[0].clone(), "available".to_owned()),
        (ids[1].clone(), "paused".to_owned()),
        (ids[2].clone(), "available".to_owned()),
    ];
    expected.sort();
    assert_eq!(restored, expected, "{status}");
    assert!(
        status["extensions"].as_array().unwrap().iter().any(|e| e["extension"] == "101"),
        "the registration survived: {status}"
    );
}
