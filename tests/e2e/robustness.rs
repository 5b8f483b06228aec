//! Bad and unexpected SIP from a raw socket: every one gets the right answer (or, when it
//! cannot be answered, is dropped) and the gateway keeps serving; the unusual requests of
//! RFC 3261's rules (a wrong version, no hops left, a foreign URI scheme, a bad length or
//! CSeq, an unknown method, a long datagram, an escaped user, an unknown extension) get the
//! answers it wants.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::UdpSocket;

use crate::harness::{Gateway, GatewayOptions, SERIAL};

pub(crate) struct Peer {
    socket: UdpSocket,
    gateway: SocketAddr,
}

impl Peer {
    pub(crate) async fn new(gateway: SocketAddr) -> Peer {
        Peer { socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(), gateway }
    }

    pub(crate) fn local(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    pub(crate) async fn send(&self, text: &str) {
        self.socket.send_to(text.replace('\n', "\r\n").as_bytes(), self.gateway).await.unwrap();
    }

    /// The status codes of the responses that arrive within `wait`, by Call-ID.
    pub(crate) async fn responses(&self, wait: Duration) -> HashMap<String, Vec<u16>> {
        let mut by_call: HashMap<String, Vec<u16>> = HashMap::new();
        let mut buf = vec![0u8; 65_536];
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Ok((n, _))) =
            tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf)).await
        {
            let text = String::from_utf8_lossy(&buf[..n]);
            let code =
                text.strip_prefix("SIP/2.0 ").and_then(|r| r.get(..3)).and_then(|c| c.parse().ok());
            let call_id = text
                .lines()
                .find_map(|l| l.strip_prefix("Call-ID:").or_else(|| l.strip_prefix("i:")))
                .map(|v| v.trim().to_owned());
            // A response to a request without a Call-ID has none: kept under "".
            if let Some(code) = code {
                by_call.entry(call_id.unwrap_or_default()).or_default().push(code);
            }
        }
        by_call
    }

    /// The status codes of the responses to `call_id` within `wait` (others are dropped).
    pub(crate) async fn statuses(&self, call_id: &str, wait: Duration) -> Vec<u16> {
        self.responses(wait).await.remove(call_id).unwrap_or_default()
    }

    fn request(&self, method: &str, call_id: &str, extra: &str, body: &str) -> String {
        let me = self.local();
        format!(
            "{method} sip:100@{gw} SIP/2.0\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}\nFrom: <sip:79161234567@{me}>;tag=f{call_id}\nTo: <sip:100@{gw}>{extra}\nCall-ID: {call_id}\nCSeq: 1 {method}\nContact: <sip:79161234567@{me}>\nMax-Forwards: 70\nContent-Type: application/sdp\nContent-Length: {len}\n\n{body}",
            gw = self.gateway,
            len = body.len() + body.matches('\n').count(),
        )
    }
}

const SDP: &str = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unexpected_sip_get_answers_and_the_gateway_keeps_serving() {
    let _serial = SERIAL.lock().await;
    let gw = Gateway::start(GatewayOptions::default()).await;
    let peer = Peer::new(gw.sip).await;

    // Not SIP at all; a truncated INVITE (cut inside the headers); a body shorter than its
    // Content-Length. None can be answered (RFC 3261 18.3: discard), none may stop the gateway.
    peer.socket.send_to(&[0u8, 0xff, 0x13, 0x37, b'\r', b'\n'], gw.sip).await.unwrap();
    peer.socket.send_to(b"\x16\x03\x01\x02\x00garbage that looks like TLS", gw.sip).await.unwrap();
    let full = peer.request("INVITE", "trunc1", "", SDP);
    peer.send(&full[..full.len() / 3]).await;
    peer.send(&full.replace(
        &format!("Content-Length: {}", SDP.len() + SDP.matches('\n').count()),
        "Content-Length: 9000",
    ))
    .await;

    // Well-formed but unexpected: each gets its proper error.
    peer.send(&peer.request("MESSAGE", "m405", "", "")).await;
    assert_eq!(
        peer.statuses("m405", Duration::from_secs(2)).await,
        vec![405],
        "a method we do not take gets 405"
    );
    peer.send(&peer.request("BYE", "m481", ";tag=nosuchdialog", "")).await;
    assert_eq!(
        peer.statuses("m481", Duration::from_secs(2)).await,
        vec![481],
        "BYE outside any dialog gets 481"
    );
    peer.send(&peer.request("INVITE", "m400", "", "v=0\nthis is not sdp\n")).await;
    let codes = peer.statuses("m400", Duration::from_secs(2)).await;
    assert!(codes.contains(&400), "a body that is not SDP gets 400: {codes:?}");

    // Still serving: OPTIONS is answered, and a real call is still routed.
    peer.send(&peer.request("OPTIONS", "alive", "", "")).await;
    assert_eq!(
        peer.statuses("alive", Duration::from_secs(2)).await,
        vec![200],
        "OPTIONS after all that"
    );
    gw.stop().await;
}

/// More INVITEs than `sip.max_calls` at once: the excess get 503 right away, and are not
/// lost: each is a call that ended as `blocked`, counted in the statistics as offered and
/// blocked, and the callers get callback tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_flood_beyond_the_limit_gets_503() {
    let _serial = SERIAL.lock().await;
    let gw = Gateway::start(GatewayOptions { max_calls: 3, ..GatewayOptions::default() }).await;
    // A queue with nobody in it: accepted calls wait.
    gw.queue("100", &[], json!({"max_wait_ms": 60000})).await;
    let peer = Peer::new(gw.sip).await;
    for i in 0..10 {
        peer.send(&peer.request("INVITE", &format!("flood{i}"), "", SDP)).await;
    }
    let (mut refused, mut accepted) = (0, 0);
    let responses = peer.responses(Duration::from_secs(2)).await;
    for codes in responses.values() {
        if codes.contains(&503) {
            refused += 1;
        } else if codes.iter().any(|c| matches!(c, 100 | 180 | 183)) {
            // Queued: 100 Trying, or at once the 183 of the waiting sound (which makes 100
            // unnecessary, RFC 3261 17.2.1).
            accepted += 1;
        }
    }
    assert_eq!((accepted, refused), (3, 7), "three calls queue, seven are refused");
    let status = gw.get(&gw.admin, "/api/telephony/status").await;
    assert_eq!(status["active_calls"], 3);
    // Every INVITE is a call: three waiting, seven blocked (written off the switch task, so
    // wait for the call log to catch up).
    let calls =
        crate::harness::eventually(Duration::from_secs(10), "seven blocked calls", || async {
            let page = gw.get(&gw.admin, "/api/calls?per_page=100").await;
            let calls = page["items"].as_array().cloned().unwrap_or_default();
            (calls.iter().filter(|c| c["end_reason"] == "blocked").count() == 7).then_some(calls)
        })
        .await;
    assert_eq!(calls.len(), 10, "{calls:?}");
    let blocked: Vec<&Value> = calls.iter().filter(|c| c["end_reason"] == "blocked").collect();
    assert_eq!(blocked.len(), 7);
    assert!(
        blocked.iter().all(|c| c["sip_code"] == 503
            && c["queue_id"].is_string()
            && c["ended_at"] == c["offered_at"]),
        "{blocked:?}"
    );
    let stats = gw.get(&gw.admin, "/api/stats").await;
    let total = &stats["total"]["metrics"];
    assert_eq!(
        (total["offered"].as_i64(), total["blocked"].as_i64()),
        (Some(7), Some(7)),
        "{stats}"
    );
    assert!(
        stats["definitions"]["blocked"].as_str().is_some_and(|d| d.contains("capacity")),
        "{stats}"
    );
    gw.stop().await;
}

/// The answers RFC 3261 wants for requests the stack used to take, ignore or answer wrongly:
/// each row of the table in the issue, sent over UDP from a raw socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusual_requests_get_their_rfc_3261_answers() {
    let _serial = SERIAL.lock().await;
    let gw = Gateway::start(GatewayOptions::default()).await;
    gw.queue("108", &[], json!({"name": "Escaped", "max_wait_ms": 60_000})).await;
    let peer = Peer::new(gw.sip).await;
    let wait = Duration::from_secs(2);
    // A phone's keep-alive (RFC 5626) still gets its CRLF.
    peer.socket.send_to(b"\r\n\r\n", gw.sip).await.unwrap();
    let mut pong = [0u8; 16];
    let (n, _) =
        tokio::time::timeout(wait, peer.socket.recv_from(&mut pong)).await.unwrap().unwrap();
    assert_eq!(&pong[..n], b"\r\n");
    let sdp_len = SDP.len() + SDP.matches('\n').count();
    let invite = |call_id: &str| peer.request("INVITE", call_id, "", SDP);
    let cases: Vec<(&str, String, u16)> = vec![
        ("v7", invite("v7").replacen("SIP/2.0", "SIP/7.0", 1), 505),
        ("hops", invite("hops").replace("Max-Forwards: 70", "Max-Forwards: 0"), 483),
        (
            "isbn",
            invite("isbn").replacen(&format!("sip:100@{}", gw.sip), "isbn:2983792873", 1),
            416,
        ),
        (
            "long",
            invite("long").replace(&format!("Content-Length: {sdp_len}"), "Content-Length: 9000"),
            400,
        ),
        (
            "negative",
            invite("negative").replace(&format!("Content-Length: {sdp_len}"), "Content-Length: -4"),
            400,
        ),
        ("cseq", invite("cseq").replace("CSeq: 1 INVITE", "CSeq: 1 BYE"), 400),
        ("spaces", invite("spaces").replacen("INVITE sip:", "INVITE  sip:", 1), 400),
        ("frob", peer.request("FROB", "frob", "", ""), 501),
        ("nocallid", invite("nocallid").replace("Call-ID: nocallid\n", ""), 400),
    ];
    for (call_id, text, code) in &cases {
        peer.send(text).await;
        // The answer to a request without a Call-ID has none.
        let key = if *call_id == "nocallid" { "" } else { call_id };
        let got = peer.statuses(key, wait).await;
        assert_eq!(got, vec![*code], "{call_id}");
    }
    // Without a Via no answer can be routed: nothing comes back, and nothing breaks.
    let lines: String = invite("novia")
        .lines()
        .filter(|l| !l.starts_with("Via:"))
        .map(|l| format!("{l}\n"))
        .collect();
    peer.send(&lines).await;
    assert!(peer.responses(wait).await.is_empty());

    // A valid INVITE of 14 KB (long headers, as some SBCs send) is served like any other,
    // and a Request-URI user written escaped (%31%30%38) is the queue 108.
    let padding = format!("\nX-Padding: {}", "x".repeat(14_000));
    let big = peer.request("INVITE", "big", &padding, SDP).replacen(
        &format!("INVITE sip:100@{}", gw.sip),
        &format!("INVITE sip:%31%30%38@{}", gw.sip),
        1,
    );
    assert!(big.len() > 14_000);
    peer.send(&big).await;
    let codes = peer.statuses("big", Duration::from_secs(3)).await;
    assert!(
        codes.contains(&100) && codes.iter().all(|c| *c < 300),
        "the long INVITE is taken and waits in queue 108: {codes:?}"
    );
    let calls =
        crate::harness::eventually(Duration::from_secs(5), "the call in queue 108", || async {
            let calls: Value = gw.get(&gw.admin, "/api/calls?per_page=5").await;
            calls["items"].as_array().filter(|items| !items.is_empty()).cloned()
        })
        .await;
    assert_eq!(calls[0]["to_e164"], "108", "{calls:?}");

    // REGISTER for an extension that does not exist: the same 401 as for one that does, so
    // extensions cannot be found by trying them.
    let me = peer.local();
    let register = |ext: &str| {
        format!(
            "REGISTER sip:{gw} SIP/2.0\nVia: SIP/2.0/UDP {me};branch=z9hG4bKreg{ext}\nFrom: <sip:{ext}@{gw}>;tag=p{ext}\nTo: <sip:{ext}@{gw}>\nCall-ID: reg-{ext}\nCSeq: 1 REGISTER\nContact: <sip:{ext}@{me}>\nExpires: 60\nMax-Forwards: 70\nContent-Length: 0\n\n",
            gw = gw.sip
        )
    };
    peer.send(&register("999")).await;
    assert_eq!(peer.statuses("reg-999", wait).await, vec![401], "an unknown extension");
    gw.stop().await;
}
