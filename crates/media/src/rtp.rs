//! RTP packets (RFC 3550): a checked view over a received datagram and in-place header
//! rewriting, so relaying a packet copies nothing but the datagram itself.

/// Why a datagram is not an RTP packet we can relay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header (or than its CSRC list and extension).
    #[error("truncated RTP packet ({0} bytes)")]
    Truncated(usize),
    /// The version field is not 2.
    #[error("not RTP version 2")]
    BadVersion,
    /// The padding length is larger than the packet.
    #[error("bad RTP padding")]
    BadPadding,
}

/// The fixed header fields of a packet, and where its payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket {
    /// Marker bit (start of a talkspurt for audio).
    pub marker: bool,
    /// Payload type: 0 PCMU, 8 PCMA, dynamic for telephone-event.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp (8 kHz for G.711).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Where the payload starts.
    pub payload_start: usize,
    /// Where the payload ends (before padding).
    pub payload_end: usize,
}

impl RtpPacket {
    /// Checks and reads a datagram.
    pub fn parse(buf: &[u8]) -> Result<RtpPacket, RtpError> {
        if buf.len() < 12 {
            return Err(RtpError::Truncated(buf.len()));
        }
        if buf[0] >> 6 != 2 {
            return Err(RtpError::BadVersion);
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0F);
        let mut start = 12 + 4 * csrc_count;
        if buf.len() < start {
            return Err(RtpError::Truncated(buf.len()));
        }
        if extension {
            if buf.len() < start + 4 {
                return Err(RtpError::Truncated(buf.len()));
            }
            let words = usize::from(u16::from_be_bytes([buf[start + 2], buf[start + 3]]));
            start += 4 + 4 * words;
            if buf.len() < start {
                return Err(RtpError::Truncated(buf.len()));
            }
        }
        let mut end = buf.len();
        if padding {
            let pad = usize::from(buf[buf.len() - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload_start: start,
            payload_end: end,
        })
    }

    /// The payload bytes of `buf` (the datagram this was parsed from).
    pub fn payload<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.payload_start..self.payload_end]
    }
}

/// Overwrites the header fields the relay changes. `buf` must be a datagram that parsed.
pub fn rewrite_header(
    buf: &mut [u8],
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
) {
    if buf.len() < 12 {
        return;
    }
    buf[1] = (u8::from(marker) << 7) | (payload_type & 0x7F);
    buf[2..4].copy_from_slice(&sequence.to_be_bytes());
    buf[4..8].copy_from_slice(&timestamp.to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// Builds a plain packet (no CSRC, extension or padding), for generated audio and tests.
pub fn build(
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = vec![0u8; 12 + payload.len()];
    buf[0] = 0x80;
    rewrite_header(&mut buf, marker, payload_type, sequence, timestamp, ssrc);
    buf[12..].copy_from_slice(payload);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_parse_rewrite() {
        let mut buf = build(true, 0, 65_535, 0xFFFF_FF00, 0xDEAD_BEEF, &[1, 2, 3]);
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(
            (p.marker, p.payload_type, p.sequence, p.timestamp, p.ssrc),
            (true, 0, 65_535, 0xFFFF_FF00, 0xDEAD_BEEF)
        );
        assert_eq!(p.payload(&buf), &[1, 2, 3]);
        rewrite_header(&mut buf, false, 8, 7, 160, 42);
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(
            (p.marker, p.payload_type, p.sequence, p.timestamp, p.ssrc),
            (false, 8, 7, 160, 42)
        );
        assert_eq!(p.payload(&buf), &[1, 2, 3]);
    }

    #[test]
    fn csrc_extension_and_padding() {
        let mut buf = vec![0xB1, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]; // V=2, P, X, CC=1
        buf.extend_from_slice(&[0, 0, 0, 9]); // CSRC
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]); // extension, one word
        buf.extend_from_slice(&[7, 7, 0, 0, 3]); // payload 7 7, then 3 bytes of padding
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(p.payload(&buf), &[7, 7]);
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::Truncated(5)));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::BadVersion));
        let mut cc = vec![0x8F; 12];
        cc[0] = 0x8F; // 15 CSRCs announced, none present
        assert!(RtpPacket::parse(&cc).is_err());
        let mut pad = build(false, 0, 1, 1, 1, &[1]);
        pad[0] |= 0x20;
        *pad.last_mut().unwrap() = 200;
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding));
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 128) as u8).collect();
            let _ = RtpPacket::parse(&junk); // never panics
        }
    }
}
