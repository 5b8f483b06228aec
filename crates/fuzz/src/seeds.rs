//! Valid inputs the random runs start from and mutate, one set per target: a mutation of a
//! real INVITE reaches the parser's and the edge's deeper paths, where random bytes stop at
//! the first line.

use switchboard_media::rtp::build;

const OFFER: &str = "v=0\r\n\
o=pbx 1 1 IN IP4 192.0.2.10\r\n\
s=call\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 40000 RTP/AVP 8 0 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

const HOLD: &str = "v=0\r\n\
o=- 2 3 IN IP6 2001:db8::10\r\n\
s=-\r\n\
c=IN IP6 2001:db8::10\r\n\
t=0 0\r\n\
m=audio 40002 RTP/AVP 0\r\n\
a=sendonly\r\n\
m=video 0 RTP/AVP 96\r\n";

fn invite(user: &str, body: &str) -> String {
    format!(
        "INVITE sip:{user}@192.0.2.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport;received=192.0.2.11\r\n\
Max-Forwards: 70\r\n\
From: \"Пётр\" <sip:89161234567@192.0.2.10>;tag=a1\r\n\
To: <sip:{user}@192.0.2.1>\r\n\
Call-ID: c1@192.0.2.10\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:89161234567@192.0.2.10:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// SIP datagrams: requests of every kind the gateway serves, compact and escaped forms, and
/// responses.
pub fn sip() -> Vec<Vec<u8>> {
    let register = "REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bK-r1\r\n\
Max-Forwards: 70\r\n\
From: <sip:ext101@192.0.2.1>;tag=r1\r\n\
To: <sip:ext101@192.0.2.1>\r\n\
Call-ID: r1@192.0.2.20\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:ext101@192.0.2.20:5062>;expires=300\r\n\
Authorization: Digest username=\"ext101\", realm=\"switchboard\", nonce=\"abc\", uri=\"sip:192.0.2.1\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n\
Content-Length: 0\r\n\r\n";
    let compact = "OPTIONS sip:%31%30%38@192.0.2.1 SIP/2.0\r\n\
v: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-o1\r\n\
f: <tel:+74951234567>;tag=o1\r\n\
t: <sip:108@192.0.2.1>\r\n\
i: o1\r\n\
CSeq: 7 OPTIONS\r\n\
Max-Forwards: 0\r\n\
l: 0\r\n\r\n";
    let bye = "BYE sip:gw@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bK-b1\r\n\
From: <sip:89161234567@192.0.2.10>;tag=a1\r\n\
To: <sip:100@192.0.2.1>;tag=b2\r\n\
Call-ID: c1@192.0.2.10\r\n\
CSeq: 2 BYE\r\n\
Content-Length: 0\r\n\r\n";
    let ok = format!(
        "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-x\r\n\
From: <sip:gw@192.0.2.1>;tag=g1\r\n\
To: <sip:101@192.0.2.20>;tag=p1\r\n\
Call-ID: out1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:101@192.0.2.20:5062>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    );
    let info = "INFO sip:gw@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-i1\r\n\
From: <sip:89161234567@192.0.2.10>;tag=a1\r\n\
To: <sip:100@192.0.2.1>;tag=b2\r\n\
Call-ID: c1@192.0.2.10\r\n\
CSeq: 3 INFO\r\n\
Content-Type: application/dtmf-relay\r\n\
Content-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n";
    [invite("100", OFFER), invite("%31%30%38", HOLD), register.into(), compact.into()]
        .into_iter()
        .chain([bye.into(), ok, info.into(), "\r\n\r\n".into()])
        .map(String::into_bytes)
        .collect()
}

/// SDP bodies: an offer with both G.711 laws and telephone-event, a hold on IPv6 with a
/// refused video stream, and a browser-like offer with many attributes.
pub fn sdp() -> Vec<Vec<u8>> {
    let browser = "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 00:11\r\n\
a=setup:actpass\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n";
    [OFFER, HOLD, browser].map(|s| s.as_bytes().to_vec()).to_vec()
}

/// RTP streams ([`crate::rtp_stream`]'s form): speech, a key as telephone-events, a source
/// switch, and a packet with CSRCs, an extension and padding.
pub fn rtp() -> Vec<Vec<u8>> {
    let speech: Vec<Vec<u8>> =
        (0..4u16).map(|i| build(i == 0, 0, 100 + i, 160 * u32::from(i), 7, &[0xff; 160])).collect();
    let key: Vec<Vec<u8>> = (0..3u16)
        .map(|i| {
            build(i == 0, 101, 200 + i, 8000, 7, &[5, if i == 2 { 0x8a } else { 0x0a }, 0, 160])
        })
        .collect();
    let switched =
        vec![build(false, 8, 1, 0, 1, &[0xd5; 80]), build(false, 8, 9000, 7, 2, &[0xd5; 80])];
    let mut fancy = vec![0xb2, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 9];
    fancy.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // two CSRCs
    fancy.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // a one-word extension
    fancy.extend_from_slice(&[0xff; 20]);
    fancy.extend_from_slice(&[0, 0, 0, 4]); // padding
    [speech, key, switched, vec![fancy]].iter().map(|s| crate::join_length_prefixed(s)).collect()
}

/// Telephone-events ([`crate::dtmf_events`]'s form): a key pressed and released with its
/// end packet sent three times, then another under a new timestamp.
pub fn dtmf() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (ts, event, end) in
        [(800u32, 1u8, false), (800, 1, true), (800, 1, true), (800, 1, true), (2400, 11, true)]
    {
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&[event, if end { 0x8a } else { 0x0a }, 0x03, 0x20]);
    }
    vec![out]
}

/// WebSocket text frames of the console and the wallboard.
pub fn websocket() -> Vec<Vec<u8>> {
    [
        r#"{"type":"answer","call_id":"01a2"}"#,
        r#"{"type":"transfer","call_id":"01a2","to":{"number":"8 (916) 123-45-67"}}"#,
        r#"{"type":"transfer","call_id":"01a2","to":{"queue":"q1"}}"#,
        r#"{"type":"hold","call_id":"01a2","on":true}"#,
        r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#,
        r#"{"type":"listen","call_id":"01a2","mode":"whisper"}"#,
        r#"{"type":"recording","call_id":"01a2","paused":false}"#,
    ]
    .map(|s| s.as_bytes().to_vec())
    .to_vec()
}
