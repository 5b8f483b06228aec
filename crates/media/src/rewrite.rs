//! Making one continuous outgoing stream from whatever comes in.
//!
//! A leg's incoming audio changes source when the call is put on hold and resumed, or
//! transferred to another agent: a new SSRC, a new random sequence and timestamp base. The
//! other leg must still see one stream: one SSRC, sequence numbers going up by one, timestamps
//! advancing with time. [`StreamRewriter`] maps each incoming packet's numbers to outgoing
//! ones; within one source it keeps the sender's own spacing (so reordering and loss stay
//! visible to the receiver's jitter buffer), and across a switch it continues from the last
//! packet sent, advancing the timestamp by the time that passed.

/// Samples per millisecond at 8 kHz (G.711 and RFC 4733 events).
pub const SAMPLES_PER_MS: u32 = 8;

#[derive(Debug, Clone, Copy)]
struct Source {
    ssrc: u32,
    seq_offset: u16,
    ts_offset: u32,
}

/// The outgoing numbers for one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    /// Outgoing sequence number.
    pub sequence: u16,
    /// Outgoing timestamp.
    pub timestamp: u32,
    /// Outgoing SSRC.
    pub ssrc: u32,
    /// Set on the first packet after a source switch, so the receiver resynchronises.
    pub marker: bool,
}

/// Rewrites the numbers of the packets sent to one leg.
#[derive(Debug, Clone)]
pub struct StreamRewriter {
    ssrc: u32,
    source: Option<Source>,
    last_sequence: u16,
    last_timestamp: u32,
    last_sent_ms: i64,
}

impl StreamRewriter {
    /// A rewriter sending as `ssrc`, starting from the given sequence and timestamp.
    pub fn new(ssrc: u32, first_sequence: u16, first_timestamp: u32) -> StreamRewriter {
        StreamRewriter {
            ssrc,
            source: None,
            last_sequence: first_sequence.wrapping_sub(1),
            last_timestamp: first_timestamp,
            last_sent_ms: i64::MIN,
        }
    }

    /// Maps an incoming packet (`ssrc`, `sequence`, `timestamp`) received at `now_ms`.
    pub fn rewrite(
        &mut self,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        now_ms: i64,
    ) -> Rewritten {
        let switched = self.source.is_none_or(|s| s.ssrc != ssrc);
        if switched {
            // Continue from the last packet sent: next sequence number, and a timestamp that
            // has advanced by the time since then (at least one sample).
            let elapsed_ms = if self.last_sent_ms == i64::MIN {
                0
            } else {
                (now_ms - self.last_sent_ms).clamp(0, 3_600_000)
            };
            let advance =
                u32::try_from(elapsed_ms).unwrap_or(0).saturating_mul(SAMPLES_PER_MS).max(1);
            let out_ts = if self.last_sent_ms == i64::MIN {
                self.last_timestamp
            } else {
                self.last_timestamp.wrapping_add(advance)
            };
            let out_seq = self.last_sequence.wrapping_add(1);
            self.source = Some(Source {
                ssrc,
                seq_offset: out_seq.wrapping_sub(sequence),
                ts_offset: out_ts.wrapping_sub(timestamp),
            });
        }
        let source = self.source.unwrap_or(Source { ssrc, seq_offset: 0, ts_offset: 0 });
        let out = Rewritten {
            sequence: sequence.wrapping_add(source.seq_offset),
            timestamp: timestamp.wrapping_add(source.ts_offset),
            ssrc: self.ssrc,
            marker: marker || switched,
        };
        // Remember the newest packet (by sequence, modulo wrap) to continue from after a switch.
        if switched || newer(out.sequence, self.last_sequence) {
            self.last_sequence = out.sequence;
            self.last_timestamp = out.timestamp;
            self.last_sent_ms = now_ms;
        }
        out
    }
}

/// Whether sequence `a` comes after `b` (RFC 3550 modulo arithmetic).
fn newer(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_keeps_its_spacing_under_a_new_ssrc() {
        let mut r = StreamRewriter::new(0x1234, 1000, 50_000);
        let a = r.rewrite(0xAAAA, 7, 900, false, 0);
        assert_eq!((a.sequence, a.timestamp, a.ssrc, a.marker), (1000, 50_000, 0x1234, true));
        let b = r.rewrite(0xAAAA, 8, 1060, false, 20);
        assert_eq!((b.sequence, b.timestamp, b.marker), (1001, 50_160, false));
        // A lost packet stays a gap; a late one keeps its place.
        let d = r.rewrite(0xAAAA, 10, 1380, false, 60);
        let c = r.rewrite(0xAAAA, 9, 1220, false, 61);
        assert_eq!((d.sequence, c.sequence), (1003, 1002));
        assert_eq!((d.timestamp, c.timestamp), (50_480, 50_320));
    }

    #[test]
    fn a_new_source_continues_the_stream() {
        let mut r = StreamRewriter::new(9, 65_534, u32::MAX - 100);
        r.rewrite(1, 500, 0, false, 0);
        let last = r.rewrite(1, 501, 160, false, 20);
        assert_eq!(last.sequence, 65_535);
        // Hold for 10 s, then the agent's phone resumes with a fresh SSRC and numbering.
        let resumed = r.rewrite(2, 30_000, 777_777, false, 10_020);
        assert_eq!(resumed.sequence, 0, "sequence wraps and continues");
        assert_eq!(resumed.timestamp, last.timestamp.wrapping_add(10_000 * SAMPLES_PER_MS));
        assert!(resumed.marker);
        let next = r.rewrite(2, 30_001, 777_937, false, 10_040);
        assert_eq!((next.sequence, next.timestamp.wrapping_sub(resumed.timestamp)), (1, 160));
        assert_eq!(next.ssrc, 9);
    }
}
