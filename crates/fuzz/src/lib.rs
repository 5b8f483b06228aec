//! Fuzz targets: each takes the bytes a peer on the network chooses and runs them through the
//! code that reads them in the product, in the order the product does. A target returns
//! normally for any input; a panic, an endless loop or an allocation out of proportion to the
//! input is the defect a fuzzer looks for.
//!
//! Written as plain `fn(&[u8])`, so one definition serves the stable-Rust runs in
//! `tests/fuzz.rs` (bolero's random engine over mutated seeds, in `cargo test`) and a
//! coverage-guided fuzzer (`cargo bolero test` with libFuzzer on a nightly toolchain).
#![allow(clippy::missing_panics_doc)]

pub mod seeds;

use std::sync::atomic::{AtomicU64, Ordering};

use rsipstack::sip::SipMessage;
use switchboard_media::dtmf::{DtmfDetector, TelephoneEvent};
use switchboard_media::inband::InbandDtmf;
use switchboard_media::rewrite::StreamRewriter;
use switchboard_media::rtp::{RtpPacket, rewrite_header};
use switchboard_sip::edge::Parties;
use switchboard_sip::precheck::{Verdict, check};
use switchboard_sip::sdp::{self, SessionDescription};
use switchboard_switch::protocol::{ConsoleCommand, TransferTarget, WallboardCommand};

/// How far the inputs got, by stage (for a run's report: random inputs that all stop at the
/// first check would test little).
pub static REACHED: Reached = Reached::new();

/// Counters of the stages inputs reached.
#[derive(Debug)]
pub struct Reached([AtomicU64; 8]);

/// The stages, in [`Reached`]'s order.
pub const STAGES: [&str; 8] = [
    "sip: answered or dropped at the front door",
    "sip: passed the front door",
    "sip: parsed as a request by the stack",
    "sdp: parsed",
    "sdp: negotiated",
    "rtp: packets parsed",
    "dtmf: keys detected",
    "websocket: commands read",
];

impl Reached {
    const fn new() -> Reached {
        Reached([const { AtomicU64::new(0) }; 8])
    }

    fn hit(&self, stage: usize) {
        self.0[stage].fetch_add(1, Ordering::Relaxed);
    }

    /// Each stage with its count.
    pub fn report(&self) -> Vec<(&'static str, u64)> {
        STAGES.iter().zip(&self.0).map(|(s, n)| (*s, n.load(Ordering::Relaxed))).collect()
    }
}

/// A SIP datagram as it arrives at the UDP port: the front door's check, then (if it
/// passed) the stack's parser, then what the edge reads from a request before deciding
/// anything (the Via's sender, the users called and calling) and the SDP offer's
/// negotiation. A response the front door builds must itself be one the parser reads.
pub fn sip_datagram(data: &[u8]) {
    match check(data) {
        Verdict::Pass => {}
        Verdict::Answer { response, code, .. } => {
            REACHED.hit(0);
            let parsed = SipMessage::try_from(response.as_slice());
            assert!(parsed.is_ok(), "the front door's {code} does not parse: {parsed:?}");
            return;
        }
        Verdict::Drop { .. } => {
            REACHED.hit(0);
            return;
        }
    }
    REACHED.hit(1);
    let Ok(SipMessage::Request(request)) = SipMessage::try_from(data) else { return };
    REACHED.hit(2);
    let parties = Parties::of(&request);
    assert!(parties.to.len() <= data.len() && parties.from.len() <= data.len());
    sdp_body(&request.body);
}

/// An SDP body, as an offer in an INVITE or re-INVITE, or an answer to ours: parsed, then
/// negotiated, and the answer written back (which must parse again).
pub fn sdp_body(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(offer) = SessionDescription::parse(text) else { return };
    REACHED.hit(3);
    let _ = sdp::read_answer(&offer);
    if let Ok(answer) = sdp::negotiate(&offer) {
        REACHED.hit(4);
        let ours = answer.to_sdp(([127, 0, 0, 1].into(), 20000), 1, 1);
        assert!(SessionDescription::parse(&ours).is_ok(), "our answer does not parse: {ours}");
    }
}

/// A stream of RTP datagrams (each prefixed with its length, one byte) as the relay takes
/// them from one peer: parsed, telephone-events and in-band keys detected, the header
/// rewritten for the other leg.
pub fn rtp_stream(data: &[u8]) {
    let mut rewriter = StreamRewriter::new(0x1234_5678, 1, 160);
    let mut events = DtmfDetector::default();
    let mut inband = InbandDtmf::default();
    for (n, packet) in length_prefixed(data).enumerate() {
        let Ok(rtp) = RtpPacket::parse(packet) else { continue };
        REACHED.hit(5);
        let payload = rtp.payload(packet);
        match rtp.payload_type {
            0 | 8 => {
                let _ = inband.feed(payload, rtp.payload_type == 8);
            }
            96..=127 => {
                if let Some(event) = TelephoneEvent::parse(payload) {
                    let _ = events.feed(rtp.timestamp, event);
                }
            }
            _ => {}
        }
        let now_ms = i64::try_from(n).unwrap_or(i64::MAX).saturating_mul(20);
        let out = rewriter.rewrite(rtp.ssrc, rtp.sequence, rtp.timestamp, rtp.marker, now_ms);
        let mut copy = packet.to_vec();
        rewrite_header(&mut copy, out.marker, 0, out.sequence, out.timestamp, 0x1234_5678);
        assert_eq!(copy.len(), packet.len());
    }
}

/// RFC 4733 telephone-events (8 bytes each: the RTP timestamp, then the event payload) fed
/// to the detector that turns them into keys: at most one key per event.
pub fn dtmf_events(data: &[u8]) {
    let mut detector = DtmfDetector::default();
    let mut keys = 0usize;
    let chunks = data.chunks_exact(8);
    let total = chunks.len();
    for chunk in chunks {
        let timestamp = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        if let Some(event) = TelephoneEvent::parse(&chunk[4..])
            && detector.feed(timestamp, event).is_some()
        {
            REACHED.hit(6);
            keys += 1;
        }
    }
    assert!(keys <= total);
}

/// A text frame on the agent console's or the wallboard's WebSocket: read as a command, and
/// a transfer's number read as a phone number.
pub fn websocket_command(data: &[u8]) {
    if serde_json::from_slice::<ConsoleCommand>(data).is_ok() {
        REACHED.hit(7);
    }
    if let Ok(ConsoleCommand::Transfer { to: TransferTarget::Number(number), .. }) =
        serde_json::from_slice::<ConsoleCommand>(data)
    {
        let _ = switchboard_core::PhoneNumber::parse(&number, switchboard_core::Region::RU);
    }
    let _ = serde_json::from_slice::<WallboardCommand>(data);
}

/// Splits `data` into pieces each prefixed by its length (one byte); a short last piece is
/// taken as it is.
fn length_prefixed(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let take = usize::from(len).min(tail.len());
        let (piece, after) = tail.split_at(take);
        rest = after;
        Some(piece)
    })
}

/// Joins packets as [`rtp_stream`] reads them (for seeds).
pub fn join_length_prefixed(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        let len = u8::try_from(p.len()).unwrap_or(u8::MAX);
        out.push(len);
        out.extend_from_slice(&p[..usize::from(len)]);
    }
    out
}
