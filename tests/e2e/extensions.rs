//! An agent's desk phone registers with the gateway as an extension (digest with qop=auth),
//! and the queue rings it at the Contact it registered.

use std::time::Duration;

use serde_json::json;
use switchboard_core::sip_digest;
use tokio::net::UdpSocket;

use crate::harness::{Gateway, GatewayOptions, SERIAL, Scratch, SippRun};

pub(crate) async fn exchange(socket: &UdpSocket, to: std::net::SocketAddr, text: &str) -> String {
    socket.send_to(text.replace('\n', "\r\n").as_bytes(), to).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let (n, _) = tokio::time::timeout(Duration::from_secs(3), socket.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

pub(crate) fn register(
    gw: std::net::SocketAddr,
    me: std::net::SocketAddr,
    phone: u16,
    cseq: u32,
    auth: Option<String>,
) -> String {
    let auth = auth.map(|a| format!("Authorization: {a}\n")).unwrap_or_default();
    format!(
        "REGISTER sip:{gw} SIP/2.0\nVia: SIP/2.0/UDP {me};branch=z9hG4bKreg{cseq}\nFrom: <sip:101@{gw}>;tag=phone1\nTo: <sip:101@{gw}>\nCall-ID: reg-101@test\nCSeq: {cseq} REGISTER\nContact: <sip:101@127.0.0.1:{phone}>\nExpires: 120\n{auth}Max-Forwards: 70\nContent-Length: 0\n\n"
    )
}

pub(crate) fn status_of(response: &str) -> u16 {
    response.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0)
}

pub(crate) fn authorization(challenge: &str, gw: std::net::SocketAddr, password: &str) -> String {
    let nonce =
        challenge.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).expect("a nonce");
    let uri = format!("sip:{gw}");
    let ha1 = sip_digest::ha1("101", sip_digest::SIP_REALM, password);
    let response =
        sip_digest::response(&ha1, nonce, "REGISTER", &uri, Some(("00000001", "c0ffee")));
    format!(
        "Digest username=\"101\", realm=\"{}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"",
        sip_digest::SIP_REALM
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_extension_is_rung_at_its_contact() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("ext");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let user = gw.post(&gw.admin, "/api/users", json!({"login": "pavel", "name": "Pavel", "role": "operator", "password": crate::harness::AGENT_PASSWORD})).await;
    let agent_id = user["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = gw
        .put(
            &gw.admin,
            &format!("/api/users/{agent_id}/sip"),
            json!({"extension": "101", "password": "ext-pass-1"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("password").is_none() && body["extension"] == "101",
        "the password is never returned: {body}"
    );

    let phone =
        SippRun { pause_ms: 100, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = socket.local_addr().unwrap();
    // Unauthenticated: challenged. A wrong password: challenged again. The right one: bound.
    let challenge = exchange(&socket, gw.sip, &register(gw.sip, me, phone.port, 1, None)).await;
    assert_eq!(status_of(&challenge), 401, "{challenge}");
    let wrong = exchange(
        &socket,
        gw.sip,
        &register(
            gw.sip,
            me,
            phone.port,
            2,
            Some(authorization(&challenge, gw.sip, "not-the-password")),
        ),
    )
    .await;
    assert_eq!(status_of(&wrong), 401, "{wrong}");
    let ok = exchange(
        &socket,
        gw.sip,
        &register(gw.sip, me, phone.port, 3, Some(authorization(&wrong, gw.sip, "ext-pass-1"))),
    )
    .await;
    assert_eq!(status_of(&ok), 200, "{ok}");
    assert!(ok.contains("expires=120"), "the granted expiry is returned: {ok}");
    let status = gw.get(&gw.admin, "/api/telephony/status").await;
    assert_eq!(status["extensions"][0]["extension"], "101", "{status}");
    assert_eq!(status["extensions"][0]["contact"], format!("sip:101@127.0.0.1:{}", phone.port));

    gw.queue("100", &[&agent_id], json!({})).await;
    let agent = crate::harness::login(&gw.base, "pavel", crate::harness::AGENT_PASSWORD).await;
    gw.available(&agent).await;
    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 500,
        keys: vec![("caller", "79161234567".into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let phone = phone.spawn();
    assert!(
        caller.spawn().wait(Duration::from_secs(30)).await,
        "the call reaches the registered phone"
    );
    assert!(phone.wait(Duration::from_secs(10)).await);
    gw.stop().await;
}
