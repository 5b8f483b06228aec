//! What the API asks of the telephony side, over a channel the server wires. The API knows
//! nothing of SIP: it sends a [`TelephonyRequest`] and waits for the answer on a oneshot.

use serde::Serialize;
use switchboard_core::acd::AgentState;
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
        reply: oneshot::Sender<Result<AgentState, String>>,
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
    /// Click-to-call: ring the agent's phone, then the customer.
    Dial {
        /// The agent placing the call (the logged-in user).
        user_id: String,
        /// The customer's number, E.164.
        e164: String,
        /// The call's id, or why not.
        reply: oneshot::Sender<Result<String, String>>,
    },
}

/// The sending end the API holds.
pub type TelephonyHandle = mpsc::UnboundedSender<TelephonyRequest>;
