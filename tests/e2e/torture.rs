//! A torture suite in the spirit of RFC 4475 (its cases rewritten in our own messages): odd
//! but valid requests must be served, broken ones answered with the code RFC 3261 wants, each
//! sent over UDP to a running gateway, which must keep serving throughout.

use std::time::Duration;

use serde_json::json;

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
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torture_messages_get_the_answers_rfc_3261_wants() {
    let _serial = SERIAL.lock().await;
    let gw = Gateway::start(GatewayOptions::default()).await;
    gw.queue("100", &[], json!({"max_wait_ms": 60_000})).await;
    let peer = Peer::new(gw.sip).await;
    let (gw_addr, me) = (gw.sip.to_string(), peer.local().to_string());
    let mut wrong = Vec::new();
    for (name, text, expect) in cases() {
        peer.send(&text.replace("HOST_GW", &gw_addr).replace("HOST_ME", &me)).await;
        let got = peer.statuses(name, Duration::from_millis(1500)).await;
        let ok = match expect {
            Expect::Code(code) => got == vec![code],
            Expect::Taken => !got.is_empty() && got.iter().all(|c| *c < 300),
            Expect::Served => {
                !got.is_empty() && got.iter().all(|c| ![400, 416, 501, 505].contains(c))
            }
        };
        if !ok {
            wrong.push(format!("{name}: expected {expect:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "cases answered wrongly:\n{}", wrong.join("\n"));
    // Still serving.
    peer.send(&options("after").replace("HOST_GW", &gw_addr).replace("HOST_ME", &me)).await;
    assert_eq!(peer.statuses("after", Duration::from_secs(2)).await, vec![200]);
    gw.stop().await;
}
