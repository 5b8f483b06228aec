//! The RTP relay: UDP sockets from a port range, and a bridge task that moves packets between
//! the two legs of a call.
//!
//! A leg is a UDP socket of ours (a SIP peer: trunk, PBX, desk phone), a pair of packet
//! channels ([`PacketPort`]) whose far end is an adapter that owns the transport itself (a
//! browser's WebRTC track: the adapter does DTLS-SRTP and hands over plain RTP), or a
//! [`Source`]: no peer, a sound the relay plays to the other leg (a waiting caller's ringback).
//!
//! Each leg has its own socket. A packet received on one leg is checked, its payload passed
//! through untouched when both legs use the same G.711 law (or converted by table when they
//! do not), its header rewritten by that direction's [`StreamRewriter`] and sent to the other
//! leg's peer. RTP is symmetric: a leg sends to the address its peer's packets come from,
//! which may differ from the SDP address behind NAT. Telephone-events are relayed under the
//! other leg's payload type and reported as digits; a leg that negotiated none has its keys
//! found in its audio (in-band DTMF). A leg that is expected to send and stays
//! silent for the configured time is reported as dead.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::dtmf::{DtmfDetector, TelephoneEvent};
use crate::g711::Transcoder;
use crate::inband::InbandDtmf;
use crate::recording::Tap;
use crate::rewrite::StreamRewriter;
use crate::rtp::{RtpPacket, rewrite_header};
use crate::silence::SilenceWatch;

mod monitor;
mod source;

use monitor::MonitorLeg;
pub use monitor::{Monitor, MonitorMode};
pub use source::{FRAME_SAMPLES, Frames, Sound, Source};

/// Payload type of G.711 μ-law.
pub const PT_PCMU: u8 = 0;
/// Payload type of G.711 A-law.
pub const PT_PCMA: u8 = 8;

static TRANSCODER: LazyLock<Transcoder> = LazyLock::new(Transcoder::new);

/// Even UDP ports of a configured range, handed out one per leg and returned when the leg's
/// socket is dropped.
#[derive(Debug)]
pub struct PortPool {
    ip: IpAddr,
    free: Mutex<VecDeque<u16>>,
}

impl PortPool {
    /// A pool of the even ports in `first..=last` on `ip`.
    pub fn new(ip: IpAddr, first: u16, last: u16) -> Arc<PortPool> {
        let free = (first..=last).filter(|p| p % 2 == 0).collect();
        Arc::new(PortPool { ip, free: Mutex::new(free) })
    }

    /// The address sockets are bound to.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Ports not in use.
    pub fn available(&self) -> usize {
        self.free.lock().map_or(0, |f| f.len())
    }

    /// Binds a socket on the next free port. A port another program holds is skipped (and
    /// put at the back of the queue); the error after trying every port is `AddrInUse`.
    pub fn bind(self: &Arc<Self>) -> io::Result<RtpSocket> {
        let tries = self.available();
        for _ in 0..tries {
            let Some(port) = self.free.lock().ok().and_then(|mut f| f.pop_front()) else { break };
            match std::net::UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(std_socket) => {
                    std_socket.set_nonblocking(true)?;
                    let socket = UdpSocket::from_std(std_socket)?;
                    return Ok(RtpSocket { socket, port, pool: Arc::clone(self) });
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    if let Ok(mut f) = self.free.lock() {
                        f.push_back(port);
                    }
                }
                Err(e) => {
                    if let Ok(mut f) = self.free.lock() {
                        f.push_front(port);
                    }
                    return Err(e);
                }
            }
        }
        Err(io::Error::new(io::ErrorKind::AddrInUse, "no free RTP port in the configured range"))
    }
}

/// One leg's UDP socket; its port goes back to the pool on drop.
#[derive(Debug)]
pub struct RtpSocket {
    socket: UdpSocket,
    port: u16,
    pool: Arc<PortPool>,
}

impl RtpSocket {
    /// The local port (what goes into this leg's SDP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The local address.
    pub fn local(&self) -> SocketAddr {
        SocketAddr::new(self.pool.ip, self.port)
    }
}

impl Drop for RtpSocket {
    fn drop(&mut self) {
        if let Ok(mut f) = self.pool.free.lock() {
            f.push_back(self.port);
        }
    }
}

/// A leg whose RTP packets travel over channels instead of a socket of the relay's: the adapter
/// at the other end (the WebRTC edge) receives and sends them on its own transport. Packets are
/// whole RTP datagrams. Sending to the adapter never waits: when its queue is full the packet
/// is counted as not sent.
#[derive(Debug)]
pub struct PacketPort {
    /// Packets from the peer (the browser's microphone).
    pub from_peer: mpsc::Receiver<Vec<u8>>,
    /// Packets for the peer.
    pub to_peer: mpsc::Sender<Vec<u8>>,
}

/// How a leg's packets come and go.
#[derive(Debug)]
pub enum LegIo {
    /// A UDP socket from the relay's port pool.
    Udp(RtpSocket),
    /// Channels to an adapter.
    Packets(PacketPort),
    /// No peer: the relay plays a sound to the other side (nothing is sent to it).
    Source(Source),
}

impl From<Source> for LegIo {
    fn from(source: Source) -> LegIo {
        LegIo::Source(source)
    }
}

impl From<RtpSocket> for LegIo {
    fn from(socket: RtpSocket) -> LegIo {
        LegIo::Udp(socket)
    }
}

impl From<PacketPort> for LegIo {
    fn from(port: PacketPort) -> LegIo {
        LegIo::Packets(port)
    }
}

impl LegIo {
    /// Waits for the next datagram; `None` as the source for a packet leg. A packet leg whose
    /// adapter has gone never yields again (its silence is what the dead-peer check sees).
    async fn recv(&mut self, buf: &mut [u8]) -> (usize, Option<SocketAddr>) {
        match self {
            LegIo::Udp(s) => loop {
                if let Ok((len, from)) = s.socket.recv_from(buf).await {
                    return (len, Some(from));
                }
            },
            LegIo::Packets(p) => loop {
                match p.from_peer.recv().await {
                    Some(packet) if packet.len() <= buf.len() => {
                        buf[..packet.len()].copy_from_slice(&packet);
                        return (packet.len(), None);
                    }
                    Some(_) => {}
                    None => std::future::pending::<()>().await,
                }
            },
            LegIo::Source(source) => (source.next_packet(buf).await, None),
        }
    }
}

/// What one leg negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegMedia {
    /// Audio payload type: [`PT_PCMU`] or [`PT_PCMA`].
    pub audio_pt: u8,
    /// Telephone-event payload type, if negotiated.
    pub event_pt: Option<u8>,
    /// Where the SDP says to send (until the peer's own packets say otherwise); unused for a
    /// packet leg.
    pub remote: Option<SocketAddr>,
    /// Whether we may send to this leg (false while it has us on hold with `sendonly` or
    /// `inactive`, or its SDP gives no address).
    pub send: bool,
    /// Whether this leg is expected to send (false while `inactive` or `recvonly`): a leg
    /// that is not expected to send is never reported dead.
    pub expect_packets: bool,
}

impl LegMedia {
    /// A leg sending and receiving with `audio_pt` at `remote`.
    pub fn new(audio_pt: u8, event_pt: Option<u8>, remote: Option<SocketAddr>) -> LegMedia {
        LegMedia { audio_pt, event_pt, remote, send: remote.is_some(), expect_packets: true }
    }

    /// A [`PacketPort`] leg sending and receiving with `audio_pt` (it needs no address).
    pub fn packets(audio_pt: u8, event_pt: Option<u8>) -> LegMedia {
        LegMedia { audio_pt, event_pt, remote: None, send: true, expect_packets: true }
    }
}

/// Which leg of a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first leg (the caller, by convention).
    A,
    /// The second leg (the agent).
    B,
}

/// What a bridge reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A DTMF digit arrived from this side (RFC 4733).
    Dtmf {
        /// Who pressed it.
        side: Side,
        /// The key.
        digit: char,
    },
    /// The clips of a playlist played to this side are over (its sequel goes on).
    SoundDone {
        /// Who heard it.
        side: Side,
        /// The playlist's id.
        id: u64,
    },
    /// This side said nothing for the time [`BridgeHandle::watch_silence`] asked for (reported
    /// once per watch).
    Silence {
        /// The quiet side.
        side: Side,
    },
    /// This side sent nothing for the configured time; the bridge keeps running until stopped.
    PeerDead {
        /// The silent side.
        side: Side,
    },
}

/// Bridge settings.
#[derive(Debug, Clone, Copy)]
pub struct BridgeOptions {
    /// Silence after which a leg is reported dead (0 = never).
    pub dead_peer: Duration,
}

/// Counters over every bridge in the process, for benchmarks and the status API.
#[derive(Debug)]
pub struct RelayStats {
    /// Packets received on any leg.
    pub packets_in: AtomicU64,
    /// Packets sent to a peer.
    pub packets_out: AtomicU64,
    /// Datagrams that were not RTP, or a payload type the leg did not negotiate.
    pub dropped: AtomicU64,
    /// Packets received while the other leg had nowhere to send.
    pub not_sent: AtomicU64,
    /// Time from a packet's receipt to its send, in 10 µs buckets (the last one is ≥ 2 ms).
    latency: [AtomicU64; LATENCY_BUCKETS],
}

const LATENCY_BUCKETS: usize = 201;
const BUCKET_US: u64 = 10;

/// The process-wide relay counters.
pub static RELAY_STATS: LazyLock<RelayStats> = LazyLock::new(|| RelayStats {
    packets_in: AtomicU64::new(0),
    packets_out: AtomicU64::new(0),
    dropped: AtomicU64::new(0),
    not_sent: AtomicU64::new(0),
    latency: std::array::from_fn(|_| AtomicU64::new(0)),
});

impl RelayStats {
    fn record_latency(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket =
            usize::try_from(us / BUCKET_US).unwrap_or(LATENCY_BUCKETS - 1).min(LATENCY_BUCKETS - 1);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// The receive-to-send time at quantile `q` (0..=1) in microseconds, as the upper edge of
    /// its 10 µs bucket; `None` before any packet was relayed.
    pub fn latency_quantile_us(&self, q: f64) -> Option<u64> {
        let counts: Vec<u64> = self.latency.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        // Rank of the quantile, at least 1 (the smallest sample for q = 0).
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some((i as u64 + 1) * BUCKET_US);
            }
        }
        Some(LATENCY_BUCKETS as u64 * BUCKET_US)
    }

    /// Clears the latency histogram (benchmarks measure one phase at a time).
    pub fn reset_latency(&self) {
        for c in &self.latency {
            c.store(0, Ordering::Relaxed);
        }
    }
}

enum Control {
    Update(Side, LegMedia),
    Replace(Side, LegIo, LegMedia),
    Hold(bool),
    Play(Side, Option<Sound>),
    Tap(Option<Tap>),
    Silence(Side, Option<Duration>),
    Monitor(Option<Monitor>),
    MonitorMode(MonitorMode),
    Stop,
}

/// Controls a running bridge; dropping it stops the bridge and frees both sockets.
#[derive(Debug)]
pub struct BridgeHandle {
    ctl: mpsc::UnboundedSender<Control>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Update(side, m) => write!(f, "Update({side:?}, {m:?})"),
            Control::Replace(side, _, m) => write!(f, "Replace({side:?}, {m:?})"),
            Control::Hold(on) => write!(f, "Hold({on})"),
            Control::Play(side, sound) => write!(f, "Play({side:?}, {})", sound.is_some()),
            Control::Tap(t) => write!(f, "Tap({})", t.is_some()),
            Control::Silence(side, limit) => write!(f, "Silence({side:?}, {limit:?})"),
            Control::Monitor(m) => write!(f, "Monitor({:?})", m.as_ref().map(|m| m.mode)),
            Control::MonitorMode(mode) => write!(f, "MonitorMode({mode:?})"),
            Control::Stop => write!(f, "Stop"),
        }
    }
}

impl BridgeHandle {
    /// New negotiated media for one leg (a re-INVITE: hold, resume, new address or codec).
    pub fn update(&self, side: Side, media: LegMedia) {
        let _ = self.ctl.send(Control::Update(side, media));
    }

    /// Puts a different peer on one side (a transfer): its packets and socket replace the old
    /// ones, which are dropped; the stream the other side receives stays continuous.
    pub fn replace(&self, side: Side, io: impl Into<LegIo>, media: LegMedia) {
        let _ = self.ctl.send(Control::Replace(side, io.into(), media));
    }

    /// Holds (or resumes) the call from the middle: while held nothing is relayed either way
    /// and neither leg is reported dead for its silence.
    pub fn hold(&self, on: bool) {
        let _ = self.ctl.send(Control::Hold(on));
    }

    /// Plays `sound` to one side instead of what the other side sends (music to a caller put
    /// on hold); `None` goes back to relaying. The side's stream stays continuous.
    pub fn play(&self, side: Side, sound: Option<Sound>) {
        let _ = self.ctl.send(Control::Play(side, sound));
    }

    /// Starts (or, with `None`, stops) handing every audio frame of both legs to a recording:
    /// side A's frames go to the left channel, side B's to the right. Frames are copied before
    /// any transcoding, so each keeps its leg's own law.
    pub fn record(&self, tap: Option<Tap>) {
        let _ = self.ctl.send(Control::Tap(tap));
    }

    /// Reports [`MediaEvent::Silence`] once `side` has said nothing for `limit` (counted from
    /// now); `None` stops watching.
    pub fn watch_silence(&self, side: Side, limit: Option<Duration>) {
        let _ = self.ctl.send(Control::Silence(side, limit));
    }

    /// Puts a supervisor on the call (or, with `None`, takes them off): they hear both sides
    /// mixed, and are heard as their [`MonitorMode`] says. A new monitor replaces the old one.
    pub fn monitor(&self, monitor: Option<Monitor>) {
        let _ = self.ctl.send(Control::Monitor(monitor));
    }

    /// Changes what the supervisor on the call does (listen, whisper, barge).
    pub fn monitor_mode(&self, mode: MonitorMode) {
        let _ = self.ctl.send(Control::MonitorMode(mode));
    }

    /// Stops relaying.
    pub fn stop(&self) {
        let _ = self.ctl.send(Control::Stop);
    }
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        let _ = self.ctl.send(Control::Stop);
    }
}

/// Where the reports of one bridge go.
pub type EventSink = Box<dyn Fn(MediaEvent) + Send + Sync>;

struct Leg {
    io: LegIo,
    media: LegMedia,
    /// Rewrites what is sent *to* this leg.
    rewriter: StreamRewriter,
    dtmf: DtmfDetector,
    /// Keys in the audio, for a leg that negotiated no telephone-event.
    inband: InbandDtmf,
    last_packet: Instant,
    reported_dead: bool,
    /// A sound this leg hears instead of the other leg (music on hold).
    play: Option<Source>,
    /// Watching this leg for silence (a voicemail message ends with it).
    silence: Option<SilenceWatch>,
}

impl Leg {
    fn new(io: LegIo, media: LegMedia, seed: u64, now: Instant) -> Leg {
        let [s0, s1, s2, s3, q0, q1, t0, t1] = seed.to_le_bytes();
        let rewriter = StreamRewriter::new(
            u32::from_le_bytes([s0, s1, s2, s3]),
            u16::from_le_bytes([q0, q1]) & 0x7FFF,
            u32::from_le_bytes([t0, t1, s2, q1]),
        );
        Leg {
            io,
            media,
            rewriter,
            dtmf: DtmfDetector::default(),
            inband: InbandDtmf::default(),
            last_packet: now,
            reported_dead: false,
            play: None,
            silence: None,
        }
    }
}

/// A new pseudo-random seed per leg for SSRC and sequence bases (SplitMix64 over a counter and
/// the clock; unpredictability is not needed, only distinct streams).
fn seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut z =
        COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(u64::from(nanos));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Starts relaying between `a` and `b` on the current tokio runtime.
pub fn bridge(
    a: (impl Into<LegIo>, LegMedia),
    b: (impl Into<LegIo>, LegMedia),
    options: BridgeOptions,
    events: EventSink,
) -> BridgeHandle {
    let (ctl, rx) = mpsc::unbounded_channel();
    let now = Instant::now();
    let legs = [Leg::new(a.0.into(), a.1, seed(), now), Leg::new(b.0.into(), b.1, seed(), now)];
    tokio::spawn(run(legs, options, events, rx));
    BridgeHandle { ctl }
}

const MAX_DATAGRAM: usize = 2048;

async fn run(
    mut legs: [Leg; 2],
    options: BridgeOptions,
    events: EventSink,
    mut ctl: mpsc::UnboundedReceiver<Control>,
) {
    let mut buf_a = vec![0u8; MAX_DATAGRAM];
    let mut buf_b = vec![0u8; MAX_DATAGRAM];
    let mut buf_m = vec![0u8; MAX_DATAGRAM];
    let mut buf_pa = vec![0u8; MAX_DATAGRAM];
    let mut buf_pb = vec![0u8; MAX_DATAGRAM];
    // The dead-peer and silence checks; at least once a second (a silent caller whose phone
    // sends nothing is seen within a second).
    let check_every = if options.dead_peer.is_zero() {
        Duration::from_secs(1)
    } else {
        (options.dead_peer / 4).clamp(Duration::from_millis(50), Duration::from_secs(1))
    };
    let mut held = false;
    let mut tap: Option<Tap> = None;
    let mut monitor: Option<MonitorLeg> = None;
    let mut check = tokio::time::interval(check_every);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The supervisor's frames: 20 ms apart on average (Burst keeps the long-run rate exact).
    let mut mix = tokio::time::interval(Duration::from_millis(20));
    loop {
        let (first, second) = legs.split_at_mut(1);
        let monitoring = monitor.is_some();
        tokio::select! {
            (len, from) = first[0].io.recv(&mut buf_a) => if held { RELAY_STATS.not_sent.fetch_add(1, Ordering::Relaxed); } else { relay(&mut legs, 0, &mut buf_a[..len], from, &events, tap.as_ref(), monitor.as_mut()).await },
            (len, from) = second[0].io.recv(&mut buf_b) => if held { RELAY_STATS.not_sent.fetch_add(1, Ordering::Relaxed); } else { relay(&mut legs, 1, &mut buf_b[..len], from, &events, tap.as_ref(), monitor.as_mut()).await },
            len = played(first[0].play.as_mut(), &mut buf_pa) => play_to(&mut legs[0], &mut buf_pa[..len], &events, Side::A).await,
            len = played(second[0].play.as_mut(), &mut buf_pb) => play_to(&mut legs[1], &mut buf_pb[..len], &events, Side::B).await,
            len = monitor_recv(monitor.as_mut(), &mut buf_m) => if !held && let Some(m) = monitor.as_mut() { m.spoke(&buf_m[..len]) },
            _ = mix.tick(), if monitoring => if let Some(m) = monitor.as_mut() {
                let frame = m.next_frame();
                if !m.send(frame) {
                    RELAY_STATS.not_sent.fetch_add(1, Ordering::Relaxed);
                }
            },
            c = ctl.recv() => match c {
                Some(Control::Update(side, media)) => {
                    let leg = &mut legs[index(side)];
                    leg.media = media;
                    leg.last_packet = Instant::now();
                    leg.reported_dead = false;
                }
                Some(Control::Replace(side, io, media)) => {
                    let leg = &mut legs[index(side)];
                    leg.io = io;
                    leg.media = media;
                    leg.dtmf = DtmfDetector::default();
                    leg.inband = InbandDtmf::default();
                    leg.last_packet = Instant::now();
                    leg.reported_dead = false;
                }
                Some(Control::Hold(on)) => {
                    held = on;
                    let now = Instant::now();
                    for leg in &mut legs {
                        leg.last_packet = now;
                        leg.reported_dead = false;
                    }
                }
                Some(Control::Play(side, sound)) => legs[index(side)].play = sound.map(Source::new),
                Some(Control::Tap(t)) => tap = t,
                Some(Control::Silence(side, limit)) => {
                    legs[index(side)].silence = limit.map(|l| SilenceWatch::new(l, Instant::now()));
                }
                Some(Control::Monitor(m)) => {
                    if monitor.is_none() {
                        mix.reset();
                    }
                    monitor = m.map(|m| MonitorLeg::new(m, seed()));
                }
                Some(Control::MonitorMode(mode)) => {
                    if let Some(m) = monitor.as_mut() {
                        m.set_mode(mode);
                    }
                }
                Some(Control::Stop) | None => break,
            },
            _ = check.tick() => {
                let now = Instant::now();
                for (i, leg) in legs.iter_mut().enumerate() {
                    if leg.silence.as_mut().is_some_and(|w| w.check(now)) {
                        events(MediaEvent::Silence { side: side_of(i) });
                    }
                }
                if options.dead_peer.is_zero() || held {
                    continue;
                }
                for (i, leg) in legs.iter_mut().enumerate() {
                    if leg.media.expect_packets && !leg.reported_dead && now.duration_since(leg.last_packet) >= options.dead_peer {
                        leg.reported_dead = true;
                        events(MediaEvent::PeerDead { side: side_of(i) });
                    }
                }
            }
        }
    }
}

/// The next packet of a sound played to a leg; never ready when nothing is played.
async fn played(source: Option<&mut Source>, buf: &mut [u8]) -> usize {
    match source {
        Some(source) => source.next_packet(buf).await,
        None => std::future::pending().await,
    }
}

/// Sends one packet of a played sound (PCMU) to `leg`, in its law and its stream; reports
/// the end of a playlist's clips.
async fn play_to(leg: &mut Leg, buf: &mut [u8], events: &EventSink, side: Side) {
    if let Some(id) = leg.play.as_mut().and_then(Source::take_done) {
        events(MediaEvent::SoundDone { side, id });
    }
    let Ok(packet) = RtpPacket::parse(buf) else { return };
    if leg.media.audio_pt == PT_PCMA {
        TRANSCODER.ulaw_to_alaw(&mut buf[packet.payload_start..packet.payload_end]);
    }
    let out_pt = leg.media.audio_pt;
    if deliver(leg, buf, &packet, out_pt).await {
        RELAY_STATS.packets_out.fetch_add(1, Ordering::Relaxed);
    } else {
        RELAY_STATS.not_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// The supervisor's next datagram; never ready without a supervisor.
async fn monitor_recv(monitor: Option<&mut MonitorLeg>, buf: &mut [u8]) -> usize {
    match monitor {
        Some(m) => m.io.recv(buf).await.0,
        None => std::future::pending().await,
    }
}

fn index(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

fn side_of(i: usize) -> Side {
    if i == 0 { Side::A } else { Side::B }
}

/// Relays one datagram received on leg `from_leg` from `source`.
async fn relay(
    legs: &mut [Leg; 2],
    from_leg: usize,
    buf: &mut [u8],
    source: Option<SocketAddr>,
    events: &EventSink,
    tap: Option<&Tap>,
    monitor: Option<&mut MonitorLeg>,
) {
    let received = Instant::now();
    let stats = &*RELAY_STATS;
    stats.packets_in.fetch_add(1, Ordering::Relaxed);
    let (first, second) = legs.split_at_mut(1);
    let (src, dst) = if from_leg == 0 {
        (&mut first[0], &mut second[0])
    } else {
        (&mut second[0], &mut first[0])
    };
    let Ok(packet) = RtpPacket::parse(buf) else {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    // Symmetric RTP: answer where the packets come from.
    if source.is_some() {
        src.media.remote = source;
    }
    src.last_packet = received;
    src.reported_dead = false;
    let out_pt = if packet.payload_type == src.media.audio_pt {
        // A phone that sends no RFC 4733 events may still send keys as tones.
        if src.media.event_pt.is_none()
            && !matches!(src.io, LegIo::Source(_))
            && let Some(digit) =
                src.inband.feed(packet.payload(buf), packet.payload_type == PT_PCMA)
        {
            events(MediaEvent::Dtmf { side: side_of(from_leg), digit });
        }
        if let Some(watch) = src.silence.as_mut()
            && watch.frame(packet.payload(buf), packet.payload_type == PT_PCMA, received)
        {
            events(MediaEvent::Silence { side: side_of(from_leg) });
        }
        if let Some(tap) = tap {
            tap.frame(
                side_of(from_leg),
                received,
                packet.ssrc,
                packet.timestamp,
                packet.payload_type,
                packet.payload(buf),
            );
        }
        if src.media.audio_pt != dst.media.audio_pt {
            let payload = &mut buf[packet.payload_start..packet.payload_end];
            match (src.media.audio_pt, dst.media.audio_pt) {
                (PT_PCMU, PT_PCMA) => TRANSCODER.ulaw_to_alaw(payload),
                (PT_PCMA, PT_PCMU) => TRANSCODER.alaw_to_ulaw(payload),
                _ => {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        if let Some(m) = monitor {
            let payload = &mut buf[packet.payload_start..packet.payload_end];
            m.heard(from_leg, dst.media.audio_pt, payload);
            m.mix_into(1 - from_leg, dst.media.audio_pt, payload);
        }
        dst.media.audio_pt
    } else if Some(packet.payload_type) == src.media.event_pt {
        if let Some(event) = TelephoneEvent::parse(packet.payload(buf))
            && let Some(digit) = src.dtmf.feed(packet.timestamp, event)
        {
            events(MediaEvent::Dtmf { side: side_of(from_leg), digit });
        }
        match dst.media.event_pt {
            Some(pt) => pt,
            None => return,
        }
    } else {
        // Comfort noise and anything not negotiated.
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if dst.play.is_some() {
        // The other side hears a sound for now (on hold).
        stats.not_sent.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if deliver(dst, buf, &packet, out_pt).await {
        stats.packets_out.fetch_add(1, Ordering::Relaxed);
        stats.record_latency(received.elapsed());
    } else {
        stats.not_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// Rewrites a packet's header into `dst`'s stream and sends it; whether it went.
async fn deliver(dst: &mut Leg, buf: &mut [u8], packet: &RtpPacket, out_pt: u8) -> bool {
    let deliverable =
        dst.media.send && (matches!(dst.io, LegIo::Packets(_)) || dst.media.remote.is_some());
    if !deliverable {
        return false;
    }
    let now_ms = monotonic_ms();
    let out =
        dst.rewriter.rewrite(packet.ssrc, packet.sequence, packet.timestamp, packet.marker, now_ms);
    rewrite_header(buf, out.marker, out_pt, out.sequence, out.timestamp, out.ssrc);
    match (&dst.io, dst.media.remote) {
        (LegIo::Udp(s), Some(to)) => s.socket.send_to(buf, to).await.is_ok(),
        (LegIo::Udp(_), None) | (LegIo::Source(_), _) => false,
        // Never wait on the adapter: a full queue loses this packet, not the other call's.
        (LegIo::Packets(p), _) => p.to_peer.try_send(buf.to_vec()).is_ok(),
    }
}

/// Milliseconds on a monotonic clock (for the rewriter's gap measurement).
fn monotonic_ms() -> i64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    i64::try_from(START.elapsed().as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
