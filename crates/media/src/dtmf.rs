//! RFC 4733 telephone-events (DTMF digits sent as RTP packets rather than tones).

/// A telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 A-D, 16 flash.
    pub event: u8,
    /// Set on the packets that close the event (sent three times).
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads a 4-byte event payload; anything else is `None`.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        if payload.len() < 4 || payload[0] > 16 {
            return None;
        }
        Some(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3F,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// Writes the 4-byte payload.
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (u8::from(self.end) << 7) | (self.volume & 0x3F), d[0], d[1]]
    }

    /// The key it stands for.
    pub fn digit(self) -> Option<char> {
        match self.event {
            0..=9 => Some(char::from(b'0' + self.event)),
            10 => Some('*'),
            11 => Some('#'),
            12..=15 => Some(char::from(b'A' + self.event - 12)),
            _ => None,
        }
    }
}

/// Turns a stream of event packets into digits: one per event, reported at its first end
/// packet (the end packet is repeated, and the start may be lost).
///
/// An event is its RTP timestamp and its key. Some senders (SIPp's `play_dtmf` among them)
/// give every event the same timestamp: a different key is then a new event, and so is the
/// same key starting again (a packet that is not an end, after its end was reported).
#[derive(Debug, Default)]
pub struct DtmfDetector {
    last_reported: Option<(u32, u8)>,
}

impl DtmfDetector {
    /// Feeds one packet; returns the digit once per event.
    pub fn feed(&mut self, rtp_timestamp: u32, event: TelephoneEvent) -> Option<char> {
        let key = (rtp_timestamp, event.event);
        if !event.end {
            if self.last_reported == Some(key) {
                // The same key again, under a timestamp its sender did not advance.
                self.last_reported = None;
            }
            return None;
        }
        if self.last_reported == Some(key) {
            return None;
        }
        self.last_reported = Some(key);
        event.digit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_digits() {
        let e = TelephoneEvent { event: 11, end: true, volume: 10, duration: 800 };
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Some(e));
        assert_eq!(e.digit(), Some('#'));
        assert_eq!(
            TelephoneEvent { event: 5, end: false, volume: 0, duration: 0 }.digit(),
            Some('5')
        );
        assert_eq!(TelephoneEvent::parse(&[17, 0, 0, 0]), None);
        assert_eq!(TelephoneEvent::parse(&[1, 2]), None);
    }

    #[test]
    fn repeated_end_packets_give_one_digit() {
        let mut d = DtmfDetector::default();
        let start = TelephoneEvent { event: 7, end: false, volume: 10, duration: 160 };
        let end = TelephoneEvent { end: true, duration: 800, ..start };
        assert_eq!(d.feed(1000, start), None);
        assert_eq!(d.feed(1000, end), Some('7'));
        assert_eq!(d.feed(1000, end), None);
        assert_eq!(d.feed(1000, end), None);
        assert_eq!(
            d.feed(2600, TelephoneEvent { event: 7, ..end }),
            Some('7'),
            "the same key pressed again"
        );
    }

    #[test]
    fn a_sender_that_never_advances_the_timestamp_still_gives_every_key() {
        // As SIPp's play_dtmf does: every event at the same timestamp.
        let mut d = DtmfDetector::default();
        let mut keys = Vec::new();
        for key in [7u8, 2, 2] {
            for _ in 0..3 {
                let start = TelephoneEvent { event: key, end: false, volume: 10, duration: 160 };
                keys.extend(d.feed(24_400, start));
            }
            for _ in 0..3 {
                let end = TelephoneEvent { event: key, end: true, volume: 10, duration: 800 };
                keys.extend(d.feed(24_400, end));
            }
        }
        assert_eq!(keys, ['7', '2', '2']);
    }
}
