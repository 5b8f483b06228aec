//! What the API asks of the telephony side, over a channel the server wires. The API knows
//! nothing of SIP: it sends a [`TelephonyRequest`] and waits for the answer on a oneshot.
//!
//! Over 500 lines on purpose: it is one vocabulary (requests, replies, errors, agent and
//! wallboard messages, views), kept in one file so the API side reads it in one place.

use serde::{Deserialize, Serialize};
use switchboard_core::acd::AgentState;

use crate::card::ClientCard;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;

/// Where an agent wants to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentTarget {
    /// Take calls (logs in to the agent's queues, ends a pause or wrap-up).
    Available,
    /// Take no calls for a while.
    Paused(String),
    /// Leave the queues.
    Offline,
}

/// Why the switch refused what an agent asked (a change of state, a call to place). The API
/// answers with [`SwitchError::status`] and [`SwitchError::code`]; the pages show the code's
/// words in the user's language (`err_<code>`), the English text is for logs and scripts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    /// A browser agent's softphone has no live connection yet.
    #[error("the softphone is not connected yet: wait a few seconds, or reload the page")]
    SoftphoneNotConnected,
    /// The agent has no SIP phone and no softphone.
    #[error("no SIP phone is configured for this agent")]
    NoPhone,
    /// The agent serves no queue.
    #[error("the agent is not a member of any queue")]
    NoQueues,
    /// The agent is talking or being rung.
    #[error("you are on a call or being offered one")]
    Busy,
    /// Click-to-call has no target.
    #[error("click-to-call is not configured (sip.outbound.target)")]
    ClickToCallOff,
    /// The call center does not allow the change from the agent's present state.
    #[error("{0}")]
    NotNow(String),
    /// The gateway could not place the call (no free media port, say).
    #[error("cannot place the call: {0}")]
    Gateway(String),
}

impl SwitchError {
    /// A stable name for the reason, for scripts and the pages' words.
    pub fn code(&self) -> &'static str {
        match self {
            SwitchError::SoftphoneNotConnected => "softphone_not_connected",
            SwitchError::NoPhone => "no_phone",
            SwitchError::NoQueues => "no_queues",
            SwitchError::Busy => "agent_busy",
            SwitchError::ClickToCallOff => "click_to_call_off",
            SwitchError::NotNow(_) => "not_now",
            SwitchError::Gateway(_) => "gateway",
        }
    }

    /// The HTTP status it answers with: 422 for what the agent's set-up lacks, 409 for what
    /// their present state forbids, 503 for what the gateway cannot do now.
    pub fn status(&self) -> u16 {
        match self {
            SwitchError::NoPhone | SwitchError::NoQueues => 422,
            SwitchError::SoftphoneNotConnected | SwitchError::Busy | SwitchError::NotNow(_) => 409,
            SwitchError::ClickToCallOff | SwitchError::Gateway(_) => 503,
        }
    }
}

/// One account's registration with a PBX or provider.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegistrationView {
    /// Account name.
    pub name: String,
    /// Registrar URI.
    pub registrar: String,
    /// `registering`, `registered`, `failed` or `stopped`.
    pub state: String,
    /// Last SIP status from the registrar.
    pub last_code: Option<u16>,
    /// Error of the last failure.
    pub last_error: Option<String>,
    /// Expiry granted, seconds.
    pub expires_s: Option<u32>,
    /// Successful registrations (first and refreshes).
    pub successes: u64,
    /// Epoch ms of the last success.
    pub registered_at: Option<i64>,
}

/// An agent as the call center sees them now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentView {
    /// User id.
    pub user_id: String,
    /// State with its details (`{"state": "paused", "reason": ..., "since": ...}`).
    #[schema(value_type = Object)]
    pub state: AgentState,
}

/// A queue's live figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueView {
    /// Queue id.
    pub queue_id: String,
    /// Calls waiting.
    pub waiting: usize,
    /// When the oldest waiting call arrived (epoch ms).
    pub oldest_since: Option<i64>,
}

/// The telephony side at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TelephonyStatus {
    /// SIP address the gateway listens on.
    pub sip_listen: String,
    /// Calls in progress (waiting, ringing or connected).
    pub active_calls: usize,
    /// Registrations.
    pub registrations: Vec<RegistrationView>,
    /// Agents known to the call center.
    pub agents: Vec<AgentView>,
    /// Queues.
    pub queues: Vec<QueueView>,
    /// Agents' phones registered with the gateway.
    pub extensions: Vec<ExtensionView>,
    /// The call recorder's counters since start.
    pub recording: RecordingView,
    /// The RTP relay's counters since start.
    pub relay: RelayView,
    /// What the SIP port's front door answered or dropped since start.
    pub sip: SipFrontView,
    /// Desk-phone agents this start put back in the state the previous run left them in.
    pub restored_agents: Vec<RestoredAgentView>,
    /// What an administrator must see now (the admin page's banner; `switchboard_alert` on
    /// `/metrics`).
    pub alerts: Vec<AlertView>,
}

/// Something wrong now that an administrator must act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AlertView {
    /// `recording_failed` (recordings are failing: the last failure is newer than the last
    /// recording finished whole), `recordings_disk_low` (the recordings' disk has less than
    /// 5% and less than 1 GiB free) or `database_unavailable` (call-log writes are waiting).
    pub kind: String,
    /// Since when (ms since the epoch): the last failure, or when the waiting began; 0 for
    /// the disk's free space, which is a reading.
    pub since: i64,
    /// Failed recordings since the start, free bytes on the disk, or writes waiting.
    pub count: u64,
    /// The last error as the system gave it (untranslated), when there is one.
    pub error: Option<String>,
}

/// An agent put back after a restart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RestoredAgentView {
    /// User id.
    pub user_id: String,
    /// `available` or `paused`.
    pub state: String,
    /// The pause's reason.
    pub reason: Option<String>,
}

/// Malformed or unusual SIP at the front door (counters since the process started).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SipFrontView {
    /// Requests answered there with an error (505, 483, 416, 501, 400).
    pub answered: u64,
    /// Datagrams dropped: nothing could be answered (no Via, no end of headers, a bad ACK).
    pub dropped: u64,
    /// Requests longer than the SIP stack's buffer, handed on whole.
    pub large: u64,
    /// Entries in the SIP stack's tables and the edge's now (they come back down when calls
    /// end).
    pub tables: SipTablesView,
}

/// How many entries the SIP stack's and the edge's tables hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SipTablesView {
    /// Transactions in progress.
    pub transactions: usize,
    /// Finished transactions kept to absorb retransmissions.
    pub finished_transactions: usize,
    /// Dialogs waiting for the ACK of a 2xx.
    pub waiting_ack: usize,
    /// Dialogs.
    pub dialogs: usize,
    /// Peers' connections the transport layer keeps.
    pub connections: usize,
    /// Calls in the edge's table.
    pub calls: usize,
    /// Click-to-call calls in the edge's table.
    pub outbound: usize,
    /// Digest nonces not yet expired.
    pub nonces: usize,
}

/// The RTP relay at a glance (counters since the process started, over every bridge).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RelayView {
    /// Packets received on any leg.
    pub packets_in: u64,
    /// Packets sent to a peer.
    pub packets_out: u64,
    /// Datagrams dropped (not RTP, or a payload type the leg did not negotiate).
    pub dropped: u64,
    /// Packets that arrived while the other leg had nowhere to send.
    pub not_sent: u64,
}

/// The call recorder at a glance (counters since the process started).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RecordingView {
    /// Recording files open now.
    pub files_open: u64,
    /// Audio frames queued for the writer.
    pub frames: u64,
    /// Frames dropped because the writer's queue was full (the disk fell behind).
    pub dropped_frames: u64,
    /// Samples that reached the writer too late for their place in the file.
    pub late_samples: u64,
    /// Files that could not be created or written.
    pub errors: u64,
}

/// An agent's phone registered with the gateway.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExtensionView {
    /// Extension.
    pub extension: String,
    /// Where the phone is reached.
    pub contact: String,
    /// Seconds until the registration expires.
    pub expires_in_s: u64,
}

/// A request to the telephony side.
#[derive(Debug)]
pub enum TelephonyRequest {
    /// Change an agent's state.
    SetAgentState {
        /// The agent (always the logged-in user).
        user_id: String,
        /// Where to.
        target: AgentTarget,
        /// The new state, or why not.
        reply: oneshot::Sender<Result<AgentState, SwitchError>>,
    },
    /// An agent's state.
    AgentState {
        /// The agent.
        user_id: String,
        /// The state.
        reply: oneshot::Sender<AgentState>,
    },
    /// Everything at a glance.
    Status {
        /// The status.
        reply: oneshot::Sender<TelephonyStatus>,
    },
    /// Queues changed in the store: load them again (replies once loaded).
    ReloadQueues {
        /// Done.
        reply: oneshot::Sender<()>,
    },
    /// Agents' extensions changed in the store: give the registrar the new list (replies
    /// once done, so a phone registering right after is known).
    ReloadExtensions {
        /// Done.
        reply: oneshot::Sender<()>,
    },
    /// An agent's console connected (its WebSocket is open).
    ConsoleOpened {
        /// The agent (from the session, never from the browser).
        user_id: String,
        /// This connection's id (a later one replaces it).
        console_id: u64,
        /// Where the console's messages go.
        outbox: ConsoleOutbox,
    },
    /// An agent's console disconnected.
    ConsoleClosed {
        /// The agent.
        user_id: String,
        /// Which connection.
        console_id: u64,
    },
    /// A command from an agent's console.
    Console {
        /// The agent.
        user_id: String,
        /// Which connection.
        console_id: u64,
        /// What they asked.
        command: ConsoleCommand,
    },
    /// Show something on a user's console if it is open.
    Notify(Notify),
    /// Something from a supervisor's wallboard (its socket opened or closed, or a command).
    Wallboard {
        /// The supervisor (from the session).
        user_id: String,
        /// This wallboard's id (a later one replaces it).
        board_id: u64,
        /// What happened.
        event: WallboardEvent,
    },
    /// Click-to-call: ring the agent's phone, then the customer.
    Dial {
        /// The agent placing the call (the logged-in user).
        user_id: String,
        /// The customer's number, E.164.
        e164: String,
        /// The task the call is placed for (a callback), linked to the call.
        task_id: Option<String>,
        /// The call's id, or why not.
        reply: oneshot::Sender<Result<String, SwitchError>>,
    },
}

/// What a wallboard's socket tells the telephony side.
#[derive(Debug)]
pub enum WallboardEvent {
    /// The socket opened; live listening's messages go to `outbox`.
    Opened {
        /// Where the wallboard's messages go.
        outbox: WallboardOutbox,
    },
    /// The socket closed: the supervisor leaves any call and the connection is closed.
    Closed,
    /// A command, with the agents whose calls this supervisor may listen to (`None`: all).
    Command {
        /// What they asked.
        command: WallboardCommand,
        /// The agents in the supervisor's scope (the API reads it from the store).
        scope: Option<Vec<String>>,
    },
}

/// What a supervisor does on a live call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListenMode {
    /// Hear both sides, unheard.
    Listen,
    /// Speak to the agent only.
    Whisper,
    /// Join the call: both sides hear the supervisor.
    Barge,
}

impl ListenMode {
    /// The audit action of starting this mode.
    pub fn audit_action(self) -> &'static str {
        match self {
            ListenMode::Listen => "call.listen",
            ListenMode::Whisper => "call.whisper",
            ListenMode::Barge => "call.barge",
        }
    }
}

/// What the wallboard sends over its WebSocket, besides nothing at all (JSON with a `type`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WallboardCommand {
    /// The browser's WebRTC offer for the supervisor's listening connection (made once, at
    /// the first listen, and kept while the page is open).
    Offer {
        /// SDP.
        sdp: String,
    },
    /// A trickled ICE candidate of the browser.
    Candidate {
        /// `candidate:` attribute (empty: end of candidates).
        candidate: String,
        /// m-line id.
        #[serde(default, rename = "sdpMid")]
        sdp_mid: Option<String>,
        /// m-line index.
        #[serde(default, rename = "sdpMLineIndex")]
        sdp_mline_index: Option<u16>,
    },
    /// Listen to (or whisper on, or barge into) a call in progress; on the call already, a
    /// change of mode.
    Listen {
        /// Call.
        call_id: String,
        /// How.
        mode: ListenMode,
    },
    /// Leave the call.
    StopListening,
}

/// What the telephony side tells a wallboard about live listening (JSON with a `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WallboardMessage {
    /// The answer to the browser's WebRTC offer.
    Answer {
        /// SDP.
        sdp: String,
    },
    /// The listening connection: `connecting`, `connected` or `lost`.
    Softphone {
        /// Connection state.
        state: &'static str,
    },
    /// The supervisor is on a call.
    Listening {
        /// Call.
        call_id: String,
        /// The agent on it.
        agent_id: String,
        /// How.
        mode: ListenMode,
    },
    /// The supervisor is off the call.
    Stopped {
        /// Call.
        call_id: String,
        /// `stopped` (they left), `ended` (the call ended), `taken_over` (another supervisor
        /// took the call) or `closed` (the page went away).
        reason: &'static str,
    },
    /// A command failed.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// The sending end of a wallboard's messages.
pub type WallboardOutbox = mpsc::UnboundedSender<WallboardMessage>;

/// Something to show a user's console outside any call (an escalated task).
#[derive(Debug)]
pub struct Notify {
    /// Who.
    pub user_id: String,
    /// What.
    pub message: AgentMessage,
}

/// What the agent's console sends over its WebSocket (JSON with a `type`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsoleCommand {
    /// The browser's WebRTC offer for the agent's persistent softphone connection.
    Offer {
        /// SDP.
        sdp: String,
    },
    /// A trickled ICE candidate of the browser.
    Candidate {
        /// `candidate:` attribute (empty: end of candidates).
        candidate: String,
        /// m-line id.
        #[serde(default, rename = "sdpMid")]
        sdp_mid: Option<String>,
        /// m-line index.
        #[serde(default, rename = "sdpMLineIndex")]
        sdp_mline_index: Option<u16>,
    },
    /// Take the call ringing on this console.
    Answer {
        /// Call.
        call_id: String,
    },
    /// End the agent's call.
    Hangup {
        /// Call.
        call_id: String,
    },
    /// Blind transfer of the agent's call.
    Transfer {
        /// Call.
        call_id: String,
        /// Where to.
        to: TransferTarget,
    },
    /// Hold or resume the agent's call.
    Hold {
        /// Call.
        call_id: String,
        /// Hold (true) or resume (false).
        on: bool,
    },
    /// Pause (or resume) the recording of the agent's call: while paused both channels are
    /// silent in the file (for card numbers and the like).
    Recording {
        /// Call.
        call_id: String,
        /// Paused (true) or recording (false).
        paused: bool,
    },
}

/// Where a console transfers a call (`{"agent": id}`, `{"queue": id}` or `{"number": "..."}`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TransferTarget {
    /// Another agent (who must be available).
    Agent(String),
    /// A queue.
    Queue(String),
    /// A phone number, through the PBX (the call leaves the call center).
    Number(String),
}

/// Why a call stopped ringing on a console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    /// Not answered in time.
    NoAnswer,
    /// Another agent answered first.
    TakenByOther,
    /// The caller hung up.
    CallerGone,
}

/// What the telephony side tells one agent's console (JSON with a `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentMessage {
    /// The agent's state in the call center.
    State {
        /// State with details.
        state: AgentState,
    },
    /// The softphone connection: `connecting`, `connected` or `lost`.
    /// Another page of the same agent opened the console: this one stops (no reconnect).
    Replaced,
    Softphone {
        /// Connection state.
        state: &'static str,
    },
    /// The answer to the browser's WebRTC offer.
    Answer {
        /// SDP.
        sdp: String,
    },
    /// A call is ringing for this agent.
    Ringing {
        /// Call.
        call_id: String,
        /// Caller's number.
        from: String,
        /// The client card, when already built (else a `card` message follows).
        card: Option<ClientCard>,
        /// It rings the agent's desk phone, not this page's softphone (the page shows the
        /// card and answers nothing).
        desk_phone: bool,
    },
    /// The client card of a call ringing or connected on this console.
    Card {
        /// Call.
        call_id: String,
        /// Card.
        card: ClientCard,
    },
    /// The call no longer rings here.
    Withdrawn {
        /// Call.
        call_id: String,
        /// Why.
        reason: WithdrawReason,
    },
    /// The agent's outbound call is ringing the customer.
    Dialing {
        /// Call.
        call_id: String,
        /// The customer's number.
        to: String,
    },
    /// The agent is talking with the caller.
    Connected {
        /// Call.
        call_id: String,
        /// Caller's number.
        from: String,
    },
    /// The call is on hold (or resumed).
    Hold {
        /// Call.
        call_id: String,
        /// On hold now.
        on: bool,
    },
    /// The call ended.
    Ended {
        /// Call.
        call_id: String,
        /// `caller`, `agent`, `media_timeout`, `transfer` (the agent handed it on), or how an
        /// outbound call failed (`busy`, `no_answer`, `declined`, `failed`, `agent_cancelled`).
        by: &'static str,
    },
    /// An open task of the agent's is due, or a new lead's callback is to be made (sent once
    /// per task and console).
    TaskDue {
        /// The task.
        #[serde(flatten)]
        task: Box<switchboard_core::entity::Task>,
        /// A lead made it (it is shown from the moment the lead came, not from its due time).
        lead: bool,
    },
    /// The recording of the agent's call was paused or resumed.
    Recording {
        /// Call.
        call_id: String,
        /// Paused now.
        paused: bool,
    },
    /// A task was escalated to this user (a supervisor) for being overdue.
    TaskEscalated {
        /// The task.
        #[serde(flatten)]
        task: Box<switchboard_core::entity::Task>,
    },
    /// A command failed.
    Error {
        /// What went wrong, for the agent.
        message: String,
    },
}

/// The sending end of a console's messages.
pub type ConsoleOutbox = mpsc::UnboundedSender<AgentMessage>;

/// The sending end the API holds.
pub type TelephonyHandle = mpsc::UnboundedSender<TelephonyRequest>;
