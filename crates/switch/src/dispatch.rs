//! Where the switch asks who takes a call: agent state and ACD decisions behind one interface.
//!
//! One node keeps them in memory ([`CallCenter`], the core's pure ACD). Several nodes sharing
//! one PostgreSQL (see docs/ARCHITECTURE.md, "A second node") would plug in here as another
//! [`Dispatcher`] without the switch changing: its inputs and actions are the same; what
//! differs is that an agent must be claimed in the database before they are rung, and that
//! other nodes' agent changes arrive as inputs. Both fit the switch's one rule (it never
//! awaits on the signalling path): a claim is an effect the switch runs beside itself, whose
//! answer comes back as an input, like a client card.

use switchboard_core::acd::{AcdError, Action, AgentState, CallCenter, Input, QueueConfig};
use switchboard_core::{CallId, EpochMs};

/// Agent state and routing decisions, fed with the time (no clock, no I/O of its own).
pub trait Dispatcher: Send {
    /// Applies one input at `now` and returns what to do.
    fn handle(&mut self, input: Input, now: EpochMs) -> Result<Vec<Action>, AcdError>;
    /// Fires the timeouts due at `now` (ring timeouts, maximum waits, wrap-ups).
    fn tick(&mut self, now: EpochMs) -> Vec<Action>;
    /// When [`Dispatcher::tick`] next has something to do.
    fn next_deadline(&self) -> Option<EpochMs>;
    /// An agent's state (offline when unknown).
    fn agent_state(&self, agent_id: &str) -> AgentState;
    /// The calls waiting in a queue, oldest first, with when each arrived.
    fn waiting(&self, queue_id: &str) -> Vec<(CallId, EpochMs)>;
    /// Adds or changes a queue's rules.
    fn set_queue(&mut self, queue: QueueConfig);
    /// An agent's skills and their levels.
    fn set_skills(&mut self, agent_id: &str, skills: switchboard_core::acd::Skills);
}

impl Dispatcher for CallCenter {
    fn handle(&mut self, input: Input, now: EpochMs) -> Result<Vec<Action>, AcdError> {
        CallCenter::handle(self, input, now)
    }

    fn tick(&mut self, now: EpochMs) -> Vec<Action> {
        CallCenter::tick(self, now)
    }

    fn next_deadline(&self) -> Option<EpochMs> {
        CallCenter::next_deadline(self)
    }

    fn agent_state(&self, agent_id: &str) -> AgentState {
        CallCenter::agent_state(self, agent_id)
    }

    fn waiting(&self, queue_id: &str) -> Vec<(CallId, EpochMs)> {
        CallCenter::waiting(self, queue_id)
    }

    fn set_queue(&mut self, queue: QueueConfig) {
        CallCenter::set_queue(self, queue)
    }

    fn set_skills(&mut self, agent_id: &str, skills: switchboard_core::acd::Skills) {
        CallCenter::set_skills(self, agent_id, skills)
    }
}
