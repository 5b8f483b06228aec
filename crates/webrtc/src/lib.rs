//! The WebRTC edge: one persistent PeerConnection per logged-in agent's browser.
//!
//! The browser makes the offer when the agent opens the console (over the agent WebSocket,
//! which the API owns); [`AgentPeer::answer`] answers it with G.711 only (PCMU, PCMA and
//! telephone-event), so the media relay copies payloads without transcoding. The connection
//! lives as long as the agent's session: a call is put on it with [`AgentPeer::attach`], which
//! hands the relay a [`PacketPort`] (plain RTP packets both ways), and taken off again by
//! dropping the bridge. Answering a call therefore costs no ICE or DTLS handshake.
//!
//! Between calls the browser keeps sending (silence); those packets are dropped here. What the
//! browser receives is one continuous stream (one SSRC, sequence and timestamp carried across
//! calls by a [`StreamRewriter`] of its own), so its jitter buffer never sees a new source.
//!
//! This crate knows nothing of agents or calls: the server maps peers to agents and reports
//! each peer's [`PeerEvent`]s to the call-center core.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::shared::marshal::Unmarshal;
use switchboard_media::relay::{LegMedia, PacketPort};
use switchboard_media::rewrite::StreamRewriter;
use tokio::sync::mpsc;
use tracing::debug;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

pub mod client;
mod sdp;

pub use sdp::Negotiated;

/// Why a peer could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum WebrtcError {
    /// The browser's offer could not be answered (bad SDP, no G.711, ICE or DTLS setup).
    #[error("cannot negotiate: {0}")]
    Negotiation(String),
    /// A remote ICE candidate was refused.
    #[error("bad ICE candidate: {0}")]
    Candidate(String),
}

/// Settings for every agent's peer.
#[derive(Debug, Clone)]
pub struct WebrtcConfig {
    /// Address the peers' UDP sockets bind to (their host candidate). Each peer takes its own
    /// port (the crate has no UDP mux yet).
    pub ip: IpAddr,
    /// Longest wait for local ICE candidates before answering anyway.
    pub gather_timeout: Duration,
}

/// What happens to a peer's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerEvent {
    /// ICE and DTLS are up: media can flow.
    Connected,
    /// The connection dropped (disconnected, failed or closed). It may come back (ICE
    /// recovers) or the browser may make a new peer.
    Lost,
}

/// The report of one peer, tagged with its id so a replaced peer's late reports can be told
/// from the current one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerReport {
    /// [`AgentPeer::id`].
    pub peer_id: u64,
    /// What happened.
    pub event: PeerEvent,
}

/// Depth of the packet queues between a peer and the relay (20 ms packets: ~1.3 s).
const QUEUE: usize = 64;

struct Shared {
    /// Where the browser's packets go while a call is attached.
    to_relay: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    /// The stream towards the browser, continuous across calls.
    rewriter: Mutex<StreamRewriter>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    started: std::time::Instant,
}

/// One agent's browser connection.
pub struct AgentPeer {
    id: u64,
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    negotiated: Negotiated,
}

impl std::fmt::Debug for AgentPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentPeer")
            .field("id", &self.id)
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

struct Handler {
    peer_id: u64,
    shared: Arc<Shared>,
    reports: mpsc::UnboundedSender<PeerReport>,
    gathered: mpsc::Sender<()>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        debug!(peer = self.peer_id, %state, "agent peer connection");
        let event = match state {
            RTCPeerConnectionState::Connected => PeerEvent::Connected,
            RTCPeerConnectionState::Disconnected
            | RTCPeerConnectionState::Failed
            | RTCPeerConnectionState::Closed => PeerEvent::Lost,
            _ => return,
        };
        let _ = self.reports.send(PeerReport { peer_id: self.peer_id, event });
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let shared = Arc::clone(&self.shared);
        tokio::spawn(forward_from_browser(track, shared));
    }
}

/// Moves the browser's packets to the attached call, if any; drops them otherwise.
async fn forward_from_browser(track: Arc<dyn TrackRemote>, shared: Arc<Shared>) {
    use rtc::shared::marshal::Marshal;
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        let Ok(mut slot) = shared.to_relay.lock() else { break };
        let Some(to_relay) = slot.as_ref() else { continue };
        let Ok(bytes) = packet.marshal() else { continue };
        match to_relay.try_send(bytes.to_vec()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
            Err(mpsc::error::TrySendError::Closed(_)) => *slot = None,
        }
    }
}

/// Moves the relay's packets for one call to the browser's track, renumbered into the
/// connection's continuous stream. Ends when the bridge drops its sender.
async fn forward_to_browser(mut from_relay: mpsc::Receiver<Vec<u8>>, shared: Arc<Shared>) {
    while let Some(datagram) = from_relay.recv().await {
        let mut raw = BytesMut::from(&datagram[..]);
        let Ok(mut packet) = rtp::Packet::unmarshal(&mut raw) else { continue };
        let now_ms = i64::try_from(shared.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let out = match shared.rewriter.lock() {
            Ok(mut r) => r.rewrite(
                packet.header.ssrc,
                packet.header.sequence_number,
                packet.header.timestamp,
                packet.header.marker,
                now_ms,
            ),
            Err(_) => break,
        };
        packet.header.ssrc = shared.ssrc;
        packet.header.sequence_number = out.sequence;
        packet.header.timestamp = out.timestamp;
        packet.header.marker = out.marker;
        if shared.track.write_rtp(packet).await.is_err() {
            // Not bound yet (no connection) or closed: this packet is lost, later ones may not be.
            continue;
        }
    }
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A pseudo-random 32-bit value (SSRC, first sequence number); distinctness is all that matters.
fn random_u32(salt: u64) -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut z = (nanos as u64).wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as u32
}

fn codec(mime: &str, fmtp: &str) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: mime.to_owned(),
        clock_rate: 8000,
        channels: if mime.ends_with("telephone-event") { 0 } else { 1 },
        sdp_fmtp_line: fmtp.to_owned(),
        rtcp_feedback: vec![],
    }
}

/// No mDNS: we give and take plain IP candidates (the console asks for the microphone first,
/// so browsers expose their addresses), and an mDNS socket per agent would cost a port and
/// fail on hosts without multicast.
fn setting_engine() -> webrtc::peer_connection::SettingEngine {
    webrtc::peer_connection::SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .build()
}

fn media_engine() -> Result<MediaEngine, WebrtcError> {
    use rtc::peer_connection::configuration::media_engine::{
        MIME_TYPE_PCMA, MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT,
    };
    let mut engine = MediaEngine::default();
    for (mime, pt, fmtp) in
        [(MIME_TYPE_PCMU, 0, ""), (MIME_TYPE_PCMA, 8, ""), (MIME_TYPE_TELEPHONE_EVENT, 101, "0-15")]
    {
        engine
            .register_codec(
                RTCRtpCodecParameters { rtp_codec: codec(mime, fmtp), payload_type: pt },
                RtpCodecKind::Audio,
            )
            .map_err(|e| WebrtcError::Negotiation(e.to_string()))?;
    }
    Ok(engine)
}

/// The one audio track a peer sends: PCMU with a fixed SSRC.
fn g711_track(name: String, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        name.clone(),
        format!("{name}-audio"),
        name,
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: codec(rtc::peer_connection::configuration::media_engine::MIME_TYPE_PCMU, ""),
            ..Default::default()
        }],
    )))
}

/// A peer connection with our engines on `config.ip` (any port) sending `track`.
async fn build_peer(
    config: &WebrtcConfig,
    handler: Arc<dyn PeerConnectionEventHandler>,
    track: &Arc<TrackLocalStaticRTP>,
) -> Result<Arc<dyn PeerConnection>, WebrtcError> {
    let neg = |e: webrtc::error::Error| WebrtcError::Negotiation(e.to_string());
    let pc = PeerConnectionBuilder::new()
        .with_media_engine(media_engine()?)
        .with_setting_engine(setting_engine())
        .with_handler(handler)
        .with_udp_addrs(vec![std::net::SocketAddr::new(config.ip, 0)])
        .build()
        .await
        .map_err(neg)?;
    let pc: Arc<dyn PeerConnection> = Arc::new(pc);
    pc.add_track(Arc::clone(track) as Arc<dyn TrackLocal>).await.map_err(neg)?;
    Ok(pc)
}

impl AgentPeer {
    /// Answers a browser's offer. Returns the peer and the answer SDP (with our candidates in
    /// it: the browser needs no trickle from us). The peer's connection changes are sent to
    /// `reports`.
    pub async fn answer(
        config: &WebrtcConfig,
        offer_sdp: String,
        reports: mpsc::UnboundedSender<PeerReport>,
    ) -> Result<(AgentPeer, String), WebrtcError> {
        let neg = |e: webrtc::error::Error| WebrtcError::Negotiation(e.to_string());
        let id = next_id();
        let ssrc = random_u32(id);
        let track = g711_track(format!("switchboard-{id}"), ssrc);
        let shared = Arc::new(Shared {
            to_relay: Mutex::new(None),
            rewriter: Mutex::new(StreamRewriter::new(
                ssrc,
                (random_u32(id ^ 1) & 0x7FFF) as u16,
                random_u32(id ^ 2),
            )),
            track: Arc::clone(&track),
            ssrc,
            started: std::time::Instant::now(),
        });
        let (gathered_tx, mut gathered) = mpsc::channel(1);
        let handler = Arc::new(Handler {
            peer_id: id,
            shared: Arc::clone(&shared),
            reports,
            gathered: gathered_tx,
        });
        let pc = build_peer(config, handler, &track).await?;
        let offer = RTCSessionDescription::offer(offer_sdp).map_err(neg)?;
        pc.set_remote_description(offer).await.map_err(neg)?;
        let answer = pc.create_answer(None).await.map_err(neg)?;
        pc.set_local_description(answer).await.map_err(neg)?;
        let _ = tokio::time::timeout(config.gather_timeout, gathered.recv()).await;
        let local = pc
            .local_description()
            .await
            .ok_or_else(|| WebrtcError::Negotiation("no local description".into()))?;
        let negotiated = match Negotiated::from_answer(&local.sdp) {
            Some(n) => n,
            None => {
                let _ = pc.close().await;
                return Err(WebrtcError::Negotiation("the offer has no PCMU or PCMA audio".into()));
            }
        };
        Ok((AgentPeer { id, pc, shared, negotiated }, local.sdp))
    }

    /// This peer's id (in its [`PeerReport`]s).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The codec and telephone-event payload types agreed with the browser.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// Adds a candidate the browser trickled.
    pub async fn add_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
    ) -> Result<(), WebrtcError> {
        if candidate.trim().is_empty() {
            // End of candidates.
            return Ok(());
        }
        let init =
            RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
        self.pc.add_ice_candidate(init).await.map_err(|e| WebrtcError::Candidate(e.to_string()))
    }

    /// Puts a call on this connection: the relay gets the browser's packets from the returned
    /// port and sends the caller's to it. Replaces any call attached before. The call comes off
    /// when the bridge holding the port is dropped.
    pub fn attach(&self) -> (PacketPort, LegMedia) {
        let (to_relay, from_peer) = mpsc::channel(QUEUE);
        let (to_peer, from_relay) = mpsc::channel(QUEUE);
        if let Ok(mut slot) = self.shared.to_relay.lock() {
            *slot = Some(to_relay);
        }
        tokio::spawn(forward_to_browser(from_relay, Arc::clone(&self.shared)));
        (
            PacketPort { from_peer, to_peer },
            LegMedia::packets(self.negotiated.audio_pt, self.negotiated.event_pt),
        )
    }

    /// Takes any call off this connection (the browser's packets are dropped again).
    pub fn detach(&self) {
        if let Ok(mut slot) = self.shared.to_relay.lock() {
            *slot = None;
        }
    }

    /// Closes the connection.
    pub async fn close(&self) {
        self.detach();
        let _ = self.pc.close().await;
    }
}
