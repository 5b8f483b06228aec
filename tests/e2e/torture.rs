//! A torture suite in the spirit of RFC 4475 (its cases rewritten in our own messages): odd
//! but valid requests must be served, broken ones answered with the code RFC 3261 wants, each
//! sent over UDP and over TCP to a running gateway, which must keep serving throughout.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Gateway, GatewayOptions, SERIAL};
use crate::robustness::Peer;

/// What a case must get back.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exactly this one response.
    Code(u16),
    /// Taken as a call: responses come, none a failure (the queue has it).
    Taken,
    /// Served: a response comes, and it is not one of the "your message is broken" codes
    /// (400, 416, 501, 505); a 404 for a user no queue has is fine.
    Served,
    /// No response at all.
    Nothing,
}

const SDP: &str = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";

/// An INVITE for queue 100 with Call-ID `id` and an SDP offer, which each case edits
/// (`HOST_GW` and `HOST_ME` stand for the gateway's and the peer's addresses).
fn invite(id: &str) -> String {
    let len = SDP.len() + SDP.matches('\n').count();
    format!(
        "INVITE sip:100@HOST_GW SIP/2.0\nVia: SIP/2.0/UDP HOST_ME;branch=z9hG4bK-{id}\nMax-Forwards: 70\nFrom: \"Caller\" <sip:79161234567@HOST_ME>;tag=f-{id}\nTo: <sip:100@HOST_GW>\nCall-ID: {id}\nCSeq: 1 INVITE\nContact: <sip:79161234567@HOST_ME>\nContent-Type: application/sdp\nContent-Length: {len}\n\n{SDP}"
    )
}

/// A REGISTER for an extension no one has, to `host` (written as the Request-URI's host).
fn register(id: &str, host: &str) -> String {
    format!(
        "REGISTER sip:{host} SIP/2.0\nVia: SIP/2.0/UDP HOST_ME;rport;branch=z9hG4bK-{id}\nMax-Forwards: 70\nFrom: <sip:555@{host}>;tag=f-{id}\nTo: <sip:555@{host}>\nCall-ID: {id}\nCSeq: 1 REGISTER\nContact: <sip:555@HOST_ME>\nExpires: 60\nContent-Length: 0\n\n"
    )
}

fn options(id: &str) -> String {
    format!(
        "OPTIONS sip:HOST_GW SIP/2.0\nVia: SIP/2.0/UDP HOST_ME;branch=z9hG4bK-{id}\nMax-Forwards: 70\nFrom: <sip:probe@HOST_ME>;tag=f-{id}\nTo: <sip:HOST_GW>\nCall-ID: {id}\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"
    )
}

/// The cases: a name (also the Call-ID the answer is matched by), the message, the answer.
fn cases() -> Vec<(&'static str, String, Expect)> {
    use Expect::{Code, Served, Taken};
    let long_name = "x".repeat(600);
    let many_vias: String = (0..20)
        .map(|i| format!("Via: SIP/2.0/UDP relay{i}.example;branch=z9hG4bK-r{i}\n"))
        .collect();
    vec![
        // Valid, if unusual.
        (
            "ws",
            invite("ws")
                .replace("To: <sip:100@HOST_GW>", "To   :\t <sip:100@HOST_GW>")
                .replace("Max-Forwards: 70", "Max-Forwards:   70\nSubject:\nX-Folded: first\n  second\n\tthird"),
            Taken,
        ),
        ("esc", invite("esc").replacen("INVITE sip:100@", "INVITE sip:%31%30%30@", 1).replace("sip:79161234567@HOST_ME>;tag", "sip:%37916%31234567@HOST_ME>;tag"), Taken),
        ("escnull", invite("escnull").replace("sip:79161234567@HOST_ME>;tag", "sip:null-%00-null@HOST_ME>;tag"), Taken),
        ("lwsdisp", invite("lwsdisp").replace("From: \"Caller\" <sip", "From: Caller Name<sip"), Taken),
        (
            "long",
            invite("long")
                .replace("To: <sip:100@HOST_GW>", &format!("To: \"{long_name}\" <sip:100@HOST_GW>"))
                .replacen("Via: ", &format!("{many_vias}Via: "), 1)
                .replace("Max-Forwards: 70", &format!("Max-Forwards: 70\nX-Long: {}", "y".repeat(3000))),
            Taken,
        ),
        (
            "transports",
            invite("transports").replace(
                ";branch=z9hG4bK-transports",
                ";branch=z9hG4bK-transports, SIP/2.0/SCTP relay.example;branch=z9hG4bK-s, SIP/2.0/TLS t.example:5061;branch=z9hG4bK-t",
            ),
            Taken,
        ),
        (
            "compact",
            invite("compact")
                .replace("Call-ID: compact", "i: compact")
                .replace("From: ", "f: ")
                .replace("To: ", "t: ")
                .replace("Content-Type: ", "c: ")
                .replace("Content-Length: ", "l: ")
                .replace("Contact: ", "m: ")
                .replace("CSeq: ", "cSeQ: "),
            Taken,
        ),
        ("unksm2", invite("unksm2").replace("To: <sip:100@HOST_GW>", "To: <isbn:2983792873>"), Taken),
        ("semiuri", invite("semiuri").replacen("INVITE sip:100@", "INVITE sip:100;par=u%40example.net@", 1), Served),
        ("options", options("options"), Code(200)),
        ("mf0options", options("mf0options").replace("Max-Forwards: 70", "Max-Forwards: 0"), Code(200)),
        // Broken.
        ("badvers", invite("badvers").replacen("SIP/2.0\n", "SIP/7.0\n", 1), Code(505)),
        ("clerr", invite("clerr").replace("Content-Length: ", "Content-Length: 9"), Code(400)),
        ("ncl", invite("ncl").replace("Content-Length: ", "Content-Length: -"), Code(400)),
        ("scalarlg", invite("scalarlg").replace("CSeq: 1 INVITE", "CSeq: 36893488147419103232 INVITE"), Code(400)),
        ("quotbal", invite("quotbal").replace("To: <sip:100@HOST_GW>", "To: \"Mr. J. User <sip:100@HOST_GW>"), Code(400)),
        ("ltgtruri", invite("ltgtruri").replacen("INVITE sip:100@HOST_GW SIP", "INVITE <sip:100@HOST_GW> SIP", 1), Code(400)),
        ("lwsruri", invite("lwsruri").replacen("INVITE sip:100@HOST_GW SIP", "INVITE sip:100@HOST_GW; lr SIP", 1), Code(400)),
        ("lwsstart", invite("lwsstart").replacen("INVITE sip:", "INVITE   sip:", 1), Code(400)),
        ("trws", invite("trws").replacen("SIP/2.0\n", "SIP/2.0 \n", 1), Code(400)),
        ("mismatch01", invite("mismatch01").replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS"), Code(400)),
        ("mismatch02", invite("mismatch02").replacen("INVITE sip:", "NEWMETHOD sip:", 1), Code(501)),
        (
            "insuf",
            invite("insuf").replace("From: \"Caller\" <sip:79161234567@HOST_ME>;tag=f-insuf\n", "").replace("To: <sip:100@HOST_GW>\n", ""),
            Code(400),
        ),
        ("unkscm", invite("unkscm").replacen("INVITE sip:100@HOST_GW", "INVITE nobodyknowsthisscheme:totallyopaquecontent", 1), Code(416)),
        ("novelsc", invite("novelsc").replacen("INVITE sip:100@HOST_GW", "INVITE soap.beep://192.0.2.103:3002", 1), Code(416)),
        ("bext", invite("bext").replace("Max-Forwards: 70", "Max-Forwards: 70\nRequire: nothingSupportsThis, nothingSupportsThisEither"), Code(420)),
        ("invut", invite("invut").replace("Content-Type: application/sdp", "Content-Type: application/unknownformat"), Code(415)),
        ("multi", invite("multi").replace("Call-ID: multi\n", "Call-ID: multi\nCall-ID: other\n"), Code(400)),
        (
            "intmeth",
            options("intmeth").replace("OPTIONS", "!interesting-Method0123456789_*+`.%indeed'~"),
            Code(501),
        ),
        ("zeromf", invite("zeromf").replace("Max-Forwards: 70", "Max-Forwards: 0"), Code(483)),
        ("badmf", invite("badmf").replace("Max-Forwards: 70", "Max-Forwards: many"), Code(400)),
        // IPv6 references in the manner of RFC 5118 (the gateway itself is on IPv4 here; an
        // unknown extension's REGISTER gets the usual challenge).
        ("v6reg", register("v6reg", "[2001:db8::10]"), Code(401)),
        ("v6port", register("v6port", "[2001:db8::10]:5070"), Code(401)),
        ("v6ambig", register("v6ambig", "[2001:db8::10:5070]"), Code(401)),
        ("v6nobr", register("v6nobr", "2001:db8::10"), Code(400)),
        ("v6mapped", invite("v6mapped").replacen("INVITE sip:100@HOST_GW", "INVITE sip:100@[::ffff:127.0.0.1]", 1), Taken),
        (
            "v6vias",
            invite("v6vias").replace(
                ";branch=z9hG4bK-v6vias",
                ";branch=z9hG4bK-v6vias\nVia: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bK-v6b;received=[2001:db8::9:255]",
            ),
            Taken,
        ),
        (
            "v6rr",
            invite("v6rr").replace("Max-Forwards: 70", "Max-Forwards: 70\nRecord-Route: <sip:[2001:db8::1];lr>, <sip:127.0.0.1;lr>"),
            Taken,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torture_messages_get_the_answers_rfc_3261_wants() {
    let _serial = SERIAL.lock().await;
    let gw = Gateway::start(GatewayOptions::default()).await;
    gw.queue("100", &[], json!({"max_wait_ms": 60_000})).await;
    let udp = Peer::new(gw.sip).await;
    let mut wrong = Vec::new();
    for over in [Over::Udp(&udp), Over::Tcp] {
        for (name, text, expect) in cases() {
            // The suffix keeps the two runs' Call-IDs, tags and branches apart.
            let id = format!("{name}-{}", over.name());
            let text = text
                .replace(&format!("-{name}"), &format!("-{id}"))
                .replace(&format!("Call-ID: {name}\n"), &format!("Call-ID: {id}\n"))
                .replace(&format!("i: {name}\n"), &format!("i: {id}\n"));
            let got = over.exchange(gw.sip, &id, &text).await;
            // Over TCP a Content-Length longer than the body is a message still arriving:
            // the gateway waits for the rest, and answers nothing.
            let expect = match (&over, name) {
                (Over::Tcp, "clerr") => Expect::Nothing,
                _ => expect,
            };
            let ok = match expect {
                Expect::Code(code) => got == vec![code],
                Expect::Taken => !got.is_empty() && got.iter().all(|c| *c < 300),
                Expect::Served => {
                    !got.is_empty() && got.iter().all(|c| ![400, 416, 501, 505].contains(c))
                }
                Expect::Nothing => got.is_empty(),
            };
            if !ok {
                wrong
                    .push(format!("{name} over {}: expected {expect:?}, got {got:?}", over.name()));
            }
        }
    }
    assert!(wrong.is_empty(), "cases answered wrongly:\n{}", wrong.join("\n"));

    // Still serving over UDP.
    let (gw_addr, me) = (gw.sip.to_string(), udp.local().to_string());
    udp.send(&options("after").replace("HOST_GW", &gw_addr).replace("HOST_ME", &me)).await;
    assert_eq!(udp.statuses("after", Duration::from_secs(2)).await, vec![200]);
    // Over TCP, an unknown method gets 501 and the connection stays open for the next request.
    let mut stream = TcpStream::connect(gw.sip).await.unwrap();
    let me = stream.local_addr().unwrap().to_string();
    let tcp = |text: String| {
        text.replace("SIP/2.0/UDP", "SIP/2.0/TCP")
            .replace("HOST_GW", &gw_addr)
            .replace("HOST_ME", &me)
            .replace('\n', "\r\n")
    };
    let frob = tcp(options("frob").replace("OPTIONS", "FROB"));
    stream.write_all(frob.as_bytes()).await.unwrap();
    stream.write_all(tcp(options("then")).as_bytes()).await.unwrap();
    let answers = read_responses(&mut stream, Duration::from_secs(2)).await;
    assert_eq!(
        answers,
        vec![("frob".to_owned(), 501), ("then".to_owned(), 200)],
        "501 for FROB, then 200 on the same connection"
    );
    gw.stop().await;
}

/// How a case is sent: over UDP from one socket, or over TCP on a connection of its own.
enum Over<'a> {
    Udp(&'a Peer),
    Tcp,
}

impl Over<'_> {
    fn name(&self) -> &'static str {
        match self {
            Over::Udp(_) => "udp",
            Over::Tcp => "tcp",
        }
    }

    /// Sends `text` (with its placeholders filled in) and returns the status codes of the
    /// responses to `call_id` within 1.5 s.
    async fn exchange(&self, gw: SocketAddr, call_id: &str, text: &str) -> Vec<u16> {
        let wait = Duration::from_millis(1500);
        match self {
            Over::Udp(peer) => {
                let me = peer.local().to_string();
                peer.send(&text.replace("HOST_GW", &gw.to_string()).replace("HOST_ME", &me)).await;
                peer.statuses(call_id, wait).await
            }
            Over::Tcp => {
                let mut stream = TcpStream::connect(gw).await.unwrap();
                let me = stream.local_addr().unwrap().to_string();
                let text = text
                    .replace("SIP/2.0/UDP HOST_ME", "SIP/2.0/TCP HOST_ME")
                    .replace("HOST_GW", &gw.to_string())
                    .replace("HOST_ME", &me)
                    .replace('\n', "\r\n");
                stream.write_all(text.as_bytes()).await.unwrap();
                read_responses(&mut stream, wait)
                    .await
                    .into_iter()
                    .filter(|(id, _)| id == call_id)
                    .map(|(_, code)| code)
                    .collect()
            }
        }
    }
}

/// The (Call-ID, status) of every response read from `stream` within `wait`, framed by
/// Content-Length.
async fn read_responses(stream: &mut TcpStream, wait: Duration) -> Vec<(String, u16)> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 65_536];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut rest = text.as_str();
    let mut out = Vec::new();
    while let Some(end) = rest.find("\r\n\r\n") {
        let head = &rest[..end];
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let code =
            head.strip_prefix("SIP/2.0 ").and_then(|r| r.get(..3)).and_then(|c| c.parse().ok());
        if let Some(code) = code {
            out.push((header("call-id").unwrap_or_default(), code));
        }
        rest = rest.get(end + 4 + length..).unwrap_or("");
    }
    out
}
