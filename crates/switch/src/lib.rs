//! The switch: wires the SIP edge, the call-center core and the call log together.
//!
//! One task owns the [`CallCenter`]. It takes the edge's events and the API's requests one at
//! a time, feeds them to the core with the current time, and carries out the actions the core
//! returns (ring, stop ringing, connect, release). It sleeps until the core's next deadline
//! when nothing happens, so ring timeouts and maximum waits fire on time. Call-log writes go
//! through a second task in order. (Routing still awaits the store for the called number's
//! queue and an agent's phone: moving those reads off the signalling path is the next step.)
//!
//! The crate also holds the switch's protocol with the HTTP edge ([`protocol`]: requests and
//! their replies, agent and wallboard messages, the views) and the client card query
//! ([`card`]); the API depends on them, the switch on nothing of the API. The server reads
//! the settings into a [`SwitchConfig`] and starts it with [`Telephony::start`].
//!
//! `lib.rs` is over 800 lines: it is the switch as it moved out of the binary, to be split
//! along the call machine of the issue "The switch gets a home of its own".

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::{Value, json};
pub mod card;
pub mod protocol;

use crate::card::ClientCard;
use crate::protocol::{
    AgentMessage, AgentTarget, AgentView, ConsoleOutbox, ExtensionView, QueueView, RecordingView,
    RegistrationView, RelayView, RestoredAgentView, SwitchError, TelephonyHandle, TelephonyRequest,
    TelephonyStatus, WithdrawReason,
};
use switchboard_core::acd::{Action, AgentState, CallCenter, Input, OfferEnd, QueueConfig};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::callback::CallbackPolicy;
use switchboard_core::entity::CallDirection;
use switchboard_core::{PhoneNumber, Region};
use switchboard_media::recording::{Recorder, RecorderConfig, Recording};
use switchboard_media::relay::PortPool;
use switchboard_sip::edge::{
    DialTarget, EdgeConfig, EdgeEvent, EndedBy, Origin, OutboundOutcome, Party, RegistrationStatus,
    SipEdge,
};
use switchboard_store::{MissedCall, NewCall, Store};
use switchboard_webrtc::WebrtcConfig;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

mod calllog;
mod console;
mod directory;
mod dispatch;
mod monitor;
mod recording;
mod transfer;

use calllog::{Write, write_log};
use console::{Internal, Softphone};
use directory::Directory;
pub use dispatch::Dispatcher;

/// Milliseconds since the epoch.
pub use switchboard_store::now_ms;

/// The running telephony side.
pub struct Telephony {
    edge: SipEdge,
    requests: TelephonyHandle,
}

impl Telephony {
    /// Starts the SIP edge and the switch.
    /// `previous`: each agent's state as the previous run left it (`(user, state, reason)`),
    /// for putting desk-phone agents back.
    pub async fn start(
        config: SwitchConfig,
        store: Store,
        previous: Vec<(String, String, Option<String>)>,
    ) -> Result<Telephony, StartError> {
        let ports = PortPool::new(config.media_ip, config.rtp_port_min, config.rtp_port_max);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let edge = SipEdge::start(config.edge, ports, events_tx).await?;
        let (requests, requests_rx) = mpsc::unbounded_channel();
        let (writes, writes_rx) = mpsc::unbounded_channel();
        tokio::spawn(write_log(store.clone(), writes_rx, config.callback_policy));
        let recorder = match config.recorder {
            Some(recorder) => Some(Recorder::start(recorder).map_err(StartError::Recorder)?),
            None => None,
        };
        let (internal, internal_rx) = mpsc::unbounded_channel();
        let mut switch = Switch {
            store,
            edge: edge.clone(),
            cc: Box::new(CallCenter::new()),
            region: config.region,
            default_queues: config.default_queues,
            calls: HashMap::new(),
            endpoints: HashMap::new(),
            outbound_agents: HashMap::new(),
            outbound: config.outbound,
            writes,
            webrtc: WebrtcConfig { ip: config.webrtc_ip, gather_timeout: Duration::from_secs(2) },
            consoles: HashMap::new(),
            softphones: HashMap::new(),
            internal,
            tasks_told: HashMap::new(),
            recorder,
            recordings_root: config.recordings_root,
            record_queues: HashMap::new(),
            directory: Directory::default(),
            directory_loads: (0, 0),
            reloads_waiting: Vec::new(),
            wrapups: HashMap::new(),
            listeners: HashMap::new(),
            restored: Vec::new(),
            blocked_this_second: (0, 0),
        };
        match Directory::load(&switch.store).await {
            Ok(directory) => switch.use_directory(directory),
            Err(e) => warn!(error = %e, "cannot load the queues and phones"),
        }
        // Desk phones registered before the restart are still registered until they expire.
        match switch.store.live_sip_bindings(now_ms()).await {
            Ok(bindings) => switch.edge.restore_bindings(bindings),
            Err(e) => warn!(error = %e, "cannot read the phones' registrations"),
        }
        switch.restore_agents(previous);
        tokio::spawn(switch.run(events_rx, requests_rx, internal_rx));
        Ok(Telephony { edge, requests })
    }

    /// The channel the API talks through.
    pub fn handle(&self) -> TelephonyHandle {
        self.requests.clone()
    }

    /// The SIP address.
    pub fn sip_addr(&self) -> SocketAddr {
        self.edge.local_addr()
    }

    /// Stops the SIP edge.
    pub fn shutdown(&self) {
        self.edge.shutdown();
    }
}

/// What the switch remembers of a call beyond the core.
#[derive(Debug, Default)]
struct CallInfo {
    /// The queue an inbound call came to.
    queue: Option<String>,
    /// Its recording, while it is written.
    recording: Option<Recording>,
    hold_since: Option<i64>,
    hold_ms: i64,
    /// The caller's number (E.164 when it parsed).
    from: String,
    /// The client card, once built.
    card: Option<ClientCard>,
    /// Browser agents it is ringing for.
    ringing: HashSet<String>,
    /// The agent it is connected to.
    agent: Option<String>,
    /// Handed on by an agent (blind transfer): answered before.
    transferred: bool,
    /// Transferred out to this number leg (`number:+7...`).
    external: Option<String>,
    /// The number answered.
    external_answered: bool,
}

/// How an agent takes calls.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    /// A SIP phone: a URI or `ext:NNN`.
    Sip(String),
    /// The browser console's softphone.
    Browser,
}

struct Switch {
    store: Store,
    edge: SipEdge,
    /// Agent state and routing decisions (one node: the core's in-memory `CallCenter`).
    cc: Box<dyn Dispatcher>,
    region: Region,
    /// Trunk name -> queue name for calls whose number matches no queue.
    default_queues: HashMap<String, String>,
    calls: HashMap<String, CallInfo>,
    /// How each logged-in agent takes calls.
    endpoints: HashMap<String, Endpoint>,
    /// Click-to-call calls in progress -> the agent placing them.
    outbound_agents: HashMap<String, String>,
    /// Click-to-call settings (None: off).
    outbound: Option<OutboundConfig>,
    writes: mpsc::UnboundedSender<Write>,
    webrtc: WebrtcConfig,
    /// Open agent consoles: agent -> (console id, outbox).
    consoles: HashMap<String, (u64, ConsoleOutbox)>,
    /// Agents' browser softphones.
    softphones: HashMap<String, Softphone>,
    /// Results of background work (cards, softphone answers and states, due tasks).
    internal: mpsc::UnboundedSender<Internal>,
    /// Due tasks each console has been told about.
    tasks_told: HashMap<String, HashSet<String>>,
    /// Writes recordings (None: recording is off).
    recorder: Option<Recorder>,
    recordings_root: std::path::PathBuf,
    /// Queue id -> whether its calls are recorded.
    record_queues: HashMap<String, bool>,
    /// Queues and phones, as routing and logging in read them (never the store).
    directory: Directory,
    /// Directory loads: (the last one started, the newest one applied).
    directory_loads: (u64, u64),
    /// Reload requests waiting for their load: (load number, reply).
    reloads_waiting: Vec<(u64, tokio::sync::oneshot::Sender<()>)>,
    /// Agents in wrap-up: agent -> (call, since).
    wrapups: HashMap<String, (String, i64)>,
    /// Open wallboards that may listen to calls.
    listeners: monitor::Listeners,
    /// Desk-phone agents put back at start-up in the state a previous run left them in.
    restored: Vec<RestoredAgentView>,
    /// Blocked calls recorded in the current second: (second, count). A flood of refused
    /// INVITEs must not become a flood of rows (see [`MAX_BLOCKED_RECORDS_PER_S`]).
    blocked_this_second: (i64, u32),
}

/// At most this many calls refused for capacity are written to the call log per second;
/// the rest are only counted (`switchboard_calls_blocked_unrecorded_total`).
const MAX_BLOCKED_RECORDS_PER_S: u32 = 50;

/// Click-to-call: where customers are called and as whom (`[sip.outbound]`, checked).
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// The PBX or trunk URI a customer's number is dialled through.
    pub target: String,
    /// The caller id presented to customers.
    pub caller_id: String,
    /// Digest credentials for the PBX (user, password).
    pub credential: Option<(String, String)>,
    /// How long a customer may ring.
    pub ring_timeout: Duration,
}

/// Everything the switch needs to start, read from the settings by the server.
#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// The SIP edge.
    pub edge: EdgeConfig,
    /// The address RTP sockets bind to, and the port range.
    pub media_ip: IpAddr,
    /// Lowest RTP port.
    pub rtp_port_min: u16,
    /// Highest RTP port.
    pub rtp_port_max: u16,
    /// The address browsers' WebRTC connections use.
    pub webrtc_ip: IpAddr,
    /// The recorder (None: calls are not recorded).
    pub recorder: Option<RecorderConfig>,
    /// Where recordings go.
    pub recordings_root: std::path::PathBuf,
    /// Trunk name -> the queue (its number) for calls whose number matches no queue.
    pub default_queues: HashMap<String, String>,
    /// Click-to-call (None: off).
    pub outbound: Option<OutboundConfig>,
    /// Missed calls' callback rules.
    pub callback_policy: CallbackPolicy,
    /// Region for numbers written without a country code.
    pub region: Region,
}

/// Why the switch could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The SIP edge could not start (a port in use, for one).
    #[error(transparent)]
    Edge(#[from] switchboard_sip::edge::EdgeError),
    /// The recorder's writer thread could not start.
    #[error("cannot start the recorder: {0}")]
    Recorder(#[source] std::io::Error),
}

impl Switch {
    async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<EdgeEvent>,
        mut requests: mpsc::UnboundedReceiver<TelephonyRequest>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut task_check = tokio::time::interval(console::TASK_CHECK);
        task_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let sleep = match self.cc.next_deadline() {
                Some(at) => {
                    Duration::from_millis(u64::try_from((at - now_ms()).max(0)).unwrap_or(0))
                }
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                e = events.recv() => match e {
                    Some(e) => self.on_edge(e),
                    None => break,
                },
                r = requests.recv() => match r {
                    Some(r) => self.on_request(r),
                    None => break,
                },
                Some(i) = internal.recv() => self.on_internal(i),
                _ = task_check.tick() => self.check_tasks(self.consoles.keys().cloned().collect()),
                () = tokio::time::sleep(sleep) => {
                    let actions = self.cc.tick(now_ms());
                    self.apply(actions);
                }
            }
        }
        debug!("switch stopped");
    }

    fn write(&self, w: Write) {
        let _ = self.writes.send(w);
    }

    fn event(&self, call_id: &str, kind: Kind, agent_id: Option<&str>, detail: Value) {
        self.write(Write::Event {
            call_id: call_id.to_owned(),
            at: now_ms(),
            kind,
            agent_id: agent_id.map(str::to_owned),
            detail,
        });
    }

    /// Reads the directory again beside the switch; `reply` is answered once a load started
    /// after this request is in use (or has failed), so a call placed right after a change
    /// is routed by it.
    fn reload(&mut self, reply: tokio::sync::oneshot::Sender<()>) {
        self.directory_loads.0 += 1;
        let number = self.directory_loads.0;
        self.reloads_waiting.push((number, reply));
        let (store, internal) = (self.store.clone(), self.internal.clone());
        tokio::spawn(async move {
            let result = Directory::load(&store).await.map_err(|e| e.to_string());
            let _ = internal.send(Internal::Directory { number, result });
        });
    }

    /// A directory load finished: an older one than in use is dropped.
    fn directory_loaded(&mut self, number: u64, result: Result<Directory, String>) {
        match result {
            Ok(directory) if number > self.directory_loads.1 => {
                self.directory_loads.1 = number;
                self.use_directory(directory);
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot load the queues and phones: the old ones stay"),
        }
        let (done, waiting): (Vec<_>, Vec<_>) =
            self.reloads_waiting.drain(..).partition(|(n, _)| *n <= number);
        self.reloads_waiting = waiting;
        for (_, reply) in done {
            let _ = reply.send(());
        }
    }

    fn use_directory(&mut self, directory: Directory) {
        for q in &directory.queues {
            self.record_queues.insert(q.id.clone(), q.record);
            self.cc.set_queue(QueueConfig {
                id: q.id.clone(),
                strategy: q.strategy,
                ring_timeout_ms: q.ring_timeout_ms,
                max_wait_ms: q.max_wait_ms,
                wrap_up_ms: q.wrap_up_ms,
            });
        }
        // Agents already logged in keep ringing the phone they had; their next login picks
        // up a change of phone.
        self.edge.set_extensions(directory.extensions());
        self.directory = directory;
    }

    /// The queue a call goes to: the called number's, else the fallback's.
    fn route(&self, to: &str, origin: &Origin, queue_hint: Option<&str>) -> Option<String> {
        if let Some(q) = self.directory.queue_for(to) {
            return Some(q.to_owned());
        }
        let fallback = self.fallback_queue(origin, queue_hint)?;
        self.directory.queue_for(&fallback).map(str::to_owned)
    }

    /// The queue (its number) for a call whose called number matches none: the trunk's or
    /// account's own (`queue_hint`), else the trunk's default from the settings.
    fn fallback_queue(&self, origin: &Origin, queue_hint: Option<&str>) -> Option<String> {
        queue_hint.map(str::to_owned).or_else(|| match origin {
            Origin::Trunk(name) => self.default_queues.get(name).cloned(),
            Origin::Account(_) => None,
        })
    }

    /// The target the edge rings for an agent: their fixed URI, or `ext:NNN`.
    fn agent_target(&self, user_id: &str) -> Result<String, SwitchError> {
        self.directory.phone_of(user_id).ok_or(SwitchError::NoPhone)
    }

    fn normalise(&self, number: &str) -> String {
        PhoneNumber::parse(number, self.region)
            .map_or_else(|_| number.to_owned(), |p| p.e164().to_owned())
    }

    fn on_edge(&mut self, event: EdgeEvent) {
        let now = now_ms();
        match event {
            EdgeEvent::Incoming { call_id, from, to, origin, queue } => {
                let Some(queue_id) = self.route(&to, &origin, queue.as_deref()) else {
                    info!(call_id, to, "no queue for the called number: 404");
                    self.edge.release(&call_id, 404);
                    return;
                };
                let origin_name = match &origin {
                    Origin::Trunk(n) | Origin::Account(n) => n.clone(),
                };
                let from = self.normalise(&from);
                self.write(Write::Create(NewCall {
                    direction: CallDirection::Inbound,
                    from_e164: from.clone(),
                    to_e164: to.clone(),
                    queue_id: Some(queue_id.clone()),
                    offered_at: now,
                    id: Some(call_id.clone()),
                    origin: Some(origin_name),
                    agent_id: None,
                    task_id: None,
                }));
                self.calls.insert(
                    call_id.clone(),
                    CallInfo {
                        from: from.clone(),
                        queue: Some(queue_id.clone()),
                        ..CallInfo::default()
                    },
                );
                self.build_card(call_id.clone(), from);
                match self.cc.handle(Input::CallArrived { call_id: call_id.clone(), queue_id }, now)
                {
                    Ok(actions) => self.apply(actions),
                    Err(e) => {
                        warn!(error = %e, call_id, "cannot queue the call");
                        self.remove_call(&call_id);
                        self.edge.release(&call_id, 500);
                        self.write(Write::Ended {
                            call_id,
                            at: now,
                            reason: EndReason::Failed,
                            hold_ms: 0,
                        });
                    }
                }
            }
            EdgeEvent::Refused { call_id, from, to, origin, queue, code } => {
                self.blocked(call_id, from, to, origin, queue, code, now)
            }
            EdgeEvent::Bound { extension, contact, expires_at } => {
                self.write(Write::Binding { extension, contact, expires_at })
            }
            EdgeEvent::CallerGone { call_id } => {
                // The core's `Abandoned` forgets the call (and asks for a callback); anything
                // it did not know is forgotten here.
                match self.cc.handle(Input::CallerHungUp { call_id: call_id.clone() }, now) {
                    Ok(actions) => self.apply(actions),
                    Err(e) => debug!(error = %e, call_id, "caller gone"),
                }
                self.remove_call(&call_id);
            }
            EdgeEvent::OfferRinging { call_id, agent_id } => {
                self.event(&call_id, Kind::Ringing, Some(&agent_id), json!({}))
            }
            EdgeEvent::OfferAnswered { call_id, agent_id }
                if agent_id.starts_with(transfer::NUMBER_LEG) =>
            {
                self.external_answered(&call_id, &agent_id)
            }
            EdgeEvent::OfferFailed { call_id, agent_id, code }
                if agent_id.starts_with(transfer::NUMBER_LEG) =>
            {
                self.external_failed(&call_id, code)
            }
            EdgeEvent::OfferAnswered { call_id, agent_id } => match self.cc.handle(
                Input::Answered { call_id: call_id.clone(), agent_id: agent_id.clone() },
                now,
            ) {
                Ok(actions) => self.apply(actions),
                Err(e) => {
                    // Another agent took it first (ring-all), or the caller left.
                    debug!(error = %e, call_id, agent_id, "late answer");
                    self.edge.cancel_offer(&call_id, &agent_id);
                }
            },
            EdgeEvent::OfferFailed { call_id, agent_id, code } => {
                self.event(&call_id, Kind::Rejected, Some(&agent_id), json!({"sip_code": code}));
                match self.cc.handle(Input::Rejected { call_id: call_id.clone(), agent_id }, now) {
                    Ok(actions) => self.apply(actions),
                    Err(e) => debug!(error = %e, call_id, "offer failed"),
                }
            }
            EdgeEvent::Ended { call_id, by } => {
                let info = self.remove_call(&call_id).unwrap_or_default();
                let hold_ms = info.hold_ms + info.hold_since.map_or(0, |s| now - s);
                let reason = match by {
                    EndedBy::Caller => EndReason::CallerHangup,
                    EndedBy::Agent if info.external.is_some() => EndReason::TransferTargetHangup,
                    EndedBy::Agent => EndReason::AgentHangup,
                    EndedBy::MediaTimeout => EndReason::MediaTimeout,
                };
                if let Some(agent) = &info.agent {
                    if let Some(softphone) = self.softphones.get(agent) {
                        softphone.peer.detach();
                    }
                    let by = match by {
                        EndedBy::Caller => "caller",
                        EndedBy::Agent => "agent",
                        EndedBy::MediaTimeout => "media_timeout",
                    };
                    self.tell(agent, AgentMessage::Ended { call_id: call_id.clone(), by });
                }
                self.write(Write::Ended { call_id: call_id.clone(), at: now, reason, hold_ms });
                let input = match self.outbound_agents.remove(&call_id) {
                    Some(agent_id) => Input::OutboundEnded { agent_id },
                    None => Input::CallEnded { call_id: call_id.clone() },
                };
                match self.cc.handle(input, now) {
                    Ok(actions) => self.apply(actions),
                    Err(e) => debug!(error = %e, call_id, "call ended"),
                }
            }
            EdgeEvent::DialingCustomer { call_id } => {
                let agent = self.outbound_agents.get(&call_id).cloned();
                self.event(&call_id, Kind::DialingCustomer, agent.as_deref(), json!({}));
            }
            EdgeEvent::OutboundConnected { call_id } => {
                if let Some(agent_id) = self.outbound_agents.get(&call_id).cloned() {
                    let info = self.calls.entry(call_id.clone()).or_default();
                    if info.agent.is_some() {
                        let to = info.from.clone();
                        self.tell(
                            &agent_id,
                            AgentMessage::Connected { call_id: call_id.clone(), from: to },
                        );
                    }
                    self.write(Write::Answered { call_id: call_id.clone(), agent_id, at: now });
                    self.start_recording(&call_id);
                }
            }
            EdgeEvent::OutboundFailed { call_id, outcome, code } => {
                if let Some(code) = code {
                    self.write(Write::SipCode { call_id: call_id.clone(), code: i64::from(code) });
                }
                self.write(Write::Ended {
                    call_id: call_id.clone(),
                    at: now,
                    reason: outcome_reason(outcome),
                    hold_ms: 0,
                });
                if let Some(agent) = self.remove_call(&call_id).and_then(|i| i.agent) {
                    if let Some(softphone) = self.softphones.get(&agent) {
                        softphone.peer.detach();
                    }
                    self.tell(
                        &agent,
                        AgentMessage::Ended { call_id: call_id.clone(), by: outcome.as_str() },
                    );
                }
                if let Some(agent_id) = self.outbound_agents.remove(&call_id)
                    && let Ok(actions) = self.cc.handle(Input::OutboundEnded { agent_id }, now)
                {
                    self.apply(actions);
                }
            }
            EdgeEvent::Hold { call_id, by, on } => {
                if let Some(agent) = self.calls.get(&call_id).and_then(|i| i.agent.clone()) {
                    self.tell(&agent, AgentMessage::Hold { call_id: call_id.clone(), on });
                }
                if let Some(info) = self.calls.get_mut(&call_id) {
                    if on && info.hold_since.is_none() {
                        info.hold_since = Some(now);
                    } else if !on && let Some(since) = info.hold_since.take() {
                        info.hold_ms += now - since;
                    }
                }
                self.event(
                    &call_id,
                    if on { Kind::Hold } else { Kind::Resume },
                    None,
                    json!({"by": party(by)}),
                );
            }
            EdgeEvent::Dtmf { call_id, by, digit } => self.event(
                &call_id,
                Kind::Dtmf,
                None,
                json!({"by": party(by), "digit": digit.to_string()}),
            ),
            EdgeEvent::Registration(status) => log_registration(&status),
        }
    }

    fn apply(&mut self, actions: Vec<Action>) {
        let mut queue = std::collections::VecDeque::from(actions);
        // Offers that failed at once in this round: the core may offer the same call to the
        // same agent again (when nobody else is free); a second failure is left ringing for
        // the ring timeout to end, instead of looping here.
        let mut failed: HashSet<(String, String)> = HashSet::new();
        while let Some(action) = queue.pop_front() {
            let now = now_ms();
            match action {
                Action::Offer { call_id, agent_id } => {
                    let offered = match self.endpoints.get(&agent_id).cloned() {
                        Some(Endpoint::Sip(uri)) => {
                            self.edge.offer(&call_id, &agent_id, &uri).map_err(|e| e.to_string())
                        }
                        Some(Endpoint::Browser) => self.offer_browser(&call_id, &agent_id),
                        None => Err("the agent has no phone".to_owned()),
                    };
                    match offered {
                        Ok(()) => {
                            if matches!(self.endpoints.get(&agent_id), Some(Endpoint::Sip(_))) {
                                self.offered_desk_phone(&call_id, &agent_id);
                            }
                            self.event(&call_id, Kind::Offer, Some(&agent_id), json!({}));
                        }
                        Err(e) => {
                            warn!(call_id, agent_id, error = %e, "cannot ring the agent");
                            self.event(
                                &call_id,
                                Kind::Rejected,
                                Some(&agent_id),
                                json!({"error": e}),
                            );
                            if failed.insert((call_id.clone(), agent_id.clone()))
                                && let Ok(more) =
                                    self.cc.handle(Input::Rejected { call_id, agent_id }, now)
                            {
                                queue.extend(more);
                            }
                        }
                    }
                }
                Action::CancelOffer { call_id, agent_id, reason } => {
                    self.edge.cancel_offer(&call_id, &agent_id);
                    let (kind, why) = match reason {
                        OfferEnd::NoAnswer => (Kind::NoAnswer, WithdrawReason::NoAnswer),
                        OfferEnd::TakenByOther => {
                            (Kind::TakenByOther, WithdrawReason::TakenByOther)
                        }
                        OfferEnd::CallGone => (Kind::OfferWithdrawn, WithdrawReason::CallerGone),
                    };
                    self.withdraw(&call_id, &agent_id, why);
                    self.event(&call_id, kind, Some(&agent_id), json!({}));
                }
                Action::Connect { call_id, agent_id } => match self.connect(&call_id, &agent_id) {
                    Ok(()) => {
                        let mut transferred = false;
                        if let Some(info) = self.calls.get_mut(&call_id) {
                            info.ringing.remove(&agent_id);
                            info.agent = Some(agent_id.clone());
                            transferred = info.transferred;
                        }
                        if transferred {
                            self.write(Write::TransferredTo { call_id, agent_id, at: now });
                        } else {
                            self.write(Write::Answered {
                                call_id: call_id.clone(),
                                agent_id,
                                at: now,
                            });
                            self.start_recording(&call_id);
                        }
                    }
                    Err(e) => {
                        warn!(call_id, agent_id, error = %e, "cannot connect");
                        self.edge.release(&call_id, 500);
                        self.remove_call(&call_id);
                        self.write(Write::Ended {
                            call_id: call_id.clone(),
                            at: now,
                            reason: EndReason::Failed,
                            hold_ms: 0,
                        });
                        if let Ok(more) = self.cc.handle(Input::CallEnded { call_id }, now) {
                            queue.extend(more);
                        }
                    }
                },
                Action::ReleaseMaxWait { call_id } => {
                    self.edge.release(&call_id, 480);
                    let info = self.remove_call(&call_id);
                    self.write(Write::Ended {
                        call_id: call_id.clone(),
                        at: now,
                        reason: EndReason::MaxWait,
                        hold_ms: 0,
                    });
                    self.missed(call_id, info, EndReason::MaxWait, now);
                }
                Action::Abandoned { call_id } => {
                    // A caller who hangs up while being transferred had been answered.
                    let info = self.remove_call(&call_id);
                    if info.as_ref().is_some_and(|i| i.transferred) {
                        self.write(Write::Ended {
                            call_id,
                            at: now,
                            reason: EndReason::CallerHangup,
                            hold_ms: 0,
                        });
                    } else {
                        self.write(Write::Ended {
                            call_id: call_id.clone(),
                            at: now,
                            reason: EndReason::Abandoned,
                            hold_ms: 0,
                        });
                        self.missed(call_id, info, EndReason::Abandoned, now);
                    }
                }
                Action::Transferred { call_id, agent_id } => self.transferred(&call_id, &agent_id),
                Action::AgentChanged { agent_id, state } => {
                    debug!(agent_id, state = state.name(), "agent state");
                    let reason = if let AgentState::Paused { reason, .. } = &state {
                        Some(reason.clone())
                    } else {
                        None
                    };
                    self.write(Write::AgentState {
                        agent_id: agent_id.clone(),
                        state: state.name(),
                        reason,
                        at: now,
                    });
                    if let AgentState::WrapUp { call_id, since, .. } = &state {
                        self.wrapups.insert(agent_id.clone(), (call_id.clone(), *since));
                    } else if let Some((call_id, since)) = self.wrapups.remove(&agent_id) {
                        self.write(Write::WrapUp { call_id, ms: now - since });
                    }
                    self.tell(&agent_id, AgentMessage::State { state });
                }
            }
        }
    }

    fn on_request(&mut self, request: TelephonyRequest) {
        match request {
            TelephonyRequest::SetAgentState { user_id, target, reply } => {
                let result = self.set_agent_state(&user_id, target);
                let _ = reply.send(result);
            }
            TelephonyRequest::AgentState { user_id, reply } => {
                let _ = reply.send(self.cc.agent_state(&user_id));
            }
            TelephonyRequest::Status { reply } => {
                let registrations =
                    self.edge.registrations().into_iter().map(registration_view).collect();
                let agents = self
                    .endpoints
                    .keys()
                    .map(|id| AgentView { user_id: id.clone(), state: self.cc.agent_state(id) })
                    .collect();
                let queues = self
                    .directory
                    .queues
                    .iter()
                    .map(|q| {
                        let waiting = self.cc.waiting(&q.id);
                        QueueView {
                            queue_id: q.id.clone(),
                            waiting: waiting.len(),
                            oldest_since: waiting.first().map(|(_, at)| *at),
                        }
                    })
                    .collect();
                let extensions = self
                    .edge
                    .bindings()
                    .into_iter()
                    .map(|b| ExtensionView {
                        extension: b.extension,
                        contact: b.contact,
                        expires_in_s: b.expires_in.as_secs(),
                    })
                    .collect();
                let r = &*switchboard_media::recording::RECORDER_STATS;
                let load =
                    |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
                let recording = RecordingView {
                    files_open: load(&r.open),
                    frames: load(&r.frames),
                    dropped_frames: load(&r.dropped),
                    late_samples: load(&r.late_samples),
                    errors: load(&r.errors),
                };
                let m = &*switchboard_media::relay::RELAY_STATS;
                let relay = RelayView {
                    packets_in: load(&m.packets_in),
                    packets_out: load(&m.packets_out),
                    dropped: load(&m.dropped),
                    not_sent: load(&m.not_sent),
                };
                let restored_agents = self.restored.clone();
                let sip_listen = self.edge.local_addr().to_string();
                let _ = reply.send(TelephonyStatus {
                    sip_listen,
                    active_calls: self.edge.active_calls(),
                    registrations,
                    agents,
                    queues,
                    extensions,
                    recording,
                    relay,
                    restored_agents,
                });
            }
            TelephonyRequest::ReloadQueues { reply }
            | TelephonyRequest::ReloadExtensions { reply } => self.reload(reply),
            TelephonyRequest::ConsoleOpened { user_id, console_id, outbox } => {
                self.console_opened(user_id, console_id, outbox)
            }
            TelephonyRequest::ConsoleClosed { user_id, console_id } => {
                self.console_closed(&user_id, console_id)
            }
            TelephonyRequest::Console { user_id, console_id, command } => {
                self.on_console(user_id, console_id, command)
            }
            TelephonyRequest::Notify(n) => self.tell(&n.user_id, n.message),
            TelephonyRequest::Wallboard { user_id, board_id, event } => {
                self.on_wallboard(user_id, board_id, event)
            }
            TelephonyRequest::Dial { user_id, e164, task_id, reply } => {
                let result = self.dial(&user_id, &e164, task_id);
                let _ = reply.send(result);
            }
        }
    }

    /// Click-to-call: logs the call, marks the agent busy, and rings their phone.
    fn dial(
        &mut self,
        user_id: &str,
        e164: &str,
        task_id: Option<String>,
    ) -> Result<String, SwitchError> {
        let config = self.outbound.clone().ok_or(SwitchError::ClickToCallOff)?;
        // The browser's softphone when it is connected, else the agent's SIP phone.
        let browser = self.browser_ready(user_id);
        let uri = if browser { String::new() } else { self.agent_target(user_id)? };
        let logged_in = !matches!(self.cc.agent_state(user_id), AgentState::Offline);
        let now = now_ms();
        let call_id = switchboard_core::new_id();
        if logged_in {
            let actions = self
                .cc
                .handle(
                    Input::Dialing { agent_id: user_id.to_owned(), call_id: call_id.clone() },
                    now,
                )
                .map_err(|_| SwitchError::Busy)?;
            self.apply(actions);
        }
        self.write(Write::Create(NewCall {
            direction: CallDirection::Outbound,
            from_e164: config.caller_id.clone(),
            to_e164: e164.to_owned(),
            queue_id: None,
            offered_at: now,
            id: Some(call_id.clone()),
            origin: None,
            agent_id: Some(user_id.to_owned()),
            task_id,
        }));
        let digits = e164.trim_start_matches('+');
        let target = DialTarget {
            uri: config.target.replace("{digits}", digits).replace("{e164}", e164),
            caller_id: config.caller_id.clone(),
            credential: config.credential.clone(),
            ring_timeout: config.ring_timeout,
        };
        self.outbound_agents.insert(call_id.clone(), user_id.to_owned());
        self.calls.insert(
            call_id.clone(),
            CallInfo {
                from: e164.to_owned(),
                agent: browser.then(|| user_id.to_owned()),
                ..CallInfo::default()
            },
        );
        let dialed = if browser {
            self.build_card(call_id.clone(), e164.to_owned());
            self.dial_browser(&call_id, user_id, e164, target).map_err(SwitchError::Gateway)
        } else {
            self.edge
                .dial(&call_id, user_id, &uri, target)
                .map_err(|e| SwitchError::Gateway(e.to_string()))
        };
        if let Err(e) = dialed {
            self.remove_call(&call_id);
            self.outbound_agents.remove(&call_id);
            self.write(Write::Ended {
                call_id: call_id.clone(),
                at: now,
                reason: EndReason::Failed,
                hold_ms: 0,
            });
            if logged_in
                && let Ok(actions) =
                    self.cc.handle(Input::OutboundEnded { agent_id: user_id.to_owned() }, now)
            {
                self.apply(actions);
            }
            return Err(e);
        }
        if !browser {
            self.event(&call_id, Kind::DialingAgent, Some(user_id), json!({"to": e164}));
        }
        Ok(call_id)
    }

    /// A call the edge refused for capacity: logged as a call that ended at once as
    /// `blocked` (counted as offered and blocked in the statistics), and a callback for the
    /// number. Its queue is looked up off the switch task: a flood of refusals must not hold
    /// up the calls being served.
    #[allow(clippy::too_many_arguments)]
    fn blocked(
        &mut self,
        call_id: String,
        from: String,
        to: String,
        origin: Origin,
        queue_hint: Option<String>,
        code: u16,
        now: i64,
    ) {
        let second = now.div_euclid(1000);
        if self.blocked_this_second.0 != second {
            self.blocked_this_second = (second, 0);
        }
        self.blocked_this_second.1 += 1;
        if self.blocked_this_second.1 > MAX_BLOCKED_RECORDS_PER_S {
            if self.blocked_this_second.1 == MAX_BLOCKED_RECORDS_PER_S + 1 {
                warn!(
                    "more than {MAX_BLOCKED_RECORDS_PER_S} calls refused for capacity this second: only counted"
                );
            }
            metrics::counter!("switchboard_calls_blocked_unrecorded_total").increment(1);
            return;
        }
        let from = self.normalise(&from);
        let fallback = self.fallback_queue(&origin, queue_hint.as_deref());
        let origin = match origin {
            Origin::Trunk(n) | Origin::Account(n) => n,
        };
        let (store, writes) = (self.store.clone(), self.writes.clone());
        tokio::spawn(async move {
            let mut queue_id = store.queue_for_number(&to).await.ok().flatten().map(|q| q.id);
            if queue_id.is_none()
                && let Some(fallback) = fallback
            {
                queue_id = store.queue_for_number(&fallback).await.ok().flatten().map(|q| q.id);
            }
            debug!(call_id, from, to, code, "call refused for capacity: logged as blocked");
            let call = NewCall {
                direction: CallDirection::Inbound,
                from_e164: from.clone(),
                to_e164: to,
                queue_id: queue_id.clone(),
                offered_at: now,
                id: Some(call_id.clone()),
                origin: Some(origin),
                agent_id: None,
                task_id: None,
            };
            let _ = writes.send(Write::Create(call));
            let _ = writes.send(Write::SipCode { call_id: call_id.clone(), code: i64::from(code) });
            let _ = writes.send(Write::Ended {
                call_id: call_id.clone(),
                at: now,
                reason: EndReason::Blocked,
                hold_ms: 0,
            });
            if !from.is_empty() {
                let _ = writes.send(Write::Missed(MissedCall {
                    call_id,
                    e164: from,
                    queue_id,
                    at: now,
                    reason: EndReason::Blocked,
                }));
            }
        });
    }

    /// A caller nobody answered: a callback task for their number.
    fn missed(&self, call_id: String, info: Option<CallInfo>, reason: EndReason, at: i64) {
        let Some(info) = info else { return };
        if info.from.is_empty() {
            return;
        }
        self.write(Write::Missed(MissedCall {
            call_id,
            e164: info.from,
            queue_id: info.queue,
            at,
            reason,
        }));
    }

    fn connect(&mut self, call_id: &str, agent_id: &str) -> Result<(), String> {
        match self.endpoints.get(agent_id) {
            Some(Endpoint::Browser) => self.connect_browser(call_id, agent_id),
            _ => {
                self.edge.connect(call_id, agent_id).map_err(|e| e.to_string())?;
                // Answered on the desk phone: the console follows with the call and its form.
                let from = self.calls.get(call_id).map(|i| i.from.clone()).unwrap_or_default();
                self.tell(agent_id, AgentMessage::Connected { call_id: call_id.to_owned(), from });
                Ok(())
            }
        }
    }

    /// Puts desk-phone agents back in the state a previous run left them in: available
    /// (from any state of taking calls: their calls are gone) or paused with its reason, when
    /// their phone is a fixed URI or an extension still registered. Browser agents come back
    /// through their console; offline ones stay offline.
    fn restore_agents(&mut self, previous: Vec<(String, String, Option<String>)>) {
        let registered: HashSet<String> =
            self.edge.bindings().into_iter().map(|b| b.extension).collect();
        for (user_id, state, reason) in previous {
            if state == "offline" {
                continue;
            }
            let reachable = match self.directory.extension_of(&user_id) {
                Some(extension) => registered.contains(extension),
                None => self.directory.phone_of(&user_id).is_some(),
            };
            if !reachable {
                continue;
            }
            let mut result = self.set_agent_state(&user_id, AgentTarget::Available);
            if state == "paused" && result.is_ok() {
                result = self.set_agent_state(
                    &user_id,
                    AgentTarget::Paused(reason.clone().unwrap_or_else(|| "other".into())),
                );
            }
            match result {
                Ok(now) => {
                    info!(user_id, state = now.name(), "agent restored after the restart");
                    self.restored.push(RestoredAgentView {
                        user_id,
                        state: now.name().to_owned(),
                        reason: if state == "paused" { reason } else { None },
                    });
                }
                Err(e) => info!(user_id, error = %e, "agent not restored after the restart"),
            }
        }
    }

    fn set_agent_state(
        &mut self,
        user_id: &str,
        target: AgentTarget,
    ) -> Result<AgentState, SwitchError> {
        let now = now_ms();
        let current = self.cc.agent_state(user_id);
        // A browser agent takes calls only with a live softphone: the gateway checks, not
        // the page (a stale connection once made agents available who could not answer).
        if matches!(target, AgentTarget::Available)
            && matches!(self.endpoints.get(user_id), Some(Endpoint::Browser))
            && !self.browser_ready(user_id)
        {
            return Err(SwitchError::SoftphoneNotConnected);
        }
        let input = match (&current, target) {
            (AgentState::Offline, AgentTarget::Available) => {
                // The browser's softphone when it is connected, else the agent's SIP phone.
                let endpoint = if self.browser_ready(user_id) {
                    Endpoint::Browser
                } else {
                    match self.agent_target(user_id) {
                        Ok(target) => Endpoint::Sip(target),
                        Err(_) if self.consoles.contains_key(user_id) => {
                            return Err(SwitchError::SoftphoneNotConnected);
                        }
                        Err(e) => return Err(e),
                    }
                };
                let queues = self.directory.queues_of(user_id).to_vec();
                if queues.is_empty() {
                    return Err(SwitchError::NoQueues);
                }
                self.endpoints.insert(user_id.to_owned(), endpoint);
                Some(Input::AgentLogin { agent_id: user_id.to_owned(), queues })
            }
            (AgentState::Paused { .. }, AgentTarget::Available) => {
                Some(Input::AgentUnpause { agent_id: user_id.to_owned() })
            }
            (AgentState::WrapUp { .. }, AgentTarget::Available) => {
                Some(Input::WrapUpDone { agent_id: user_id.to_owned() })
            }
            (
                AgentState::Available { .. }
                | AgentState::Ringing { .. }
                | AgentState::OnCall { .. },
                AgentTarget::Available,
            ) => None,
            (_, AgentTarget::Paused(reason)) => {
                Some(Input::AgentPause { agent_id: user_id.to_owned(), reason })
            }
            (AgentState::Offline, AgentTarget::Offline) => None,
            (_, AgentTarget::Offline) => Some(Input::AgentLogout { agent_id: user_id.to_owned() }),
        };
        if let Some(input) = input {
            let actions =
                self.cc.handle(input, now).map_err(|e| SwitchError::NotNow(e.to_string()))?;
            self.apply(actions);
        }
        Ok(self.cc.agent_state(user_id))
    }
}

/// How the call log names a click-to-call call's failure.
fn outcome_reason(outcome: OutboundOutcome) -> EndReason {
    match outcome {
        OutboundOutcome::AgentUnreachable => EndReason::AgentUnreachable,
        OutboundOutcome::Busy => EndReason::Busy,
        OutboundOutcome::NoAnswer => EndReason::NoAnswer,
        OutboundOutcome::Declined => EndReason::Declined,
        OutboundOutcome::Failed => EndReason::Failed,
        OutboundOutcome::AgentCancelled => EndReason::AgentCancelled,
    }
}

fn party(p: Party) -> &'static str {
    match p {
        Party::Caller => "caller",
        Party::Agent => "agent",
    }
}

fn log_registration(status: &RegistrationStatus) {
    match status.state.as_str() {
        "registered" => info!(account = status.name, expires_s = ?status.expires_s, "registered"),
        _ => {
            warn!(account = status.name, state = status.state, code = ?status.last_code, error = ?status.last_error, "registration")
        }
    }
}

fn registration_view(r: RegistrationStatus) -> RegistrationView {
    RegistrationView {
        name: r.name,
        registrar: r.registrar,
        state: r.state,
        last_code: r.last_code,
        last_error: r.last_error,
        expires_s: r.expires_s,
        successes: r.successes,
        registered_at: r.registered_at,
    }
}
