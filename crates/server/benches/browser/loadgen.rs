//! The browsers' side of the browser benchmark (run as `browser loadgen ...` by the bench):
//! agents with real WebRTC softphones on the agent WebSocket, and for `card` a raw SIP caller.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_webrtc::WebrtcConfig;
use switchboard_webrtc::client::{ClientOffer, ClientPeer};
use tokio::io::AsyncBufReadExt;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::AGENT_PASSWORD;

/// A message from agent `.0`'s WebSocket, and when it arrived.
type Incoming = (usize, Value, Instant);

struct BrowserAgent {
    peer: ClientPeer,
    send: mpsc::UnboundedSender<String>,
}

/// Logs agent `i` in; the session cookie.
async fn login(base: &str, i: usize) -> String {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": format!("agent{i}"), "password": AGENT_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "agent{i} logs in");
    res.headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

/// Opens agent `i`'s WebSocket, sets up the softphone (playing 2 kHz), goes available, and
/// forwards every later message to `incoming`.
async fn browser_agent(
    base: &str,
    i: usize,
    cookie: &str,
    incoming: mpsc::UnboundedSender<Incoming>,
) -> BrowserAgent {
    let mut request =
        format!("{}/api/agent/ws", base.replacen("http", "ws", 1)).into_client_request().unwrap();
    request.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let (send, mut outbox) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(text) = outbox.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    });
    let config = WebrtcConfig {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        gather_timeout: Duration::from_secs(2),
    };
    let offer = ClientOffer::new(&config).await.unwrap();
    send.send(json!({"type": "offer", "sdp": offer.sdp}).to_string()).unwrap();
    let answer = loop {
        let Some(Ok(Message::Text(text))) = stream.next().await else {
            panic!("agent{i}: the socket closed before the answer")
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["type"] == "answer" {
            break v["sdp"].as_str().unwrap().to_owned();
        }
    };
    let peer = offer.connect(answer, 2000.0, Duration::from_secs(30)).await.unwrap();
    // Take calls once the gateway has seen the connection too, as an agent would.
    loop {
        let Some(Ok(Message::Text(text))) = stream.next().await else {
            panic!("agent{i}: the socket closed before the softphone connected")
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["type"] == "softphone" && v["state"] == "connected" {
            break;
        }
    }
    tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && incoming.send((i, v, Instant::now())).is_err()
            {
                break;
            }
        }
    });
    let http = reqwest::Client::new();
    let res = http
        .put(format!("{base}/api/agent/state"))
        .header("cookie", cookie)
        .json(&json!({"state": "available"}))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "agent{i} goes available: {}",
        res.text().await.unwrap_or_default()
    );
    BrowserAgent { peer, send }
}

/// Logs `n` agents in (a few at a time: each login verifies an argon2 hash), says
/// `logged_in` and waits for `go` on stdin (the bench takes its memory baseline between the
/// two), then connects them all and says `ready`.
async fn agents(
    base: &str,
    n: usize,
    incoming: &mpsc::UnboundedSender<Incoming>,
    stdin: &mut tokio::io::Lines<tokio::io::BufReader<tokio::io::Stdin>>,
) -> Vec<BrowserAgent> {
    let mut cookies = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        cookies.extend(futures_util::future::join_all(chunk.iter().map(|&i| login(base, i))).await);
    }
    println!("logged_in");
    while let Ok(Some(line)) = stdin.next_line().await {
        if line.trim() == "go" {
            break;
        }
    }
    let mut out = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        out.extend(
            futures_util::future::join_all(
                chunk.iter().map(|&i| browser_agent(base, i, &cookies[i], incoming.clone())),
            )
            .await,
        );
    }
    println!("ready");
    out
}

pub(crate) async fn run(args: &[String]) {
    match args.first().map(String::as_str) {
        Some("calls") => {
            calls(&args[1], args[2].parse().unwrap(), args.get(3).is_some_and(|a| a == "idle-rtp"))
                .await
        }
        Some("card") => {
            card(
                &args[1],
                &args[2],
                args[3].parse().unwrap(),
                args[4].parse().unwrap(),
                args[5].parse().unwrap(),
                args[6].parse().unwrap(),
            )
            .await
        }
        _ => panic!("loadgen calls|card ..."),
    }
}

/// `calls`: every agent answers what rings; `mark` on stdin prints the packets heard so far.
/// Like the console, an agent sends RTP only while its call is up, unless `idle_rtp` (how the
/// console behaved before 2026-12, for comparison).
async fn calls(base: &str, n: usize, idle_rtp: bool) {
    let (incoming_tx, mut incoming) = mpsc::unbounded_channel();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let agents = agents(base, n, &incoming_tx, &mut stdin).await;
    for a in &agents {
        a.peer.set_sending(idle_rtp);
    }
    loop {
        tokio::select! {
            Some((i, v, _)) = incoming.recv() => {
                if v["type"] == "ringing" {
                    let _ = agents[i].send.send(json!({"type": "answer", "call_id": v["call_id"]}).to_string());
                } else if v["type"] == "connected" {
                    agents[i].peer.set_sending(true);
                } else if v["type"] == "ended" {
                    agents[i].peer.set_sending(idle_rtp);
                }
            }
            line = stdin.next_line() => match line {
                Ok(Some(l)) if l.trim() == "mark" => {
                    let heard: u64 = agents.iter().map(|a| a.peer.heard.packets.load(Ordering::Relaxed)).sum();
                    println!("heard {heard}");
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    for a in agents {
        a.peer.close().await;
    }
}

/// One raw SIP call of the `card` run.
struct Pending {
    sent: Instant,
    headers: String,
    uri: String,
}

/// `card`: INVITEs at `rate`/s from random contacts; the time to the card on a WebSocket.
async fn card(base: &str, sip: &str, n: usize, rate: u64, seconds: u64, contacts: usize) {
    let sip: SocketAddr = sip.parse().unwrap();
    let (incoming_tx, mut incoming) = mpsc::unbounded_channel();
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let _agents = agents(base, n, &incoming_tx, &mut stdin).await;
    let socket = std::sync::Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let local = socket.local_addr().unwrap();
    // Answer every 487 with an ACK (the INVITE transaction's end after our CANCEL).
    let responder = std::sync::Arc::clone(&socket);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((len, _)) = responder.recv_from(&mut buf).await {
            let text = String::from_utf8_lossy(&buf[..len]).to_string();
            if !text.starts_with("SIP/2.0 487") {
                continue;
            }
            let header = |name: &str| {
                text.lines()
                    .find(|l| {
                        l.to_ascii_lowercase()
                            .starts_with(&format!("{}:", name.to_ascii_lowercase()))
                    })
                    .unwrap_or("")
                    .to_owned()
            };
            let (via, from, to, call_id) =
                (header("Via"), header("From"), header("To"), header("Call-ID"));
            let uri = format!("sip:100@{sip}");
            let ack = format!(
                "ACK {uri} SIP/2.0\r\n{via}\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = responder.send_to(ack.as_bytes(), sip).await;
        }
    });
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + Duration::from_secs(seconds);
    let drain = end + Duration::from_secs(5);
    let mut sent = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick(), if Instant::now() < end => {
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                let i = (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) as usize) % contacts;
                let number = format!("+7916{i:07}");
                if pending.contains_key(&number) {
                    continue;
                }
                sent += 1;
                let uri = format!("sip:100@{sip}");
                let headers = format!(
                    "Via: SIP/2.0/UDP {local};branch=z9hG4bKbench{sent}\r\nFrom: <sip:7916{i:07}@127.0.0.1>;tag=bench{sent}\r\nTo: <{uri}>\r\nCall-ID: bench-{sent}-{}@127.0.0.1\r\nMax-Forwards: 70\r\n",
                    std::process::id()
                );
                let sdp = format!("v=0\r\no=- {sent} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n", 40_000 + (sent % 10_000) * 2);
                let invite = format!("INVITE {uri} SIP/2.0\r\n{headers}CSeq: 1 INVITE\r\nContact: <sip:7916{i:07}@{local}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}", sdp.len());
                let at = Instant::now();
                socket.send_to(invite.as_bytes(), sip).await.unwrap();
                pending.insert(number, Pending { sent: at, headers, uri });
            }
            Some((_, v, at)) = incoming.recv() => {
                let card = match v["type"].as_str() {
                    Some("ringing") | Some("card") => &v["card"],
                    _ => continue,
                };
                let Some(number) = card["number"].as_str() else { continue };
                if let Some(call) = pending.remove(number) {
                    latencies.push(at.duration_since(call.sent));
                    let cancel = format!("CANCEL {} SIP/2.0\r\n{}CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n", call.uri, call.headers);
                    socket.send_to(cancel.as_bytes(), sip).await.unwrap();
                }
            }
            () = tokio::time::sleep_until(drain.into()) => break,
        }
        if Instant::now() >= end && pending.is_empty() {
            break;
        }
    }
    latencies.sort();
    let q = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "result calls sent {sent}, cards {} (no card: {}); INVITE sent -> card on the WebSocket: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        pending.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    );
}
