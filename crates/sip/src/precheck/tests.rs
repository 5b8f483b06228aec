//! The pre-check over the requests of the issue's table and RFC 4475's kind of mistakes.

use super::*;

fn invite(start: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\nFrom: <sip:200@10.0.0.1>;tag=a\r\n\
         To: <sip:100@gw>\r\nCall-ID: c1@10.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn code(datagram: &[u8]) -> Option<u16> {
    match check(datagram) {
        Verdict::Answer { code, .. } => Some(code),
        _ => None,
    }
}

#[test]
fn a_sound_request_and_any_response_pass() {
    assert_eq!(check(&invite("INVITE sip:100@gw SIP/2.0", "", "v=0\r\n")), Verdict::Pass);
    assert_eq!(check(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n"), Verdict::Pass);
    // Compact forms and folded lines are headers too.
    let compact = b"OPTIONS sip:gw SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK-2\r\nf: <sip:a@h>;tag=1\r\nt: <sip:gw>\r\ni: x\r\nCSeq:\r\n 7 OPTIONS\r\nl: 0\r\n\r\n";
    assert_eq!(check(compact), Verdict::Pass);
    assert_eq!(check(&invite("INVITE tel:+74951234567 SIP/2.0", "", "")), Verdict::Pass);
    // Keep-alives from phones behind NAT go to the stack, which answers them.
    assert_eq!(check(b"\r\n\r\n"), Verdict::Pass);
    assert_eq!(check(b"\r\n"), Verdict::Pass);
}

#[test]
fn the_issues_table_gets_its_rfc_3261_answers() {
    assert_eq!(code(&invite("INVITE sip:100@gw SIP/7.0", "", "")), Some(505));
    let hops = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", ""))
        .unwrap()
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(code(hops.as_bytes()), Some(483));
    assert_eq!(code(&invite("INVITE isbn:2983792873 SIP/2.0", "", "")), Some(416));
    let long = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", "v=0\r\n"))
        .unwrap()
        .replace("Content-Length: 5", "Content-Length: 500");
    assert_eq!(code(long.as_bytes()), Some(400));
    let negative = long.replace("Content-Length: 500", "Content-Length: -5");
    assert_eq!(code(negative.as_bytes()), Some(400));
    let mismatch = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", ""))
        .unwrap()
        .replace("CSeq: 1 INVITE", "CSeq: 1 BYE");
    assert_eq!(code(mismatch.as_bytes()), Some(400));
    assert_eq!(code(&invite("INVITE  sip:100@gw SIP/2.0", "", "")), Some(400));
    let frob = String::from_utf8(invite("FROB sip:100@gw SIP/2.0", "", ""))
        .unwrap()
        .replace("CSeq: 1 INVITE", "CSeq: 1 FROB");
    assert_eq!(code(frob.as_bytes()), Some(501));
    let no_call_id = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", ""))
        .unwrap()
        .replace("Call-ID: c1@10.0.0.1\r\n", "");
    assert_eq!(code(no_call_id.as_bytes()), Some(400));
    let no_via = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", ""))
        .unwrap()
        .replace("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n", "");
    assert_eq!(check(no_via.as_bytes()), Verdict::Drop { why: "no Via" });
}

#[test]
fn the_answer_carries_what_the_sender_matches_it_by() {
    let Verdict::Answer { response, .. } = check(&invite("INVITE sip:100@gw SIP/3.0", "", ""))
    else {
        panic!("answered")
    };
    let text = String::from_utf8(response).unwrap();
    assert!(text.starts_with("SIP/2.0 505 Version Not Supported\r\n"), "{text}");
    for line in [
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n",
        "From: <sip:200@10.0.0.1>;tag=a\r\n",
        "To: <sip:100@gw>;tag=sb-precheck\r\n",
        "Call-ID: c1@10.0.0.1\r\n",
        "CSeq: 1 INVITE\r\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(text.ends_with("Content-Length: 0\r\n\r\n"));
}

#[test]
fn a_bad_ack_is_dropped_not_answered() {
    let ack = String::from_utf8(invite("ACK sip:100@gw SIP/7.0", "", ""))
        .unwrap()
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK");
    assert!(matches!(check(ack.as_bytes()), Verdict::Drop { .. }));
}

#[test]
fn garbage_never_panics() {
    for bytes in [
        &b""[..],
        b"INVITE\r\n\r\n",
        b"\xff\xfe\r\n\r\n",
        b"INVITE sip:a SIP/2.0\r\nVia: x\r\n\r\n",
        b"INVITE sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 99999999999 INVITE\r\n\r\n",
        b"INVITE sip:a SIP/2.0\r\nVia: x\r\n : folded without a header\r\n\r\n",
    ] {
        let _ = check(bytes);
    }
}

#[test]
fn rfc_4475s_kind_of_mistakes_get_400() {
    let base = String::from_utf8(invite("INVITE sip:100@gw SIP/2.0", "", "")).unwrap();
    // A Request-URI in angle brackets, a CSeq of 2**31 or more, Call-ID or To twice, a
    // display name with its quote left open.
    assert_eq!(code(&invite("INVITE <sip:100@gw> SIP/2.0", "", "")), Some(400));
    assert_eq!(code(base.replace("CSeq: 1 ", "CSeq: 2147483648 ").as_bytes()), Some(400));
    assert_eq!(code(base.replace("CSeq: 1 ", "CSeq: 2147483647 ").as_bytes()), None);
    let twice = base.replace("Call-ID: c1@10.0.0.1\r\n", "Call-ID: c1@10.0.0.1\r\ni: c2\r\n");
    assert_eq!(code(twice.as_bytes()), Some(400));
    let two_to = base.replace("To: <sip:100@gw>\r\n", "To: <sip:100@gw>\r\nTo: <sip:101@gw>\r\n");
    assert_eq!(code(two_to.as_bytes()), Some(400));
    let open = base.replace("To: <sip:100@gw>", "To: \"Mr. J. User <sip:100@gw>");
    assert_eq!(code(open.as_bytes()), Some(400));
    // An escaped quote inside a closed one is fine; so are several Vias.
    let escaped = base.replace("To: <sip:100@gw>", "To: \"J. \\\"Jay\\\" User\" <sip:100@gw>");
    assert_eq!(check(escaped.as_bytes()), Verdict::Pass);
    let vias = base.replace("Via: ", "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-0\r\nVia: ");
    assert_eq!(check(vias.as_bytes()), Verdict::Pass);
}

#[test]
fn a_required_extension_gets_420_naming_it_and_a_body_not_sdp_gets_415() {
    let required =
        invite("INVITE sip:100@gw SIP/2.0", "Require: nothingSupportsThis, 100rel\r\n", "");
    let Verdict::Answer { code: 420, response, .. } = check(&required) else { panic!("420") };
    let text = String::from_utf8(response).unwrap();
    assert!(text.contains("\r\nUnsupported: nothingSupportsThis, 100rel\r\n"), "{text}");
    let body = "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b--\r\n";
    let multipart =
        invite("INVITE sip:100@gw SIP/2.0", "Content-Type: multipart/mixed;boundary=b\r\n", body);
    let Verdict::Answer { code: 415, response, .. } = check(&multipart) else { panic!("415") };
    assert!(String::from_utf8(response).unwrap().contains("\r\nAccept: application/sdp\r\n"));
    let sdp = invite("INVITE sip:100@gw SIP/2.0", "Content-Type: application/SDP\r\n", "v=0\r\n");
    assert_eq!(check(&sdp), Verdict::Pass);
}

#[test]
fn ipv6_references_in_the_request_uri_need_brackets() {
    // RFC 5118: bracketed forms, with or without a port, and IPv4-mapped ones pass.
    for uri in [
        "sip:[2001:db8::10]",
        "sip:[2001:db8::10]:5070",
        "sip:[2001:db8::10:5070]",
        "sip:100@[::ffff:192.0.2.10]",
        "sips:100@[2001:db8::10];transport=tls",
        "sip:100@gw:5060",
        "sip:user:secret@gw:5060",
    ] {
        assert_eq!(
            check(&invite(&format!("INVITE {uri} SIP/2.0"), "", "")),
            Verdict::Pass,
            "{uri}"
        );
    }
    for uri in ["sip:2001:db8::10", "sip:100@2001:db8::10;lr", "sip:100@::1"] {
        assert_eq!(code(&invite(&format!("INVITE {uri} SIP/2.0"), "", "")), Some(400), "{uri}");
    }
}
