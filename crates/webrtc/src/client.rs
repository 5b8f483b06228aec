//! A browser-like client peer on the same webrtc crate: it offers G.711 the way Chromium does
//! (DTLS-SRTP, `a=setup:actpass`, PCMU first), plays a tone and keeps what it hears. Tests use
//! it where a browser would be overkill, and the load generator runs hundreds of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::rtp;
use switchboard_media::g711::ulaw_to_linear;
use switchboard_media::tone::sine_ulaw;
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription,
};

use crate::{WebrtcConfig, WebrtcError, build_peer, g711_track, random_u32};

/// What a client peer has heard.
#[derive(Debug, Default)]
pub struct Heard {
    /// RTP packets received.
    pub packets: AtomicU64,
    /// The last second of audio, decoded (8 kHz).
    pub recent: Mutex<Vec<i16>>,
}

struct ClientHandler {
    heard: Arc<Heard>,
    gathered: mpsc::Sender<()>,
    connected: mpsc::Sender<bool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for ClientHandler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.connected.try_send(true);
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                let _ = self.connected.try_send(false);
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let heard = Arc::clone(&self.heard);
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    heard.packets.fetch_add(1, Ordering::Relaxed);
                    if packet.header.payload_type == 0
                        && let Ok(mut recent) = heard.recent.lock()
                    {
                        recent.extend(packet.payload.iter().map(|&b| ulaw_to_linear(b)));
                        let excess = recent.len().saturating_sub(8000);
                        recent.drain(..excess);
                    }
                }
            }
        });
    }
}

/// A client peer before it has an answer.
pub struct ClientOffer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    heard: Arc<Heard>,
    connected: mpsc::Receiver<bool>,
    /// The offer SDP to send to the gateway.
    pub sdp: String,
}

/// A connected client peer playing a tone.
pub struct ClientPeer {
    pc: Arc<dyn PeerConnection>,
    /// What it has heard.
    pub heard: Arc<Heard>,
    player: tokio::task::JoinHandle<()>,
    sending: Arc<std::sync::atomic::AtomicBool>,
}

impl ClientOffer {
    /// Makes an offer like a browser's: one sendrecv audio track, G.711 and telephone-event.
    pub async fn new(config: &WebrtcConfig) -> Result<ClientOffer, WebrtcError> {
        let neg = |e: webrtc::error::Error| WebrtcError::Negotiation(e.to_string());
        let ssrc = random_u32(0xC11E);
        let track = g711_track(format!("client-{ssrc}"), ssrc);
        let heard = Arc::new(Heard::default());
        let (gathered_tx, mut gathered) = mpsc::channel(1);
        let (connected_tx, connected) = mpsc::channel(4);
        let handler = Arc::new(ClientHandler {
            heard: Arc::clone(&heard),
            gathered: gathered_tx,
            connected: connected_tx,
        });
        let pc = build_peer(config, handler, &track).await?;
        let offer = pc.create_offer(None).await.map_err(neg)?;
        pc.set_local_description(offer).await.map_err(neg)?;
        let _ = tokio::time::timeout(config.gather_timeout, gathered.recv()).await;
        let sdp = pc
            .local_description()
            .await
            .ok_or_else(|| WebrtcError::Negotiation("no local offer".into()))?
            .sdp;
        Ok(ClientOffer { pc, track, ssrc, heard, connected, sdp })
    }

    /// Applies the gateway's answer, waits for the connection (up to `timeout`) and starts
    /// playing `tone_hz` (μ-law, 20 ms packets).
    pub async fn connect(
        mut self,
        answer_sdp: String,
        tone_hz: f64,
        timeout: Duration,
    ) -> Result<ClientPeer, WebrtcError> {
        let neg = |e: webrtc::error::Error| WebrtcError::Negotiation(e.to_string());
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer_sdp).map_err(neg)?)
            .await
            .map_err(neg)?;
        match tokio::time::timeout(timeout, self.connected.recv()).await {
            Ok(Some(true)) => {}
            _ => return Err(WebrtcError::Negotiation("the client peer did not connect".into())),
        }
        let (track, ssrc) = (self.track, self.ssrc);
        let sending = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let on = Arc::clone(&sending);
        let player = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut sample = 0u64;
            let mut sequence = 1u16;
            loop {
                tick.tick().await;
                if !on.load(Ordering::Relaxed) {
                    // Like a page whose sender has no track: nothing on the wire, time goes on.
                    sample += 160;
                    continue;
                }
                let payload = sine_ulaw(tone_hz, 0.5, sample, 160);
                let header = rtp::Header {
                    version: 2,
                    payload_type: 0,
                    sequence_number: sequence,
                    timestamp: u32::try_from(sample & 0xFFFF_FFFF).unwrap_or(0),
                    ssrc,
                    ..Default::default()
                };
                let _ = track.write_rtp(rtp::Packet { header, payload: payload.into() }).await;
                sample += 160;
                sequence = sequence.wrapping_add(1);
            }
        });
        Ok(ClientPeer { pc: self.pc, heard: self.heard, player, sending })
    }
}

impl ClientPeer {
    /// Starts or stops sending the tone (as the console does between calls).
    pub fn set_sending(&self, on: bool) {
        self.sending.store(on, Ordering::Relaxed);
    }

    /// Closes the peer and stops playing.
    pub async fn close(self) {
        self.player.abort();
        let _ = self.pc.close().await;
    }
}
