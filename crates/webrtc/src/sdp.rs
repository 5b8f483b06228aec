//! Reading what our own answer agreed on: the audio codec (the first format of the audio
//! m-line) and the telephone-event payload type.

/// The payload types of an agent's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// 0 (PCMU) or 8 (PCMA).
    pub audio_pt: u8,
    /// telephone-event/8000, when the browser offered it.
    pub event_pt: Option<u8>,
}

impl Negotiated {
    /// Reads an answer SDP; `None` when its audio section is missing, rejected (port 0) or
    /// does not start with PCMU or PCMA.
    pub fn from_answer(sdp: &str) -> Option<Negotiated> {
        let mut in_audio = false;
        let mut audio_pt = None;
        let mut event_pt = None;
        for line in sdp.lines().map(str::trim) {
            if let Some(m) = line.strip_prefix("m=") {
                in_audio = false;
                let mut fields = m.split_whitespace();
                if fields.next() == Some("audio") && audio_pt.is_none() {
                    let port = fields.next().unwrap_or("0");
                    let _proto = fields.next();
                    if port != "0" {
                        in_audio = true;
                        audio_pt = fields.next().and_then(|f| f.parse::<u8>().ok());
                    }
                }
            } else if in_audio && let Some(map) = line.strip_prefix("a=rtpmap:") {
                let mut parts = map.split_whitespace();
                let pt = parts.next().and_then(|p| p.parse::<u8>().ok());
                let name = parts.next().unwrap_or("").to_ascii_lowercase();
                if name.starts_with("telephone-event/8000") {
                    event_pt = event_pt.or(pt);
                }
            }
        }
        match audio_pt {
            Some(pt @ (0 | 8)) => Some(Negotiated { audio_pt: pt, event_pt }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codec_and_telephone_event() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 126\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:126 telephone-event/8000\r\n";
        assert_eq!(
            Negotiated::from_answer(sdp),
            Some(Negotiated { audio_pt: 0, event_pt: Some(126) })
        );
    }

    #[test]
    fn refuses_anything_but_g711() {
        let opus = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        assert_eq!(Negotiated::from_answer(opus), None);
        let rejected = "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n";
        assert_eq!(Negotiated::from_answer(rejected), None);
        let pcma = "m=audio 9 UDP/TLS/RTP/SAVPF 8\r\n";
        assert_eq!(Negotiated::from_answer(pcma), Some(Negotiated { audio_pt: 8, event_pt: None }));
    }
}
