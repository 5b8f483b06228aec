//! Live listening with real peers: a SIPp caller (1 kHz) talks to an agent's SIPp desk phone
//! (2 kHz) while a supervisor on the wallboard's WebSocket, with a WebRTC peer of the same
//! crate a browser would meet (playing 440 Hz), listens, whispers and barges in. What each
//! side receives is captured and checked by frequency, phase by phase.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_media::tone::goertzel_power;
use switchboard_webrtc::WebrtcConfig;
use switchboard_webrtc::client::ClientOffer;

use crate::harness::{
    AGENT_PASSWORD, Capture, Gateway, GatewayOptions, SERIAL, Scratch, SippRun, Socket,
    audio_to_between, eventually,
};

fn epoch_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

/// Whether `hz` stands out in `samples` (a tenth of the power of `reference`, and audible).
fn has_tone(samples: &[i16], hz: f64, reference: f64) -> bool {
    let p = goertzel_power(samples, hz);
    p > 0.1 * goertzel_power(samples, reference) && p > 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_listens_whispers_and_barges_into_a_live_call() {
    let _serial = SERIAL.lock().await;
    let dir = Scratch::new("monitor");
    let gw = Gateway::start(GatewayOptions::default()).await;
    let phone =
        SippRun { pause_ms: 300, ..SippRun::new("agent.xml", &dir.tone_dir("agent", 2000.0)) };
    let (rita, agent) = gw.agent("rita", ([127, 0, 0, 1], phone.port).into()).await;
    let sam = gw.post(&gw.admin, "/api/users", json!({"login": "sam", "name": "Sam", "role": "supervisor", "password": AGENT_PASSWORD})).await["user"]["id"].as_str().unwrap().to_owned();
    gw.post(
        &gw.admin,
        "/api/users",
        json!({"login": "olga", "name": "Olga", "role": "supervisor", "password": AGENT_PASSWORD}),
    )
    .await;
    let team =
        gw.post(&gw.admin, "/api/teams", json!({"name": "Support", "supervisor_id": sam})).await;
    let res = gw
        .admin
        .patch(format!("{}/api/users/{rita}", gw.base))
        .json(&json!({"team_id": team["id"]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    gw.queue("100", &[&rita], json!({})).await;
    gw.available(&agent).await;

    let caller = SippRun {
        remote: Some(gw.sip),
        service: Some("100".into()),
        pause_ms: 16_000,
        keys: vec![("caller", "+79161234567".into())],
        ..SippRun::new("caller.xml", &dir.tone_dir("caller", 1000.0))
    };
    let (caller_port, phone_port) = (caller.media_port, phone.media_port);
    let capture = Capture::start(&dir.0, &[caller_port, phone_port]).await;
    let phone = phone.spawn();
    let caller = caller.spawn();

    // The call, once connected.
    let call_id = eventually(Duration::from_secs(15), "the call connected", || async {
        let status = gw.get(&gw.admin, "/api/telephony/status").await;
        status["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["user_id"] == rita.as_str() && a["state"]["state"] == "on_call")
            .map(|a| a["state"]["call_id"].as_str().unwrap().to_owned())
    })
    .await;

    // A supervisor of another team may not listen; ours may, once connected.
    let mut olga = Socket::open(&gw, "olga", "/api/wallboard/ws").await;
    olga.command(json!({"type": "listen", "call_id": call_id, "mode": "listen"}));
    assert!(olga.next("error").await["message"].as_str().unwrap().contains("may not listen"));
    let mut board = Socket::open(&gw, "sam", "/api/wallboard/ws").await;
    board.command(json!({"type": "listen", "call_id": call_id, "mode": "listen"}));
    assert!(board.next("error").await["message"].as_str().unwrap().contains("not up yet"));
    board.command(json!({"type": "listen", "call_id": "no-such-call", "mode": "listen"}));
    assert!(board.next("error").await["message"].as_str().unwrap().contains("no such call"));
    board.command(json!({"type": "listen", "call_id": call_id, "mode": "shout"}));
    assert!(board.next("error").await["message"].as_str().unwrap().contains("bad message"));

    let config = WebrtcConfig {
        ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        gather_timeout: Duration::from_secs(2),
    };
    let offer = ClientOffer::new(&config).await.unwrap();
    board.command(json!({"type": "offer", "sdp": offer.sdp}));
    let answer = board.next("answer").await["sdp"].as_str().unwrap().to_owned();
    let peer = offer.connect(answer, 440.0, Duration::from_secs(20)).await.unwrap();
    loop {
        if board.next("softphone").await["state"] == "connected" {
            break;
        }
    }

    // Listen: both sides, mixed; nobody hears the supervisor.
    board.command(json!({"type": "listen", "call_id": call_id, "mode": "listen"}));
    let on = board.next("listening").await;
    assert_eq!(
        (on["agent_id"].as_str(), on["mode"].as_str()),
        (Some(rita.as_str()), Some("listen"))
    );
    let listen = (epoch_ms() + 500, epoch_ms() + 2500);
    tokio::time::sleep(Duration::from_millis(2500)).await; // the audio window
    let heard = peer.heard.recent.lock().unwrap().clone();
    assert!(heard.len() >= 4000, "the supervisor receives audio: {} samples", heard.len());
    assert!(
        has_tone(&heard, 1000.0, 2000.0) && has_tone(&heard, 2000.0, 1000.0),
        "the supervisor hears the caller and the agent, mixed"
    );
    assert!(!has_tone(&heard, 440.0, 1000.0), "and not themselves");

    board.command(json!({"type": "listen", "call_id": call_id, "mode": "whisper"}));
    assert_eq!(board.next("listening").await["mode"], "whisper");
    let whisper = (epoch_ms() + 500, epoch_ms() + 2500);
    tokio::time::sleep(Duration::from_millis(2500)).await; // the audio window

    board.command(json!({"type": "listen", "call_id": call_id, "mode": "barge"}));
    assert_eq!(board.next("listening").await["mode"], "barge");
    let barge = (epoch_ms() + 500, epoch_ms() + 2500);
    tokio::time::sleep(Duration::from_millis(2500)).await; // the audio window

    board.command(json!({"type": "stop_listening"}));
    assert_eq!(board.next("stopped").await["reason"], "stopped");
    let after = (epoch_ms() + 500, epoch_ms() + 2000);
    tokio::time::sleep(Duration::from_millis(2000)).await; // the audio window

    // Back on the call until it ends: the wallboard is told.
    board.command(json!({"type": "listen", "call_id": call_id, "mode": "listen"}));
    board.next("listening").await;
    assert!(caller.wait(Duration::from_secs(30)).await, "the caller's scenario passes");
    assert!(phone.wait(Duration::from_secs(10)).await, "the agent phone's scenario passes");
    assert_eq!(board.next("stopped").await["reason"], "ended");
    peer.close().await;
    let datagrams = capture.stop().await;

    let to = |port: u16, (from, to): (i64, i64)| audio_to_between(&datagrams, port, from, to);
    let (caller_hears, agent_hears) = (to(caller_port, listen), to(phone_port, listen));
    assert!(caller_hears.len() > 8000 && agent_hears.len() > 8000, "audio flowed while listening");
    assert!(
        !has_tone(&caller_hears, 440.0, 2000.0) && !has_tone(&agent_hears, 440.0, 1000.0),
        "listening is silent to both sides"
    );
    assert!(has_tone(&to(phone_port, whisper), 440.0, 1000.0), "the agent hears the whisper");
    assert!(
        !has_tone(&to(caller_port, whisper), 440.0, 2000.0),
        "the caller does not hear the whisper"
    );
    assert!(
        has_tone(&to(phone_port, barge), 440.0, 1000.0)
            && has_tone(&to(caller_port, barge), 440.0, 2000.0),
        "both sides hear a barge"
    );
    assert!(
        !has_tone(&to(caller_port, after), 440.0, 2000.0)
            && !has_tone(&to(phone_port, after), 440.0, 1000.0),
        "nobody hears the supervisor after they left"
    );
    assert!(has_tone(&to(caller_port, after), 2000.0, 440.0), "the call itself went on");

    // Every step is audited, as the supervisor, against the call.
    let audit = gw
        .get(&gw.admin, &format!("/api/audit?entity_id={call_id}&action=call.&per_page=50"))
        .await;
    let mut actions: Vec<(String, Value)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e.clone()))
        .collect();
    actions.reverse();
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "call.listen",
            "call.whisper",
            "call.barge",
            "call.listen_stop",
            "call.listen",
            "call.listen_stop"
        ],
        "{audit}"
    );
    assert!(actions.iter().all(|(_, e)| e["user_id"] == sam.as_str()), "{audit}");
    assert_eq!(actions[0].1["detail"]["agent_id"], rita.as_str());
    assert_eq!(actions[5].1["detail"]["reason"], "ended");
    gw.stop().await;
}
