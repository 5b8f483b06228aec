//! The switch: wires the SIP edge, the call-center core and the call log together.
//!
//! One task owns the call machine ([`machine`]: every call and agent, the ACD inside it; pure,
//! no I/O). It takes the edge's events and the API's requests one at a time, turns them into
//! the machine's inputs with the current time, and carries out the effects the machine
//! returns (ring, stop ringing, connect, release, log, tell a console, record). It sleeps
//! until the machine's next deadline when nothing happens, so ring timeouts and maximum waits
//! fire on time. It awaits nothing while handling an event: routing reads the in-memory
//! directory (`directory`), reads that need the store run beside it and come back as
//! internal events, and call-log writes go through a second task in order (`calllog`).
//!
//! Where things are: `machine` (what calls are and what to do next), `actions` (the
//! executor: effects carried out), `events` (the edge's events as inputs), `requests` (the
//! API's requests), `agents` (state changes, click-to-call), `routing` (queues, the
//! directory, calls refused for capacity), `console` (browser agents), `monitor`
//! (supervisors listening), `recording`, `transfer` (to a number).
//!
//! The crate also holds the switch's protocol with the HTTP edge ([`protocol`]: requests and
//! their replies, agent and wallboard messages, the views) and the client card query
//! ([`card`]); the API depends on them, the switch on nothing of the API. The server reads
//! the settings into a [`SwitchConfig`] and starts it with [`Telephony::start`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub mod card;
pub mod protocol;

use crate::protocol::{ConsoleOutbox, RestoredAgentView, TelephonyHandle, TelephonyRequest};
use switchboard_core::acd::CallCenter;
use switchboard_core::callback::CallbackPolicy;
use switchboard_core::{PhoneNumber, Region};
use switchboard_media::recording::{Recorder, RecorderConfig, Recording};
use switchboard_media::relay::{PortPool, Sound};
use switchboard_sip::edge::{EdgeConfig, EdgeEvent, SipEdge};
use switchboard_store::Store;
use switchboard_webrtc::WebrtcConfig;
use tokio::sync::mpsc;
use tracing::{debug, warn};

mod actions;
mod agents;
mod calllog;
mod console;
mod directory;
mod dispatch;
mod events;
mod health;
mod machine;
mod monitor;
pub mod prompts;
mod recording;
mod requests;
mod routing;
mod transfer;

use calllog::{LogSender, Write};
use console::{Internal, Softphone};
use directory::Directory;
pub use dispatch::Dispatcher;
use machine::CallMachine;

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
        let (writes, writer) = LogSender::start(store.clone(), config.callback_policy);
        tokio::spawn(writer);
        let recorder = match config.recorder {
            Some(recorder) => Some(Recorder::start(recorder).map_err(StartError::Recorder)?),
            None => None,
        };
        let (internal, internal_rx) = mpsc::unbounded_channel();
        let mut machine = CallMachine::new(Box::new(CallCenter::new()));
        machine.set_region(config.region);
        let mut switch = Switch {
            store,
            edge: edge.clone(),
            machine,
            region: config.region,
            default_queues: config.default_queues,
            recordings: HashMap::new(),
            dial_error: None,
            outbound: config.outbound,
            waiting_sound: config.waiting_sound,
            hold_sound: config.hold_sound,
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
            reloads: directory::Reloads::default(),
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

struct Switch {
    store: Store,
    edge: SipEdge,
    /// Every call and agent, and what to do next (agent state and routing decisions inside
    /// it; one node: the core's in-memory `CallCenter`).
    machine: CallMachine,
    region: Region,
    /// Trunk name -> queue name for calls whose number matches no queue.
    default_queues: HashMap<String, String>,
    /// Recordings being written, by call.
    recordings: HashMap<String, Recording>,
    /// Why the last click-to-call effect failed (read right after it ran).
    dial_error: Option<String>,
    /// Click-to-call settings (None: off).
    outbound: Option<OutboundConfig>,
    /// What a queued caller hears until an agent answers (None: no early media).
    waiting_sound: Option<Sound>,
    /// What a caller on hold hears (None: whatever the agent's side sends).
    hold_sound: Option<Sound>,
    writes: LogSender,
    webrtc: WebrtcConfig,
    /// Open agent consoles: agent -> (console id, outbox).
    consoles: HashMap<String, (u64, ConsoleOutbox)>,
    /// Agents' browser softphones.
    softphones: HashMap<String, Softphone>,
    /// Results of background work (cards, softphone answers and states, due tasks).
    internal: mpsc::UnboundedSender<Internal>,
    /// Due tasks each console has been told about.
    tasks_told: HashMap<String, std::collections::HashSet<String>>,
    /// Writes recordings (None: recording is off).
    recorder: Option<Recorder>,
    recordings_root: std::path::PathBuf,
    /// Queue id -> whether its calls are recorded.
    record_queues: HashMap<String, bool>,
    /// Queues and phones, as routing and logging in read them (never the store).
    directory: Directory,
    /// Directory loads in flight and the reload requests waiting on them.
    reloads: directory::Reloads<tokio::sync::oneshot::Sender<()>>,
    /// Open wallboards that may listen to calls.
    listeners: monitor::Listeners,
    /// Desk-phone agents put back at start-up in the state a previous run left them in.
    restored: Vec<RestoredAgentView>,
    /// Blocked calls recorded in the current second: (second, count). A flood of refused
    /// INVITEs must not become a flood of rows (see [`MAX_BLOCKED_RECORDS_PER_S`]).
    blocked_this_second: (i64, u32),
}

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
    /// What a queued caller hears until an agent answers (None: no early media).
    pub waiting_sound: Option<Sound>,
    /// What a caller on hold hears (None: whatever the agent's side sends).
    pub hold_sound: Option<Sound>,
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
            let sleep = match self.machine.next_deadline() {
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
                    let now = now_ms();
                    let effects = self.machine.tick(now);
                    self.carry_out(effects, now);
                }
            }
        }
        debug!("switch stopped");
    }

    fn write(&self, w: Write) {
        self.writes.send(w);
    }

    fn normalise(&self, number: &str) -> String {
        PhoneNumber::parse(number, self.region)
            .map_or_else(|_| number.to_owned(), |p| p.e164().to_owned())
    }
}
