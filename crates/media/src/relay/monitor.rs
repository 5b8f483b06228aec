//! A third leg on a bridge: a supervisor listening to a call in progress.
//!
//! The supervisor hears both sides mixed: every audio frame relayed is decoded into that side's
//! queue, and every 20 ms the bridge takes one frame's worth from each queue, sums them and
//! sends the result to the supervisor as one continuous stream (silence when neither side
//! speaks). What the supervisor says goes nowhere while listening; when whispering it is mixed
//! into what the agent (side B) receives, and when barging into what both sides receive. Mixing
//! into a relayed packet keeps that packet's size and timing: the supervisor's samples ride on
//! the call's own stream, so neither side sees a new source.
//!
//! Queues are bounded (a slow or stalled side loses its oldest samples, never the others'), and
//! sending to the supervisor never waits.

use std::collections::VecDeque;

use super::{LegIo, LegMedia, PT_PCMA, PT_PCMU, PacketPort};
use crate::g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
use crate::rtp::build;

/// Samples in one 20 ms frame at 8 kHz.
pub(super) const FRAME: usize = 160;

/// Most samples a queue holds (200 ms); older ones are dropped.
const QUEUE_CAP: usize = 1600;

/// What a supervisor on a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonitorMode {
    /// Hears both sides; says nothing to anyone.
    Listen,
    /// Hears both sides; speaks to the agent (side B) only.
    Whisper,
    /// Hears both sides; both sides hear the supervisor.
    Barge,
}

impl MonitorMode {
    /// Whether side `to` (0 = A, 1 = B) hears the supervisor in this mode.
    fn speaks_to(self, to: usize) -> bool {
        match self {
            MonitorMode::Listen => false,
            MonitorMode::Whisper => to == 1,
            MonitorMode::Barge => true,
        }
    }

    /// The lowercase name (`listen`, `whisper`, `barge`).
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorMode::Listen => "listen",
            MonitorMode::Whisper => "whisper",
            MonitorMode::Barge => "barge",
        }
    }

    /// The mode named `name`, if any.
    pub fn parse(name: &str) -> Option<MonitorMode> {
        match name {
            "listen" => Some(MonitorMode::Listen),
            "whisper" => Some(MonitorMode::Whisper),
            "barge" => Some(MonitorMode::Barge),
            _ => None,
        }
    }
}

/// A supervisor's leg, handed to [`BridgeHandle::monitor`](super::BridgeHandle::monitor).
#[derive(Debug)]
pub struct Monitor {
    /// The supervisor's packets (a WebRTC connection's port).
    pub port: PacketPort,
    /// The supervisor's codec (only `audio_pt` matters).
    pub media: LegMedia,
    /// What the supervisor does first.
    pub mode: MonitorMode,
}

/// The monitor inside a running bridge.
pub(super) struct MonitorLeg {
    pub(super) io: LegIo,
    audio_pt: u8,
    pub(super) mode: MonitorMode,
    /// What each side (0 = A, 1 = B) said, waiting to be mixed for the supervisor.
    heard: [VecDeque<i16>; 2],
    /// What the supervisor said, waiting to be mixed into what each side receives.
    speech: [VecDeque<i16>; 2],
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
}

fn decode(pt: u8, byte: u8) -> i16 {
    if pt == PT_PCMA { alaw_to_linear(byte) } else { ulaw_to_linear(byte) }
}

fn encode(pt: u8, sample: i16) -> u8 {
    if pt == PT_PCMA { linear_to_alaw(sample) } else { linear_to_ulaw(sample) }
}

fn push_bounded(queue: &mut VecDeque<i16>, samples: impl Iterator<Item = i16>) {
    queue.extend(samples);
    if queue.len() > QUEUE_CAP {
        let extra = queue.len() - QUEUE_CAP;
        queue.drain(..extra);
    }
}

impl MonitorLeg {
    pub(super) fn new(monitor: Monitor, seed: u64) -> MonitorLeg {
        let [s0, s1, s2, s3, q0, q1, t0, t1] = seed.to_le_bytes();
        let audio_pt = if monitor.media.audio_pt == PT_PCMA { PT_PCMA } else { PT_PCMU };
        MonitorLeg {
            io: LegIo::Packets(monitor.port),
            audio_pt,
            mode: monitor.mode,
            heard: [VecDeque::new(), VecDeque::new()],
            speech: [VecDeque::new(), VecDeque::new()],
            ssrc: u32::from_le_bytes([s0, s1, s2, s3]),
            sequence: u16::from_le_bytes([q0, q1]) & 0x7FFF,
            timestamp: u32::from_le_bytes([t0, t1, s2, q1]),
        }
    }

    /// A new mode: what the supervisor said for the old one is not carried over.
    pub(super) fn set_mode(&mut self, mode: MonitorMode) {
        self.mode = mode;
        self.speech.iter_mut().for_each(VecDeque::clear);
    }

    /// An audio payload side `from` (0 = A, 1 = B) sent, in law `pt`.
    pub(super) fn heard(&mut self, from: usize, pt: u8, payload: &[u8]) {
        push_bounded(&mut self.heard[from], payload.iter().map(|&b| decode(pt, b)));
    }

    /// A datagram from the supervisor: its audio is kept for the sides the mode speaks to.
    pub(super) fn spoke(&mut self, datagram: &[u8]) {
        let Ok(packet) = crate::rtp::RtpPacket::parse(datagram) else { return };
        if packet.payload_type != self.audio_pt {
            return;
        }
        for to in 0..2 {
            if self.mode.speaks_to(to) {
                let pt = self.audio_pt;
                push_bounded(
                    &mut self.speech[to],
                    packet.payload(datagram).iter().map(|&b| decode(pt, b)),
                );
            }
        }
    }

    /// Mixes what the supervisor said into `payload` (law `pt`) on its way to side `to`.
    pub(super) fn mix_into(&mut self, to: usize, pt: u8, payload: &mut [u8]) {
        if !self.mode.speaks_to(to) || self.speech[to].is_empty() {
            return;
        }
        for byte in payload.iter_mut() {
            let Some(s) = self.speech[to].pop_front() else { break };
            *byte = encode(pt, decode(pt, *byte).saturating_add(s));
        }
    }

    /// The next 20 ms for the supervisor: both sides summed, as one RTP packet.
    pub(super) fn next_frame(&mut self) -> Vec<u8> {
        let mut payload = [0u8; FRAME];
        for byte in &mut payload {
            let a = self.heard[0].pop_front().unwrap_or(0);
            let b = self.heard[1].pop_front().unwrap_or(0);
            *byte = encode(self.audio_pt, a.saturating_add(b));
        }
        let packet =
            build(false, self.audio_pt, self.sequence, self.timestamp, self.ssrc, &payload);
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME as u32);
        packet
    }

    /// Hands a packet to the supervisor's adapter; a full queue loses it.
    pub(super) fn send(&self, packet: Vec<u8>) -> bool {
        match &self.io {
            LegIo::Packets(p) => p.to_peer.try_send(packet).is_ok(),
            LegIo::Udp(_) | LegIo::Source(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::sine_ulaw;
    use tokio::sync::mpsc;

    fn leg(mode: MonitorMode) -> MonitorLeg {
        let (_to_relay, from_peer) = mpsc::channel(4);
        let (to_peer, _from_relay) = mpsc::channel(4);
        MonitorLeg::new(
            Monitor {
                port: PacketPort { from_peer, to_peer },
                media: LegMedia::packets(PT_PCMU, None),
                mode,
            },
            7,
        )
    }

    fn decoded(packet: &[u8]) -> Vec<i16> {
        let p = crate::rtp::RtpPacket::parse(packet).unwrap();
        p.payload(packet).iter().map(|&b| ulaw_to_linear(b)).collect()
    }

    #[test]
    fn the_supervisor_hears_both_sides_mixed_and_silence_between() {
        let mut m = leg(MonitorMode::Listen);
        let a = sine_ulaw(1000.0, 0.25, 0, 800);
        let b = sine_ulaw(2000.0, 0.25, 0, 800);
        let mut mixed = Vec::new();
        let mut sequences = Vec::new();
        for i in 0..5 {
            m.heard(0, PT_PCMU, &a[i * FRAME..(i + 1) * FRAME]);
            m.heard(1, PT_PCMU, &b[i * FRAME..(i + 1) * FRAME]);
            let packet = m.next_frame();
            sequences.push(crate::rtp::RtpPacket::parse(&packet).unwrap().sequence);
            mixed.extend(decoded(&packet));
        }
        let power = |hz| crate::tone::goertzel_power(&mixed, hz);
        assert!(
            power(1000.0) > 100.0 * power(1500.0) && power(2000.0) > 100.0 * power(1500.0),
            "both tones are in the mix"
        );
        assert!(
            sequences.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
            "one continuous stream: {sequences:?}"
        );
        assert!(decoded(&m.next_frame()).iter().all(|&s| s.abs() <= 8), "nothing said: silence");
    }

    #[test]
    fn whisper_reaches_only_the_agent_and_barge_both() {
        let supervisor = build(false, PT_PCMU, 1, 160, 9, &sine_ulaw(440.0, 0.25, 0, FRAME));
        let caller_frame = sine_ulaw(1000.0, 0.25, 0, FRAME);
        for (mode, to_a, to_b) in [
            (MonitorMode::Listen, false, false),
            (MonitorMode::Whisper, false, true),
            (MonitorMode::Barge, true, true),
        ] {
            let mut m = leg(mode);
            m.spoke(&supervisor);
            for (to, expected) in [(0, to_a), (1, to_b)] {
                let mut payload = caller_frame.clone();
                m.mix_into(to, PT_PCMU, &mut payload);
                let samples: Vec<i16> = payload.iter().map(|&b| ulaw_to_linear(b)).collect();
                let has_440 = crate::tone::goertzel_power(&samples, 440.0)
                    > 0.05 * crate::tone::goertzel_power(&samples, 1000.0);
                assert_eq!(has_440, expected, "{mode:?} to side {to}");
            }
        }
    }

    #[test]
    fn queues_are_bounded_and_a_new_mode_forgets_old_speech() {
        let mut m = leg(MonitorMode::Whisper);
        let frame = build(false, PT_PCMU, 1, 160, 9, &[0x10; FRAME]);
        for _ in 0..50 {
            m.spoke(&frame);
            m.heard(0, PT_PCMU, &[0x10; FRAME]);
        }
        assert_eq!(m.speech[1].len(), QUEUE_CAP);
        assert_eq!(m.heard[0].len(), QUEUE_CAP);
        assert!(m.speech[0].is_empty(), "a whisper is never kept for the caller");
        m.set_mode(MonitorMode::Listen);
        assert!(m.speech.iter().all(VecDeque::is_empty));
        // Not RTP, or a payload type that was not negotiated: ignored.
        m.set_mode(MonitorMode::Barge);
        m.spoke(&[1, 2, 3]);
        m.spoke(&build(false, 101, 1, 160, 9, &[0; 4]));
        assert!(m.speech.iter().all(VecDeque::is_empty));
    }
}
