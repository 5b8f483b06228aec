//! SDP offer/answer (RFC 3264) for one audio stream of G.711 with telephone-event.
//!
//! [`SessionDescription::parse`] reads what a peer sent, keeping only what the gateway uses;
//! [`negotiate`] picks the codec (the offerer's first of PCMU/PCMA), the telephone-event
//! payload type if offered, and the direction of our answer (a peer putting us on hold with
//! `sendonly` gets `recvonly`); [`Answer::to_sdp`] writes the answer. An offer without PCMU
//! or PCMA is [`SdpError::NoCommonCodec`], which the SIP layer answers with 488.

use std::fmt::Write;
use std::net::IpAddr;

/// Why an SDP body cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not SDP, or a line the grammar forbids (answer 400).
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// No `m=audio` stream.
    #[error("no audio stream offered")]
    NoAudio,
    /// The audio stream offers neither PCMU nor PCMA (answer 488).
    #[error("no common codec (we accept PCMU and PCMA)")]
    NoCommonCodec,
}

/// Media direction attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways (the default).
    #[default]
    SendRecv,
    /// The sender only sends (it is holding the other side).
    SendOnly,
    /// The sender only receives.
    RecvOnly,
    /// Neither way.
    Inactive,
}

impl Direction {
    /// The direction an answer takes to an offer with this one.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether this puts the stream on hold (RFC 3264 section 8.4).
    pub fn is_hold(self) -> bool {
        matches!(self, Direction::SendOnly | Direction::Inactive)
    }

    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// One payload type of the audio stream with its `rtpmap`, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFormat {
    /// RTP payload type.
    pub payload_type: u8,
    /// Encoding name in upper case (`PCMU`, `TELEPHONE-EVENT`, ...), from `rtpmap` or the
    /// static table.
    pub encoding: String,
    /// Clock rate.
    pub clock_rate: u32,
}

/// What the gateway needs from a peer's SDP: where to send audio, and what is offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// Connection address (media-level `c=` over session-level).
    pub address: Option<IpAddr>,
    /// Audio port (0 means the stream is refused or removed).
    pub port: u16,
    /// Offered formats, in the offerer's order of preference.
    pub formats: Vec<PayloadFormat>,
    /// Direction of the audio stream.
    pub direction: Direction,
    /// Packetisation time in ms, if given.
    pub ptime: Option<u32>,
}

fn static_format(payload_type: u8) -> Option<(&'static str, u32)> {
    match payload_type {
        0 => Some(("PCMU", 8000)),
        8 => Some(("PCMA", 8000)),
        9 => Some(("G722", 8000)),
        18 => Some(("G729", 8000)),
        _ => None,
    }
}

impl SessionDescription {
    /// Reads an SDP body. Only the first audio stream is used.
    pub fn parse(body: &str) -> Result<SessionDescription, SdpError> {
        let bad = |line: &str| SdpError::Malformed(line.chars().take(80).collect());
        let mut session_address: Option<IpAddr> = None;
        let mut media_address: Option<IpAddr> = None;
        let mut in_audio = false;
        let mut seen_audio = false;
        let mut port = 0u16;
        let mut formats: Vec<PayloadFormat> = Vec::new();
        let mut session_direction = Direction::SendRecv;
        let mut media_direction: Option<Direction> = None;
        let mut ptime = None;
        let mut saw_version = false;
        for raw in body.lines() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let (kind, value) = line.split_once('=').ok_or_else(|| bad(line))?;
            if kind.len() != 1 {
                return Err(bad(line));
            }
            match kind {
                "v" => saw_version = true,
                "m" => {
                    if seen_audio {
                        in_audio = false;
                        continue;
                    }
                    let mut parts = value.split_whitespace();
                    let media = parts.next().ok_or_else(|| bad(line))?;
                    let media_port = parts.next().ok_or_else(|| bad(line))?;
                    let _proto = parts.next().ok_or_else(|| bad(line))?;
                    in_audio = media == "audio";
                    if in_audio {
                        seen_audio = true;
                        port = media_port
                            .split('/')
                            .next()
                            .unwrap_or("")
                            .parse()
                            .map_err(|_| bad(line))?;
                        for pt in parts {
                            let payload_type: u8 = pt.parse().map_err(|_| bad(line))?;
                            if payload_type > 127 {
                                return Err(bad(line));
                            }
                            let (encoding, clock_rate) =
                                static_format(payload_type).unwrap_or(("", 0));
                            formats.push(PayloadFormat {
                                payload_type,
                                encoding: encoding.to_owned(),
                                clock_rate,
                            });
                        }
                    }
                }
                "c" => {
                    // c=IN IP4 192.0.2.1
                    let address = value.split_whitespace().nth(2).ok_or_else(|| bad(line))?;
                    let address = address
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .parse::<IpAddr>()
                        .map_err(|_| bad(line))?;
                    if seen_audio && in_audio {
                        media_address = Some(address);
                    } else if !seen_audio {
                        session_address = Some(address);
                    }
                }
                "a" => {
                    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
                    let direction = match name {
                        "sendrecv" => Some(Direction::SendRecv),
                        "sendonly" => Some(Direction::SendOnly),
                        "recvonly" => Some(Direction::RecvOnly),
                        "inactive" => Some(Direction::Inactive),
                        _ => None,
                    };
                    if let Some(direction) = direction {
                        if in_audio {
                            media_direction = Some(direction);
                        } else if !seen_audio {
                            session_direction = direction;
                        }
                        continue;
                    }
                    if !in_audio {
                        continue;
                    }
                    match name {
                        "rtpmap" => {
                            let (pt, encoding) = arg.split_once(' ').ok_or_else(|| bad(line))?;
                            let pt: u8 = pt.trim().parse().map_err(|_| bad(line))?;
                            let mut enc = encoding.trim().split('/');
                            let name = enc.next().unwrap_or("").to_ascii_uppercase();
                            let rate: u32 =
                                enc.next().unwrap_or("0").parse().map_err(|_| bad(line))?;
                            if let Some(format) = formats.iter_mut().find(|f| f.payload_type == pt)
                            {
                                format.encoding = name;
                                format.clock_rate = rate;
                            }
                        }
                        "ptime" => ptime = arg.trim().parse().ok(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if !saw_version {
            return Err(SdpError::Malformed("no v= line".into()));
        }
        if !seen_audio {
            return Err(SdpError::NoAudio);
        }
        Ok(SessionDescription {
            address: media_address.or(session_address),
            port,
            formats,
            direction: media_direction.unwrap_or(session_direction),
            ptime,
        })
    }
}

/// The codec both sides will use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// G.711 μ-law, payload type 0.
    Pcmu,
    /// G.711 A-law, payload type 8.
    Pcma,
}

impl Codec {
    /// Its static payload type.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// Its encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

/// The result of negotiating an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The codec.
    pub codec: Codec,
    /// The telephone-event payload type, when the offer had one at 8 kHz.
    pub telephone_event: Option<u8>,
    /// Our direction.
    pub direction: Direction,
    /// Where the peer wants audio (None or port 0: nowhere).
    pub remote: Option<(IpAddr, u16)>,
    /// Packetisation time we answer with.
    pub ptime: u32,
}

/// Chooses what to answer to `offer`.
pub fn negotiate(offer: &SessionDescription) -> Result<Answer, SdpError> {
    let codec = offer
        .formats
        .iter()
        .find_map(|f| match (f.encoding.as_str(), f.clock_rate) {
            ("PCMU", 8000) => Some(Codec::Pcmu),
            ("PCMA", 8000) => Some(Codec::Pcma),
            _ => None,
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = offer
        .formats
        .iter()
        .find(|f| f.encoding == "TELEPHONE-EVENT" && f.clock_rate == 8000)
        .map(|f| f.payload_type);
    let remote = match offer.address {
        Some(address) if offer.port != 0 && !address.is_unspecified() => {
            Some((address, offer.port))
        }
        _ => None,
    };
    // An old-style hold (c=0.0.0.0) is a hold too.
    let direction = if remote.is_none() && offer.direction == Direction::SendRecv {
        Direction::Inactive
    } else {
        offer.direction.answer()
    };
    Ok(Answer {
        codec,
        telephone_event,
        direction,
        remote,
        ptime: offer.ptime.unwrap_or(20).clamp(10, 60),
    })
}

/// Telephone-event payload type the gateway offers.
pub const OFFERED_EVENT_PT: u8 = 101;

/// Writes the gateway's own offer: PCMU and PCMA (`preferred` first, so a peer that can will
/// use the same law as the other leg and nothing is transcoded) and telephone-event.
pub fn offer_sdp(
    preferred: Codec,
    local: (IpAddr, u16),
    session_id: u64,
    session_version: u64,
) -> String {
    let (ip, port) = local;
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let other = match preferred {
        Codec::Pcmu => Codec::Pcma,
        Codec::Pcma => Codec::Pcmu,
    };
    let (a, b, te) = (preferred.payload_type(), other.payload_type(), OFFERED_EVENT_PT);
    format!(
        "v=0\r\no=switchboard {session_id} {session_version} IN {family} {ip}\r\ns=switchboard\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {a} {b} {te}\r\na=rtpmap:{a} {an}/8000\r\na=rtpmap:{b} {bn}/8000\r\n\
         a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
        an = preferred.name(),
        bn = other.name(),
    )
}

/// Reads a peer's answer to our offer: the codec it chose (its first PCMU/PCMA), its
/// telephone-event type, where to send, and the direction seen from our side (a peer answering
/// `recvonly` leaves us `sendonly`): the same reading as [`negotiate`] gives an offer.
pub fn read_answer(answer: &SessionDescription) -> Result<Answer, SdpError> {
    negotiate(answer)
}

impl Answer {
    /// Whether, with this as our side's direction, we may send to the peer.
    pub fn we_send(&self) -> bool {
        self.remote.is_some() && matches!(self.direction, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether, with this as our side's direction, the peer is expected to send to us.
    pub fn peer_sends(&self) -> bool {
        matches!(self.direction, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Writes the answer SDP, with our media at `local` and `session_version` (increase it on
    /// every re-offer within a dialog).
    pub fn to_sdp(&self, local: (IpAddr, u16), session_id: u64, session_version: u64) -> String {
        let (ip, port) = local;
        let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
        let mut sdp = String::with_capacity(256);
        let mut payloads = self.codec.payload_type().to_string();
        if let Some(te) = self.telephone_event {
            let _ = write!(payloads, " {te}");
        }
        let _ = write!(
            sdp,
            "v=0\r\no=switchboard {session_id} {session_version} IN {family} {ip}\r\ns=switchboard\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {payloads}\r\na=rtpmap:{pt} {name}/8000\r\n",
            pt = self.codec.payload_type(),
            name = self.codec.name(),
        );
        if let Some(te) = self.telephone_event {
            let _ = write!(sdp, "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n");
        }
        let _ = write!(sdp, "a=ptime:{}\r\na={}\r\n", self.ptime, self.direction.attribute());
        sdp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
        m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

    #[test]
    fn offerers_first_codec_and_telephone_event() {
        let offer = SessionDescription::parse(OFFER).unwrap();
        let answer = negotiate(&offer).unwrap();
        assert_eq!(answer.codec, Codec::Pcma);
        assert_eq!(answer.telephone_event, Some(101));
        assert_eq!(answer.remote, Some(("127.0.0.1".parse().unwrap(), 6000)));
        let sdp = answer.to_sdp(("127.0.0.1".parse().unwrap(), 40_000), 7, 1);
        assert!(sdp.contains("m=audio 40000 RTP/AVP 8 101\r\n"), "{sdp}");
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000") && sdp.contains("a=sendrecv"));
        // Our own answer parses back.
        let back = SessionDescription::parse(&sdp).unwrap();
        assert_eq!((back.port, back.formats.len()), (40_000, 2));
    }

    #[test]
    fn static_payload_types_without_rtpmap() {
        let offer =
            SessionDescription::parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 0\r\n")
                .unwrap();
        assert_eq!(negotiate(&offer).unwrap().codec, Codec::Pcmu);
    }

    #[test]
    fn no_common_codec_is_488() {
        let offer = SessionDescription::parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5004 RTP/AVP 18 111\r\na=rtpmap:111 opus/48000/2\r\n").unwrap();
        assert_eq!(negotiate(&offer), Err(SdpError::NoCommonCodec));
        let video_only =
            SessionDescription::parse("v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5004 RTP/AVP 96\r\n");
        assert_eq!(video_only, Err(SdpError::NoAudio));
    }

    #[test]
    fn hold_and_resume() {
        let hold = OFFER.replace("a=sendrecv", "a=sendonly");
        let answer = negotiate(&SessionDescription::parse(&hold).unwrap()).unwrap();
        assert_eq!(answer.direction, Direction::RecvOnly);
        assert!(SessionDescription::parse(&hold).unwrap().direction.is_hold());
        let inactive = negotiate(
            &SessionDescription::parse(&OFFER.replace("a=sendrecv", "a=inactive")).unwrap(),
        )
        .unwrap();
        assert_eq!(inactive.direction, Direction::Inactive);
        let old_style = negotiate(
            &SessionDescription::parse(&OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!((old_style.direction, old_style.remote), (Direction::Inactive, None));
    }

    #[test]
    fn garbage_is_malformed_never_a_panic() {
        for body in [
            "",
            "hello",
            "v=0\r\nm=audio x RTP/AVP 0\r\n",
            "v=0\r\nm=audio 5 RTP/AVP 300\r\n",
            "v=0\r\nc=IN IP4 nope\r\nm=audio 5 RTP/AVP 0\r\n",
            "v=0\r\nm=audio\r\n",
            "xx=1",
        ] {
            assert!(SessionDescription::parse(body).is_err(), "{body:?}");
        }
        for len in 0..200 {
            let junk: String =
                (0..len).map(|i| char::from(b"v=m aud io0123 /\r\n:"[i % 19])).collect();
            let _ = SessionDescription::parse(&junk);
        }
    }
}
