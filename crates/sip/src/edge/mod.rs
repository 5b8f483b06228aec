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

use rsipstack::dialog::DialogId;
use rsipstack::dialog::authenticate::{Credential, verify_digest};
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode, Uri};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{TcpListenerConnection, TransportLayer};
use rsipstack::EndpointBuilder;
use serde::Serialize;
use switchboard_media::relay::{self, BridgeHandle, BridgeOptions, LegMedia, MediaEvent, PortPool, RtpSocket, Side};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::net::IpBlock;

mod outbound;
mod registrar;

pub use outbound::{DialTarget, OutboundOutcome};
pub use registrar::{Binding, EXTENSION_PREFIX};
use crate::sdp::{self, Answer, SdpError, SessionDescription};

/// A peer allowed to send calls without registering (a PBX or an operator's trunk).
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Name (in logs and call records).
    pub name: String,
    /// Source addresses allowed to send INVITEs.
    pub allow: Vec<IpBlock>,
    /// When set, INVITEs must also pass a digest challenge with these (user, password).
    pub credential: Option<(String, String)>,
    /// Queue for calls whose number matches no queue.
    pub queue: Option<String>,
}

/// An account the gateway registers with a PBX or provider to receive its calls.
#[derive(Debug, Clone)]
pub struct Account {
    /// Name (in the API and logs).
    pub name: String,
    /// User part of the address of record.
    pub username: String,
    /// Digest user when it differs from `username`.
    pub auth_username: Option<String>,
    /// Digest password.
    pub password: String,
    /// Registrar, e.g. `sip:pbx.example.com:5060`.
    pub registrar: String,
    /// Requested expiry in seconds.
    pub expiry_s: u32,
    /// Queue for calls coming in on this account.
    pub queue: Option<String>,
}

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

/// One account's registration, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationStatus {
    /// Account name.
    pub name: String,
    /// Registrar.
    pub registrar: String,
    /// `registering`, `registered`, `failed` or `stopped`.
    pub state: String,
    /// Last SIP status from the registrar, if any.
    pub last_code: Option<u16>,
    /// Error text of the last failure.
    pub last_error: Option<String>,
    /// Seconds the registrar granted.
    pub expires_s: Option<u32>,
    /// Registrations that succeeded (the first one and every refresh).
    pub successes: u64,
    /// Epoch ms of the last success.
    pub registered_at: Option<i64>,
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
    /// The stack failed.
    #[error("SIP: {0}")]
    Sip(String),
    /// Sockets.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Who sent an INVITE, and what that implies.
struct Admission {
    origin: Origin,
    queue: Option<String>,
    credential: Option<(String, String)>,
}

struct Offer {
    dialog: Option<InviteDialog>,
    socket: Option<RtpSocket>,
    answer: Option<Answer>,
    ringing_reported: bool,
}

struct Connected {
    agent_id: String,
    agent_dialog: InviteDialog,
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
    sdp_version: u64,
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
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl SipEdge {
    /// Binds the SIP sockets (UDP and TCP), starts serving and registering. Events arrive on
    /// `events`.
    pub async fn start(config: EdgeConfig, ports: Arc<PortPool>, events: mpsc::UnboundedSender<EdgeEvent>) -> Result<SipEdge, EdgeError> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.clone());
        let udp = UdpConnection::create_connection(config.listen, None, Some(cancel.child_token())).await.map_err(sip_err)?;
        let local = udp.get_addr().get_socketaddr().map_err(sip_err)?;
        transport.add_transport(udp.into());
        let tcp = TcpListenerConnection::new(local, None).await.map_err(sip_err)?;
        transport.add_transport(tcp.into());
        let endpoint = EndpointBuilder::new()
            .with_user_agent(&config.user_agent)
            .with_transport_layer(transport)
            .with_cancel_token(cancel.clone())
            .build();
        let incoming = endpoint.incoming_transactions().map_err(sip_err)?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
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
        tokio::spawn(serve(Arc::downgrade(&edge.inner), incoming, endpoint));
        for account in edge.inner.config.accounts.clone() {
            tokio::spawn(keep_registered(Arc::downgrade(&edge.inner), account));
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
        self.inner.calls.lock().map_or(0, |c| c.len()) + self.inner.outbound.lock().map_or(0, |c| c.len())
    }

    /// Every account's registration state.
    pub fn registrations(&self) -> Vec<RegistrationStatus> {
        self.inner.registrations.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Stops serving: every call is ended, registrations stop.
    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
    }

    /// Rings `agent_id` at `target` (a SIP URI) with call `call_id`. The first offer also sends
    /// 180 Ringing to the caller.
    pub fn offer(&self, call_id: &str, agent_id: &str, target: &str) -> Result<(), EdgeError> {
        let target = self.resolve_target(target).ok_or_else(|| EdgeError::NotRegistered(target.to_owned()))?;
        let target = target.as_str();
        let callee: Uri = Uri::try_from(target).map_err(|_| EdgeError::BadUri(target.to_owned()))?;
        let socket = self.inner.ports.bind()?;
        let (preferred, caller_user, session) = {
            let mut calls = self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
            let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
            if !call.ringing_sent {
                call.ringing_sent = true;
                call.caller.ringing(None, None).map_err(sip_err)?;
            }
            call.offers.insert(agent_id.to_owned(), Offer { dialog: None, socket: None, answer: None, ringing_reported: false });
            let from_user = call.caller.initial_request().from_header().ok().and_then(|f| f.uri().ok()).and_then(|u| u.auth.map(|a| a.user));
            (call.caller_answer.codec, from_user.unwrap_or_else(|| "switchboard".into()), call.sdp_version)
        };
        let offer_sdp = sdp::offer_sdp(preferred, (self.inner.config.advertised_ip, socket.port()), session_id(), session);
        let contact = contact_uri(self.inner.config.advertised_ip, self.inner.local.port(), "switchboard");
        let caller: Uri = Uri::try_from(format!("sip:{caller_user}@{}:{}", self.inner.config.advertised_ip, self.inner.local.port()).as_str()).unwrap_or_else(|_| contact.clone());
        let option = InviteOption {
            caller,
            callee,
            contact,
            content_type: Some("application/sdp".into()),
            offer: Some(offer_sdp.into_bytes()),
            ..Default::default()
        };
        let (state_tx, state_rx) = self.inner.dialogs.new_dialog_state_channel();
        let (dialog, handle) = self.inner.dialogs.do_invite_async(option, state_tx).map_err(sip_err)?;
        {
            let mut calls = self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
            match calls.get_mut(call_id).and_then(|c| c.offers.get_mut(agent_id)) {
                Some(offer) => {
                    offer.dialog = Some(dialog.clone());
                    offer.socket = Some(socket);
                }
                None => {
                    // Cancelled (or the call ended) meanwhile.
                    let d = dialog.clone();
                    tokio::spawn(async move {
                        let _ = d.cancel().await;
                    });
                    return Ok(());
                }
            }
        }
        let weak = Arc::downgrade(&self.inner);
        let (call, agent) = (call_id.to_owned(), agent_id.to_owned());
        tokio::spawn(dialog_states(weak.clone(), call.clone(), Leg::Agent(agent.clone()), state_rx));
        tokio::spawn(async move {
            let result = handle.await;
            let Some(inner) = weak.upgrade() else { return };
            let edge = SipEdge { inner };
            match result {
                Ok(Ok((_, Some(resp)))) if resp.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                    edge.offer_answered(&call, &agent, &resp.body, &dialog);
                }
                Ok(Ok((_, resp))) => edge.offer_failed(&call, &agent, resp.map(|r| r.status_code.code())),
                Ok(Err(e)) => {
                    debug!(error = %e, call, agent, "offer failed");
                    edge.offer_failed(&call, &agent, None);
                }
                Err(e) => {
                    warn!(error = %e, "offer task failed");
                    edge.offer_failed(&call, &agent, None);
                }
            }
        });
        Ok(())
    }

    /// Stops ringing `agent_id` (CANCEL, or BYE if its 200 OK crossed our CANCEL).
    pub fn cancel_offer(&self, call_id: &str, agent_id: &str) {
        let offer = self.inner.calls.lock().ok().and_then(|mut calls| calls.get_mut(call_id).and_then(|c| c.offers.remove(agent_id)));
        if let Some(offer) = offer {
            end_offer(offer);
        }
    }

    /// Connects the caller to `agent_id`, whose phone answered: 200 OK with SDP to the caller,
    /// and the media bridge between the two.
    pub fn connect(&self, call_id: &str, agent_id: &str) -> Result<(), EdgeError> {
        let mut calls = self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        let not_answered = || EdgeError::NotAnswered { call_id: call_id.to_owned(), agent_id: agent_id.to_owned() };
        let ready = call.offers.get(agent_id).is_some_and(|o| o.answer.is_some() && o.socket.is_some() && o.dialog.is_some());
        if !ready || call.caller_socket.is_none() {
            return Err(not_answered());
        }
        let mut offer = call.offers.remove(agent_id).ok_or_else(not_answered)?;
        let (Some(agent_answer), Some(agent_socket), Some(agent_dialog), Some(caller_socket)) =
            (offer.answer.take(), offer.socket.take(), offer.dialog.take(), call.caller_socket.take())
        else {
            return Err(not_answered());
        };
        call.sdp_version += 1;
        let body = call.caller_answer.to_sdp((self.inner.config.advertised_ip, caller_socket.port()), session_id(), call.sdp_version);
        call.caller.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(body.into_bytes())).map_err(sip_err)?;
        let (caller_port, agent_port) = (caller_socket.port(), agent_socket.port());
        let sink = media_sink(Arc::downgrade(&self.inner), call_id.to_owned());
        let bridge = relay::bridge(
            (caller_socket, leg_media(&call.caller_answer)),
            (agent_socket, leg_media(&agent_answer)),
            BridgeOptions { dead_peer: self.inner.config.dead_peer },
            sink,
        );
        call.connected = Some(Connected { agent_id: agent_id.to_owned(), agent_dialog, bridge, caller_on_hold: false, agent_on_hold: false, caller_port, agent_port });
        Ok(())
    }

    /// Ends a call from our side: a caller still waiting gets `code` (e.g. 480 when the
    /// queue's maximum wait passed); a connected call gets BYE on both legs.
    pub fn release(&self, call_id: &str, code: u16) {
        let call = self.inner.calls.lock().ok().and_then(|mut c| c.remove(call_id));
        if let Some(call) = call {
            finish(call, Some(code));
        }
    }

    /// Hangs up one agent's leg that answered after the call went to someone else.
    pub fn drop_offer(&self, call_id: &str, agent_id: &str) {
        self.cancel_offer(call_id, agent_id);
    }

    fn offer_answered(&self, call_id: &str, agent_id: &str, body: &[u8], dialog: &InviteDialog) {
        let answer = std::str::from_utf8(body).ok().and_then(|b| SessionDescription::parse(b).ok()).and_then(|sd| sdp::read_answer(&sd).ok());
        let Some(answer) = answer else {
            // An answer we cannot use: hang up that phone, count it as refused.
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.bye().await;
            });
            self.offer_failed(call_id, agent_id, Some(488));
            return;
        };
        let known = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|mut calls| calls.get_mut(call_id).and_then(|c| c.offers.get_mut(agent_id)).map(|o| o.answer = Some(answer)))
            .is_some();
        if known {
            self.emit(EdgeEvent::OfferAnswered { call_id: call_id.to_owned(), agent_id: agent_id.to_owned() });
        } else {
            // The offer was withdrawn while the 200 OK was on its way.
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.bye().await;
            });
        }
    }

    /// Reports the first provisional response of an offer.
    fn offer_ringing(&self, call_id: &str, agent_id: &str) {
        let first = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|mut c| c.get_mut(call_id).and_then(|c| c.offers.get_mut(agent_id)).map(|o| !std::mem::replace(&mut o.ringing_reported, true)))
            .unwrap_or(false);
        if first {
            self.emit(EdgeEvent::OfferRinging { call_id: call_id.to_owned(), agent_id: agent_id.to_owned() });
        }
    }

    fn offer_failed(&self, call_id: &str, agent_id: &str, code: Option<u16>) {
        let removed = self.inner.calls.lock().ok().and_then(|mut calls| calls.get_mut(call_id).and_then(|c| c.offers.remove(agent_id)));
        if removed.is_some() {
            self.emit(EdgeEvent::OfferFailed { call_id: call_id.to_owned(), agent_id: agent_id.to_owned(), code });
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
            MediaEvent::PeerDead { side } => {
                info!(call_id, ?side, "no media from a leg: ending the call");
                let call = edge.inner.calls.lock().ok().and_then(|mut c| c.remove(&call_id));
                let out = edge.inner.outbound.lock().ok().and_then(|mut o| o.remove(&call_id));
                let ended = call.is_some() || out.is_some();
                if let Some(call) = call {
                    finish(call, None);
                }
                if let Some(out) = out {
                    outbound::end_outbound(out);
                }
                if ended {
                    edge.emit(EdgeEvent::Ended { call_id: call_id.clone(), by: EndedBy::MediaTimeout });
                }
            }
        }
    })
}

/// Ends every leg of a call already removed from the table.
fn finish(call: Call, code: Option<u16>) {
    for (_, offer) in call.offers {
        end_offer(offer);
    }
    match call.connected {
        Some(connected) => {
            connected.bridge.stop();
            let (caller, agent) = (call.caller, connected.agent_dialog);
            tokio::spawn(async move {
                let _ = caller.bye().await;
            });
            tokio::spawn(async move {
                let _ = agent.bye().await;
            });
        }
        None => {
            let status = StatusCode::from(code.unwrap_or(480));
            let _ = call.caller.reject(Some(status), None);
        }
    }
}

fn end_offer(offer: Offer) {
    if let Some(dialog) = offer.dialog {
        tokio::spawn(async move {
            // CANCEL while ringing; if its 200 OK already came, the stack BYEs it.
            let _ = dialog.cancel().await;
            if dialog.inner_confirmed() {
                let _ = dialog.bye().await;
            }
        });
    }
}

trait Confirmed {
    fn inner_confirmed(&self) -> bool;
}

impl Confirmed for InviteDialog {
    fn inner_confirmed(&self) -> bool {
        matches!(self.state(), DialogState::Confirmed(..) | DialogState::WaitAck(..))
    }
}

/// Receives transactions that belong to no existing transaction.
async fn serve(edge: Weak<Inner>, mut incoming: rsipstack::transaction::TransactionReceiver, _endpoint: rsipstack::transaction::Endpoint) {
    while let Some(mut tx) = incoming.recv().await {
        let Some(inner) = edge.upgrade() else { break };
        let edge = SipEdge { inner };
        // In-dialog requests go to their dialog.
        let has_to_tag = tx.original.to_header().ok().and_then(|t| t.tag().ok().flatten()).is_some();
        if has_to_tag {
            match edge.inner.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if let Err(e) = dialog.handle(&mut tx).await {
                            debug!(error = %e, "in-dialog request");
                        }
                    });
                }
                None if tx.original.method == Method::Ack => {}
                None => {
                    tokio::spawn(async move {
                        let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                    });
                }
            }
            continue;
        }
        match tx.original.method {
            Method::Invite => edge.on_invite(tx).await,
            Method::Register => edge.on_register(tx),
            Method::Options => {
                tokio::spawn(async move {
                    let headers = vec![Header::Allow(ALLOW.into()), Header::Accept("application/sdp".into())];
                    let _ = tx.reply_with(StatusCode::OK, headers, None).await;
                });
            }
            Method::Ack => {}
            Method::Bye | Method::Cancel | Method::Update | Method::Info | Method::PRack => {
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                });
            }
            _ => {
                tokio::spawn(async move {
                    let _ = tx.reply_with(StatusCode::MethodNotAllowed, vec![Header::Allow(ALLOW.into())], None).await;
                });
            }
        }
    }
}

impl SipEdge {
    async fn on_invite(&self, mut tx: Transaction) {
        let source = tx.connection.as_ref().and_then(|c| c.get_remote_addr()).and_then(|a| a.get_socketaddr().ok()).map(|a| a.ip());
        let request_user = tx.original.uri.auth.as_ref().map(|a| a.user.clone()).unwrap_or_default();
        let Some(Admission { origin, queue, credential }) = source.and_then(|ip| self.origin_of(ip, &request_user)) else {
            info!(?source, "INVITE from a peer that is neither a trunk nor a registrar: 403");
            tokio::spawn(async move {
                let _ = tx.reply(StatusCode::Forbidden).await;
            });
            return;
        };
        if let Some((user, password)) = credential
            && !self.check_digest(&tx, &user, &password)
        {
            let nonce = self.new_nonce();
            let challenge = format!("Digest realm=\"switchboard\", nonce=\"{nonce}\", algorithm=MD5");
            tokio::spawn(async move {
                let _ = tx.reply_with(StatusCode::Unauthorized, vec![Header::WwwAuthenticate(challenge.into())], None).await;
            });
            return;
        }
        if self.active_calls() >= self.inner.config.max_calls {
            tokio::spawn(async move {
                let _ = tx.reply_with(StatusCode::ServiceUnavailable, vec![Header::Other("Retry-After".into(), "5".into())], None).await;
            });
            return;
        }
        let offer = std::str::from_utf8(&tx.original.body).map_err(|_| SdpError::Malformed("not UTF-8".into())).and_then(SessionDescription::parse);
        let answer = match offer.and_then(|o| sdp::negotiate(&o)) {
            Ok(a) => a,
            Err(e) => {
                let code = match e {
                    SdpError::Malformed(_) if tx.original.body.is_empty() => StatusCode::NotAcceptableHere,
                    SdpError::Malformed(_) => StatusCode::BadRequest,
                    SdpError::NoAudio | SdpError::NoCommonCodec => StatusCode::NotAcceptableHere,
                };
                info!(error = %e, "INVITE refused with {code}");
                tokio::spawn(async move {
                    let _ = tx.reply_with(code, vec![Header::Warning(format!("399 switchboard \"{e}\"").into())], None).await;
                });
                return;
            }
        };
        let socket = match self.inner.ports.bind() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "no RTP port for a new call: 503");
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::ServiceUnavailable).await;
                });
                return;
            }
        };
        let (state_tx, state_rx) = self.inner.dialogs.new_dialog_state_channel();
        let contact = contact_uri(self.inner.config.advertised_ip, self.inner.local.port(), if request_user.is_empty() { "switchboard" } else { &request_user });
        let dialog = match self.inner.dialogs.get_or_create_server_invite(&tx, state_tx, None, Some(contact)) {
            Ok(d) => d,
            Err(e) => {
                warn!(error = %e, "INVITE: cannot create the dialog");
                tokio::spawn(async move {
                    let _ = tx.reply(StatusCode::BadRequest).await;
                });
                return;
            }
        };
        let from = tx.original.from_header().ok().and_then(|f| f.uri().ok()).and_then(|u| u.auth.map(|a| a.user)).unwrap_or_default();
        let to = if request_user.is_empty() {
            tx.original.to_header().ok().and_then(|t| t.uri().ok()).and_then(|u| u.auth.map(|a| a.user)).unwrap_or_default()
        } else {
            request_user
        };
        let call_id = switchboard_core::new_id();
        if let Ok(mut calls) = self.inner.calls.lock() {
            calls.insert(
                call_id.clone(),
                Call { caller: dialog.clone(), caller_answer: answer, caller_socket: Some(socket), ringing_sent: false, offers: HashMap::new(), connected: None, sdp_version: 1 },
            );
        }
        tokio::spawn(dialog_states(Arc::downgrade(&self.inner), call_id.clone(), Leg::Caller(dialog.id()), state_rx));
        let mut dialog = dialog;
        tokio::spawn(async move {
            // Sends 100 Trying, then waits for the ACK or CANCEL of this INVITE.
            if let Err(e) = dialog.handle(&mut tx).await {
                debug!(error = %e, "INVITE transaction");
            }
        });
        self.emit(EdgeEvent::Incoming { call_id, from, to, origin, queue });
    }

    /// Who may send this INVITE: a trunk by source address, or a registrar of one of our
    /// accounts (matched by the Request-URI user when several share a registrar).
    fn origin_of(&self, ip: IpAddr, request_user: &str) -> Option<Admission> {
        if let Some(trunk) = self.inner.config.trunks.iter().find(|t| t.allow.iter().any(|b| b.contains(ip))) {
            return Some(Admission { origin: Origin::Trunk(trunk.name.clone()), queue: trunk.queue.clone(), credential: trunk.credential.clone() });
        }
        let registrar_ips = self.inner.registrar_ips.lock().ok()?;
        registrar_ips.get(&ip)?;
        let account = self
            .inner
            .config
            .accounts
            .iter()
            .find(|a| a.username == request_user)
            .or_else(|| self.inner.config.accounts.iter().find(|a| registrar_ips.get(&ip) == Some(&a.name)))?;
        Some(Admission { origin: Origin::Account(account.name.clone()), queue: account.queue.clone(), credential: None })
    }

    fn new_nonce(&self) -> String {
        let nonce = format!("{:016x}{}", rand_u64(), switchboard_core::new_id());
        if let Ok(mut nonces) = self.inner.nonces.lock() {
            let now = Instant::now();
            nonces.retain(|_, at| now.duration_since(*at) < Duration::from_secs(300));
            nonces.insert(nonce.clone(), now);
        }
        nonce
    }

    fn check_digest(&self, tx: &Transaction, user: &str, password: &str) -> bool {
        let Some(header) = tx.original.authorization_header() else { return false };
        let raw = header.value().to_string();
        let Ok(auth) = rsipstack::sip::typed::Authorization::parse(&raw) else { return false };
        let known_nonce = self.inner.nonces.lock().is_ok_and(|n| n.contains_key(&auth.nonce));
        auth.username == user && known_nonce && verify_digest(&auth, password, &tx.original.method, &raw)
    }

    fn on_caller_terminated(&self, call_id: &str, reason: &TerminatedReason) {
        let call = self.inner.calls.lock().ok().and_then(|mut c| c.remove(call_id));
        let Some(call) = call else { return };
        debug!(call_id, ?reason, "caller dialog ended");
        let connected = call.connected.is_some();
        finish_quietly(call);
        if connected {
            self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by: EndedBy::Caller });
        } else {
            self.emit(EdgeEvent::CallerGone { call_id: call_id.to_owned() });
        }
    }

    fn on_agent_terminated(&self, call_id: &str, agent_id: &str) {
        let mut calls = match self.inner.calls.lock() {
            Ok(c) => c,
            Err(_) => return,
        };
        let is_connected_agent = calls.get(call_id).and_then(|c| c.connected.as_ref()).is_some_and(|c| c.agent_id == agent_id);
        if !is_connected_agent {
            return;
        }
        let Some(call) = calls.remove(call_id) else { return };
        drop(calls);
        if let Some(connected) = call.connected {
            connected.bridge.stop();
            let caller = call.caller;
            tokio::spawn(async move {
                let _ = caller.bye().await;
            });
        }
        for (_, offer) in call.offers {
            end_offer(offer);
        }
        self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by: EndedBy::Agent });
    }

    /// A re-INVITE (or UPDATE) with SDP from one side of a connected call: answer it, update the
    /// bridge, and report hold changes.
    fn on_reoffer(&self, call_id: &str, party: Party, body: &[u8]) -> Result<String, StatusCode> {
        let offer = std::str::from_utf8(body).ok().and_then(|b| SessionDescription::parse(b).ok()).ok_or(StatusCode::BadRequest)?;
        let answer = sdp::negotiate(&offer).map_err(|_| StatusCode::NotAcceptableHere)?;
        let hold = offer.direction.is_hold() || answer.remote.is_none();
        let update = |connected: &mut Connected, version: &mut u64| {
            *version += 1;
            let (side, was_on_hold, port) = match party {
                Party::Caller => (Side::A, std::mem::replace(&mut connected.caller_on_hold, hold), connected.caller_port),
                Party::Agent => (Side::B, std::mem::replace(&mut connected.agent_on_hold, hold), connected.agent_port),
            };
            connected.bridge.update(side, leg_media(&answer));
            (was_on_hold, port, *version)
        };
        let found = {
            let mut calls = self.inner.calls.lock().map_err(|_| StatusCode::ServerInternalError)?;
            match calls.get_mut(call_id) {
                Some(call) => Some(match call.connected.as_mut() {
                    Some(c) => update(c, &mut call.sdp_version),
                    None => return Err(StatusCode::RequestPending),
                }),
                None => None,
            }
        };
        let found = match found {
            Some(f) => f,
            None => self.outbound_reoffer(call_id, update)?,
        };
        let (was_on_hold, port, version) = found;
        if was_on_hold != hold {
            self.emit(EdgeEvent::Hold { call_id: call_id.to_owned(), by: party, on: hold });
        }
        Ok(answer.to_sdp((self.inner.config.advertised_ip, port), session_id(), version))
    }
}

fn finish_quietly(call: Call) {
    for (_, offer) in call.offers {
        end_offer(offer);
    }
    if let Some(connected) = call.connected {
        connected.bridge.stop();
        let agent = connected.agent_dialog;
        tokio::spawn(async move {
            let _ = agent.bye().await;
        });
    }
}

fn rand_u64() -> u64 {
    let id = switchboard_core::new_id();
    u64::from_str_radix(&id[id.len().saturating_sub(16)..], 16).unwrap_or(0)
}

/// Which leg a dialog's states belong to.
enum Leg {
    Caller(DialogId),
    Agent(String),
    /// A click-to-call leg (to the agent's phone or to the customer).
    Outbound(Party),
}

/// Follows one dialog of a call (the caller's, or an agent's) until it terminates.
async fn dialog_states(edge: Weak<Inner>, call_id: String, leg: Leg, mut states: DialogStateReceiver) {
    let party = match leg {
        Leg::Caller(_) => Party::Caller,
        Leg::Agent(_) => Party::Agent,
        Leg::Outbound(p) => p,
    };
    while let Some(state) = states.recv().await {
        let Some(inner) = edge.upgrade() else { break };
        let edge = SipEdge { inner };
        match state {
            DialogState::Early(..) => {
                if let Leg::Agent(agent_id) = &leg {
                    edge.offer_ringing(&call_id, agent_id);
                }
            }
            DialogState::Updated(_, request, handle) => {
                let reply = edge.on_reoffer(&call_id, party, &request.body);
                respond_reoffer(handle, reply).await;
            }
            DialogState::Options(_, _, handle) | DialogState::Info(_, _, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
            }
            DialogState::Refer(_, _, handle) | DialogState::Message(_, _, handle) | DialogState::Notify(_, _, handle) | DialogState::Publish(_, _, handle) => {
                let _ = handle.reply(StatusCode::MethodNotAllowed).await;
            }
            DialogState::Terminated(id, reason) => {
                match &leg {
                    Leg::Caller(dialog_id) => {
                        edge.on_caller_terminated(&call_id, &reason);
                        edge.inner.dialogs.remove_dialog(dialog_id);
                    }
                    Leg::Agent(agent_id) => {
                        edge.on_agent_terminated(&call_id, agent_id);
                        edge.inner.dialogs.remove_dialog(&id);
                    }
                    Leg::Outbound(party) => {
                        edge.on_outbound_terminated(&call_id, *party);
                        edge.inner.dialogs.remove_dialog(&id);
                    }
                }
                break;
            }
            _ => {}
        }
    }
}

async fn respond_reoffer(handle: rsipstack::dialog::dialog::TransactionHandle, reply: Result<String, StatusCode>) {
    match reply {
        Ok(sdp) => {
            let _ = handle.respond(StatusCode::OK, Some(vec![Header::ContentType("application/sdp".into())]), Some(sdp.into_bytes())).await;
        }
        Err(code) => {
            let _ = handle.reply(code).await;
        }
    }
}

/// Registers one account and keeps it registered (refresh at 75% of the granted expiry,
/// backoff 1 s doubling to 60 s after failures), recording each outcome.
async fn keep_registered(edge: Weak<Inner>, account: Account) {
    let Some(inner) = edge.upgrade() else { return };
    let Ok(server) = Uri::try_from(account.registrar.as_str()) else {
        set_registration(&inner, &account.name, |r| {
            r.state = "failed".into();
            r.last_error = Some(format!("bad registrar URI {:?}", account.registrar));
        });
        return;
    };
    // INVITEs from the registrar's address are calls for this account.
    if let Ok(addrs) = tokio::net::lookup_host(format!("{}:{}", server.host_with_port.host, server.host_with_port.port.as_ref().map_or(5060, |p| p.value()))).await
        && let Ok(mut ips) = inner.registrar_ips.lock()
    {
        for a in addrs {
            ips.insert(a.ip(), account.name.clone());
        }
    }
    let credential = Credential {
        username: account.username.clone(),
        password: account.password.clone(),
        realm: None,
        auth_username: account.auth_username.clone(),
    };
    let endpoint = inner.dialogs.endpoint.clone();
    let token = inner.cancel.child_token();
    let name = account.name.clone();
    drop(inner);
    let mut registration = Registration::new(endpoint, Some(credential));
    let weak = edge.clone();
    registration
        .keep_alive(server, account.expiry_s, token, |outcome| {
            let Some(inner) = weak.upgrade() else { return };
            let status = set_registration(&inner, &name, |r| match outcome {
                RefreshOutcome::Registered(resp) => {
                    r.state = "registered".into();
                    r.last_code = Some(resp.status_code.code());
                    r.last_error = None;
                    r.successes += 1;
                    r.registered_at = Some(now_ms());
                    r.expires_s = granted_expiry(resp);
                }
                RefreshOutcome::Rejected(resp) => {
                    r.state = "failed".into();
                    r.last_code = Some(resp.status_code.code());
                    r.last_error = Some(format!("registrar answered {}", resp.status_code));
                }
                RefreshOutcome::Failed(e) => {
                    r.state = "failed".into();
                    r.last_error = Some(e.to_string());
                }
            });
            if let Some(status) = status {
                let _ = inner.events.send(EdgeEvent::Registration(status));
            }
        })
        .await;
    if let Some(inner) = edge.upgrade() {
        set_registration(&inner, &account.name, |r| r.state = "stopped".into());
    }
}

/// The expiry a registrar granted: the Contact's `expires` parameter, else the Expires header.
fn granted_expiry(resp: &rsipstack::sip::Response) -> Option<u32> {
    let from_contact = resp.headers.iter().find_map(|h| match h {
        Header::Contact(c) => {
            let v = c.value().to_ascii_lowercase();
            let rest = &v[v.find("expires=")? + 8..];
            rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
        }
        _ => None,
    });
    from_contact.or_else(|| {
        resp.headers.iter().find_map(|h| match h {
            Header::Expires(e) => e.value().trim().parse().ok(),
            _ => None,
        })
    })
}

fn set_registration(inner: &Inner, name: &str, change: impl FnOnce(&mut RegistrationStatus)) -> Option<RegistrationStatus> {
    let mut regs = inner.registrations.lock().ok()?;
    let r = regs.iter_mut().find(|r| r.name == name)?;
    change(r);
    Some(r.clone())
}
