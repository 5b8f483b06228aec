//! The SIP endpoint on rsipstack: accepts calls from trunks and registered accounts, rings
//! agents' SIP phones, answers and bridges media, and keeps registrations alive.
//!
//! The edge knows SIP and RTP, not queues: every decision (which queue, which agent, when to
//! give up) comes from whoever consumes its [`EdgeEvent`]s and calls its methods. Calls are
//! named by ids the edge mints ([`switchboard_core::new_id`]), which the server also uses for
//! the call record.
//!
//! Per call the edge keeps the caller's server dialog, the caller's RTP socket, the offers
//! ringing agents (one client dialog and socket each) and, once connected, the bridge. A call
//! is removed from the table before any BYE/CANCEL the edge sends itself, so the dialog
//! terminations that follow are recognised as our own and not reported twice.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode, Uri};
use rsipstack::transport::TransportLayer;
use serde::Serialize;
use switchboard_media::relay::{
    self, BridgeHandle, BridgeOptions, LegMedia, MediaEvent, PortPool, RtpSocket, Side,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

mod account;
mod admission;
mod browser;
mod dialogs;
mod front;
mod offers;
mod outbound;
mod registrar;
mod stream;
mod waiting;

pub use front::{FrontCounters, counters as front_counters};

use crate::sdp::Answer;
pub use account::{Account, RegistrationStatus, StackSizes};
pub use admission::{Parties, Trunk};
use dialogs::{Leg, dialog_states, is_answered};
use offers::{Offer, end_offer};
pub use outbound::{DialTarget, OutboundOutcome};
pub use registrar::{Binding, EXTENSION_PREFIX};

/// Everything the edge needs to start.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// SIP address (UDP and TCP on the same port). Port 0 picks a free one.
    pub listen: SocketAddr,
    /// Address written into SDP and Contact (the listen address when it is unspecified
    /// otherwise).
    pub advertised_ip: IpAddr,
    /// Calls in progress beyond which new INVITEs get 503.
    pub max_calls: usize,
    /// `User-Agent` / `Server` header.
    pub user_agent: String,
    /// Trunk peers.
    pub trunks: Vec<Trunk>,
    /// Accounts to register.
    pub accounts: Vec<Account>,
    /// A leg silent this long ends the call (zero: never).
    pub dead_peer: Duration,
}

/// Where an incoming call came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Origin {
    /// A trunk peer, by name.
    Trunk(String),
    /// A registered account, by name.
    Account(String),
}

/// Which end of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The customer.
    Caller,
    /// The agent.
    Agent,
}

/// Why a connected call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    /// The customer hung up.
    Caller,
    /// The agent hung up.
    Agent,
    /// A leg sent no media for the configured time.
    MediaTimeout,
}

/// What the edge reports.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeEvent {
    /// A new call was accepted for routing (100 Trying sent, nothing else yet).
    Incoming {
        /// The edge's id for the call.
        call_id: String,
        /// Caller's number or user, as received.
        from: String,
        /// Called number or user (Request-URI), as received.
        to: String,
        /// Trunk or account it came through.
        origin: Origin,
        /// The trunk's or account's queue, if configured.
        queue: Option<String>,
    },
    /// A call refused at the door (503: beyond `max_calls`, the gateway's capacity). It
    /// was never routed; it is reported so that it can be logged and counted.
    Refused {
        /// A fresh id for its record.
        call_id: String,
        /// Caller's number or user, as received.
        from: String,
        /// Called number or user, as received.
        to: String,
        /// Trunk or account it came through.
        origin: Origin,
        /// The trunk's or account's queue, if configured.
        queue: Option<String>,
        /// The SIP status it was refused with.
        code: u16,
    },
    /// A desk phone registered (or refreshed) with the gateway's registrar, or unregistered
    /// (`contact` None): kept by the switch so that a restart knows it.
    Bound {
        /// The extension.
        extension: String,
        /// Where it is now (None: unregistered).
        contact: Option<String>,
        /// When the binding expires (epoch ms).
        expires_at: i64,
    },
    /// The caller hung up (CANCEL, or BYE) before being connected.
    CallerGone {
        /// Call.
        call_id: String,
    },
    /// An agent's phone is ringing (180/183).
    OfferRinging {
        /// Call.
        call_id: String,
        /// Agent.
        agent_id: String,
    },
    /// An agent's phone answered (200 OK with usable SDP).
    OfferAnswered {
        /// Call.
        call_id: String,
        /// Agent.
        agent_id: String,
    },
    /// An agent's phone refused or could not be reached.
    OfferFailed {
        /// Call.
        call_id: String,
        /// Agent.
        agent_id: String,
        /// SIP status, when a final response came.
        code: Option<u16>,
    },
    /// A connected call ended.
    Ended {
        /// Call.
        call_id: String,
        /// Who ended it.
        by: EndedBy,
    },
    /// One side put the other on hold, or resumed.
    Hold {
        /// Call.
        call_id: String,
        /// Who holds.
        by: Party,
        /// On hold now.
        on: bool,
    },
    /// A DTMF digit (RFC 4733) from one side.
    Dtmf {
        /// Call.
        call_id: String,
        /// Who pressed it.
        by: Party,
        /// The key.
        digit: char,
    },
    /// The prompts played to a caller in the call flow are over.
    SoundDone {
        /// Call.
        call_id: String,
        /// The playlist's id.
        id: u64,
    },
    /// The caller said nothing for the time [`SipEdge::watch_silence`] asked for.
    Silence {
        /// Call.
        call_id: String,
    },
    /// A registration changed state.
    Registration(RegistrationStatus),
    /// Click-to-call: the agent's phone answered; the customer is being called.
    DialingCustomer {
        /// Call.
        call_id: String,
    },
    /// Click-to-call: the customer answered; agent and customer are connected.
    OutboundConnected {
        /// Call.
        call_id: String,
    },
    /// Click-to-call did not connect.
    OutboundFailed {
        /// Call.
        call_id: String,
        /// What happened.
        outcome: OutboundOutcome,
        /// SIP status of the leg that failed, when there was one.
        code: Option<u16>,
    },
}

/// Why the edge could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// No such call (it ended meanwhile).
    #[error("no such call {0}")]
    NoCall(String),
    /// The agent has not answered (or was not offered).
    #[error("agent {agent_id} has no answered offer for call {call_id}")]
    NotAnswered {
        /// Call.
        call_id: String,
        /// Agent.
        agent_id: String,
    },
    /// Bad target URI.
    #[error("bad SIP URI {0:?}")]
    BadUri(String),
    /// The agent's phone is an extension that is not registered now.
    #[error("{0} is not registered")]
    NotRegistered(String),
    /// The SIP address cannot be bound (in use, not ours, not allowed).
    #[error("cannot listen for SIP on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The stack failed.
    #[error("SIP: {0}")]
    Sip(String),
    /// Sockets.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

struct Connected {
    agent_id: String,
    /// The agent's SIP phone; `None` for a browser agent (whose leg is a packet port).
    agent_dialog: Option<InviteDialog>,
    bridge: BridgeHandle,
    caller_on_hold: bool,
    agent_on_hold: bool,
    /// Our RTP ports towards the caller and the agent (for answering their re-INVITEs).
    caller_port: u16,
    agent_port: u16,
}

struct Call {
    caller: InviteDialog,
    /// Our answer to the caller's offer.
    caller_answer: Answer,
    caller_socket: Option<RtpSocket>,
    ringing_sent: bool,
    offers: HashMap<String, Offer>,
    connected: Option<Connected>,
    /// Answered, between two agents (a blind transfer): the bridge keeps the caller's socket.
    parked: Option<Parked>,
    /// Not answered, hearing our sound (early media): the bridge keeps the caller's socket.
    early: Option<waiting::Early>,
    sdp_version: u64,
}

/// A caller taken off one agent and waiting for the next.
struct Parked {
    bridge: BridgeHandle,
    caller_port: u16,
}

impl Call {
    /// Puts an agent's leg on the caller: the first time, 200 OK with SDP to the caller and a
    /// new bridge; after a transfer, the parked bridge's agent side is replaced. Returns the
    /// bridge and our port towards the caller.
    fn attach_agent(
        &mut self,
        inner: &Arc<Inner>,
        call_id: &str,
        io: relay::LegIo,
        media: LegMedia,
    ) -> Result<(BridgeHandle, u16), EdgeError> {
        if let Some(parked) = self.parked.take() {
            // A caller answered in the call flow may be hearing a prompt or music.
            parked.bridge.play(Side::A, None);
            parked.bridge.replace(Side::B, io, media);
            return Ok((parked.bridge, parked.caller_port));
        }
        if let Some(early) = self.early.take() {
            return early.answer(self, io, media);
        }
        let caller_socket =
            self.caller_socket.take().ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        self.sdp_version += 1;
        let body = self.caller_answer.to_sdp(
            (inner.config.advertised_ip, caller_socket.port()),
            session_id(),
            self.sdp_version,
        );
        self.caller
            .accept(
                Some(vec![Header::ContentType("application/sdp".into())]),
                Some(body.into_bytes()),
            )
            .map_err(sip_err)?;
        let caller_port = caller_socket.port();
        let sink = media_sink(Arc::downgrade(inner), call_id.to_owned());
        let bridge = relay::bridge(
            (caller_socket, leg_media(&self.caller_answer)),
            (io, media),
            BridgeOptions { dead_peer: inner.config.dead_peer },
            sink,
        );
        Ok((bridge, caller_port))
    }

    fn answered(&self) -> bool {
        self.caller_socket.is_some() || self.parked.is_some() || self.early.is_some()
    }
}

struct Inner {
    config: EdgeConfig,
    /// Click-to-call calls, by id.
    outbound: Mutex<HashMap<String, outbound::Outbound>>,
    /// Agents' phones registered with us.
    registrar: Mutex<registrar::Registrar>,
    dialogs: Arc<DialogLayer>,
    ports: Arc<PortPool>,
    events: mpsc::UnboundedSender<EdgeEvent>,
    calls: Mutex<HashMap<String, Call>>,
    registrations: Mutex<Vec<RegistrationStatus>>,
    /// Addresses of registrars, whose INVITEs are accepted for the accounts.
    registrar_ips: Mutex<HashMap<IpAddr, String>>,
    nonces: Mutex<HashMap<String, Instant>>,
    local: SocketAddr,
    cancel: CancellationToken,
}

/// The running SIP endpoint. Cheap to clone.
#[derive(Clone)]
pub struct SipEdge {
    inner: Arc<Inner>,
}

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A port on `ip` free for UDP and for TCP at once: the system's choice for UDP, tried for
/// TCP, up to 50 times.
fn free_port_for_both(ip: IpAddr) -> Result<SocketAddr, EdgeError> {
    let any = SocketAddr::new(ip, 0);
    let bind = |e| EdgeError::Bind { addr: any, source: e };
    let mut last = None;
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind(any).map_err(bind)?;
        let addr = udp.local_addr().map_err(bind)?;
        match std::net::TcpListener::bind(addr) {
            Ok(_) => return Ok(addr),
            Err(e) => last = Some(e),
        }
    }
    Err(bind(last.unwrap_or_else(|| std::io::Error::other("no free port"))))
}

impl SipEdge {
    /// Binds the SIP sockets (UDP and TCP), starts serving and registering. Events arrive on
    /// `events`.
    pub async fn start(
        config: EdgeConfig,
        ports: Arc<PortPool>,
        events: mpsc::UnboundedSender<EdgeEvent>,
    ) -> Result<SipEdge, EdgeError> {
        // rsipstack reports a failed bind as text; try the address first so that a port in
        // use is said as such (the usual case: a PBX or softphone already on 5060).
        if config.listen.port() != 0 {
            let bind = |e| EdgeError::Bind { addr: config.listen, source: e };
            drop(std::net::UdpSocket::bind(config.listen).map_err(bind)?);
            drop(std::net::TcpListener::bind(config.listen).map_err(bind)?);
        }
        // Port 0: one number free for both UDP and TCP (the system's choice for UDP may be a
        // TCP port in use, an outgoing connection's among them).
        let listen = if config.listen.port() == 0 {
            free_port_for_both(config.listen.ip())?
        } else {
            config.listen
        };
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let local = front::serve_udp(listen, &transport, cancel.clone()).await?;
        let tcp = stream::bind_tcp(local, &transport).await?;
        let endpoint = EndpointBuilder::new()
            .with_user_agent(&config.user_agent)
            .with_transport_layer(transport)
            .with_cancel_token(cancel.clone())
            .build();
        let incoming = endpoint.incoming_transactions().map_err(sip_err)?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        stream::serve_tcp(tcp, endpoint.inner.clone(), cancel.clone());
        let registrations = config
            .accounts
            .iter()
            .map(|a| RegistrationStatus {
                name: a.name.clone(),
                registrar: a.registrar.clone(),
                state: "registering".into(),
                last_code: None,
                last_error: None,
                expires_s: None,
                successes: 0,
                registered_at: None,
            })
            .collect();
        let inner = Arc::new(Inner {
            config,
            dialogs,
            ports,
            events,
            calls: Mutex::new(HashMap::new()),
            outbound: Mutex::new(HashMap::new()),
            registrar: Mutex::new(registrar::Registrar::default()),
            registrations: Mutex::new(registrations),
            registrar_ips: Mutex::new(HashMap::new()),
            nonces: Mutex::new(HashMap::new()),
            local,
            cancel: cancel.clone(),
        });
        let endpoint_inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = endpoint_inner.serve().await {
                warn!(error = %e, "SIP endpoint stopped");
            }
        });
        // Keep the endpoint (and its transaction receiver's sender) alive as long as we serve.
        let edge = SipEdge { inner };
        tokio::spawn(admission::serve(Arc::downgrade(&edge.inner), incoming, endpoint));
        for account in edge.inner.config.accounts.clone() {
            tokio::spawn(account::keep_registered(Arc::downgrade(&edge.inner), account));
        }
        info!(%local, "SIP edge listening on UDP and TCP");
        Ok(edge)
    }

    /// The SIP address (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// Calls in progress (inbound and click-to-call).
    pub fn active_calls(&self) -> usize {
        self.inner.calls.lock().map_or(0, |c| c.len())
            + self.inner.outbound.lock().map_or(0, |c| c.len())
    }

    /// Stops serving: every call is ended, registrations stop.
    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
    }

    /// Runs `f` on a connected call's bridge (inbound, parked between agents, or outbound);
    /// `None` when the call has no bridge.
    fn with_bridge<R>(
        &self,
        call_id: &str,
        f: impl FnOnce(&switchboard_media::relay::BridgeHandle) -> R,
    ) -> Option<R> {
        let mut f = Some(f);
        let inbound = self.inner.calls.lock().ok().and_then(|calls| {
            let bridge = calls.get(call_id).and_then(|c| {
                c.connected.as_ref().map(|c| &c.bridge).or(c.parked.as_ref().map(|p| &p.bridge))
            })?;
            f.take().map(|f| f(bridge))
        });
        if inbound.is_some() {
            return inbound;
        }
        let f = f?;
        self.inner.outbound.lock().ok().and_then(|out| {
            out.get(call_id).and_then(|o| o.connected.as_ref()).map(|c| f(&c.bridge))
        })
    }

    /// Starts handing a connected call's audio to a recording (`None` stops it). The tap
    /// stays on the call's bridge through transfers. False when the call has no bridge.
    pub fn record(&self, call_id: &str, tap: Option<switchboard_media::recording::Tap>) -> bool {
        self.with_bridge(call_id, |b| b.record(tap)).is_some()
    }

    /// Reports [`EdgeEvent::Silence`] once the caller has said nothing for `limit` (`None`
    /// stops watching). False when the call has no bridge.
    pub fn watch_silence(&self, call_id: &str, limit: Option<std::time::Duration>) -> bool {
        self.with_bridge(call_id, |b| b.watch_silence(Side::A, limit)).is_some()
    }

    /// Puts a supervisor on a connected call (`None` takes them off); they stay on through
    /// transfers. False when the call has no bridge.
    pub fn monitor(
        &self,
        call_id: &str,
        monitor: Option<switchboard_media::relay::Monitor>,
    ) -> bool {
        self.with_bridge(call_id, |b| b.monitor(monitor)).is_some()
    }

    /// Changes what the supervisor on a call does. False when the call has no bridge.
    pub fn monitor_mode(&self, call_id: &str, mode: switchboard_media::relay::MonitorMode) -> bool {
        self.with_bridge(call_id, |b| b.monitor_mode(mode)).is_some()
    }

    /// Connects the caller to `agent_id`, whose phone answered: 200 OK with SDP to the caller,
    /// and the media bridge between the two.
    pub fn connect(&self, call_id: &str, agent_id: &str) -> Result<(), EdgeError> {
        let mut calls =
            self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        let not_answered = || EdgeError::NotAnswered {
            call_id: call_id.to_owned(),
            agent_id: agent_id.to_owned(),
        };
        let ready = call
            .offers
            .get(agent_id)
            .is_some_and(|o| o.answer.is_some() && o.socket.is_some() && o.dialog.is_some());
        if !ready || !call.answered() {
            return Err(not_answered());
        }
        let mut offer = call.offers.remove(agent_id).ok_or_else(not_answered)?;
        let (Some(agent_answer), Some(agent_socket), Some(agent_dialog)) =
            (offer.answer.take(), offer.socket.take(), offer.dialog.take())
        else {
            return Err(not_answered());
        };
        let agent_port = agent_socket.port();
        let (bridge, caller_port) =
            call.attach_agent(&self.inner, call_id, agent_socket.into(), leg_media(&agent_answer))?;
        call.connected = Some(Connected {
            agent_id: agent_id.to_owned(),
            agent_dialog: Some(agent_dialog),
            bridge,
            caller_on_hold: false,
            agent_on_hold: false,
            caller_port,
            agent_port,
        });
        Ok(())
    }

    /// Ends a call from our side: a caller still waiting gets `code` (e.g. 480 when the
    /// queue's maximum wait passed); a connected call gets BYE on both legs.
    pub fn release(&self, call_id: &str, code: u16) {
        let call = self.inner.calls.lock().ok().and_then(|mut c| c.remove(call_id));
        if let Some(call) = call {
            finish(call, Hangup::Both(code));
        }
    }

    fn emit(&self, event: EdgeEvent) {
        let _ = self.inner.events.send(event);
    }
}

fn sip_err(e: impl std::fmt::Display) -> EdgeError {
    EdgeError::Sip(e.to_string())
}

fn session_id() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
}

fn contact_uri(ip: IpAddr, port: u16, user: &str) -> Uri {
    let host = if ip.is_ipv6() { format!("[{ip}]") } else { ip.to_string() };
    Uri::try_from(format!("sip:{user}@{host}:{port}").as_str()).unwrap_or_default()
}

fn leg_media(answer: &Answer) -> LegMedia {
    LegMedia {
        audio_pt: answer.codec.payload_type(),
        event_pt: answer.telephone_event,
        remote: answer.remote.map(|(ip, port)| SocketAddr::new(ip, port)),
        send: answer.we_send(),
        expect_packets: answer.peer_sends(),
    }
}

fn media_sink(edge: Weak<Inner>, call_id: String) -> relay::EventSink {
    Box::new(move |event| {
        let Some(inner) = edge.upgrade() else { return };
        let edge = SipEdge { inner };
        match event {
            MediaEvent::Dtmf { side, digit } => {
                let by = if side == Side::A { Party::Caller } else { Party::Agent };
                edge.emit(EdgeEvent::Dtmf { call_id: call_id.clone(), by, digit });
            }
            MediaEvent::SoundDone { side: Side::A, id } => {
                edge.emit(EdgeEvent::SoundDone { call_id: call_id.clone(), id })
            }
            MediaEvent::SoundDone { side: Side::B, .. } | MediaEvent::Silence { side: Side::B } => {
            }
            MediaEvent::Silence { side: Side::A } => {
                edge.emit(EdgeEvent::Silence { call_id: call_id.clone() })
            }
            MediaEvent::PeerDead { side } => {
                info!(call_id, ?side, "no media from a leg: ending the call");
                let call = edge.inner.calls.lock().ok().and_then(|mut c| c.remove(&call_id));
                let out = edge.inner.outbound.lock().ok().and_then(|mut o| o.remove(&call_id));
                let ended = call.is_some() || out.is_some();
                if let Some(call) = call {
                    finish(call, Hangup::Both(480));
                }
                if let Some(out) = out {
                    outbound::end_outbound(out);
                }
                if ended {
                    edge.emit(EdgeEvent::Ended {
                        call_id: call_id.clone(),
                        by: EndedBy::MediaTimeout,
                    });
                }
            }
        }
    })
}

/// Which legs of a call to end (the side that hung up ends itself).
#[derive(Clone, Copy)]
enum Hangup {
    /// Both: a caller still waiting gets this status; a connected call gets BYE both ways.
    Both(u16),
    /// The caller's dialog ended: BYE the agent.
    AgentOnly,
    /// The agent's dialog ended: BYE the caller.
    CallerOnly,
}

/// Ends the legs of a call already removed from the table, and every offer still ringing.
fn finish(mut call: Call, hangup: Hangup) {
    // A caller hearing our sound was never answered: they get the code like any waiting one.
    if let Some(early) = call.early.take() {
        early.bridge.stop();
    }
    for (_, offer) in call.offers {
        end_offer(offer);
    }
    let bye = |dialog: InviteDialog| {
        tokio::spawn(async move {
            let _ = dialog.bye().await;
        });
    };
    if let Some(parked) = call.parked {
        parked.bridge.stop();
        if !matches!(hangup, Hangup::AgentOnly) {
            bye(call.caller);
        }
        return;
    }
    match (call.connected, hangup) {
        (Some(connected), _) => {
            connected.bridge.stop();
            if !matches!(hangup, Hangup::AgentOnly) {
                bye(call.caller);
            }
            if !matches!(hangup, Hangup::CallerOnly)
                && let Some(dialog) = connected.agent_dialog
            {
                bye(dialog);
            }
        }
        (None, Hangup::Both(code)) => {
            let _ = call.caller.reject(Some(StatusCode::from(code)), None);
        }
        (None, _) => {}
    }
}
