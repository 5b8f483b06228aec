//! The call-center core: queues, agents and routing, without I/O.
//!
//! [`CallCenter::handle`] takes an [`Input`] and the current time and returns the
//! [`Action`]s the adapters must carry out (ring this agent, stop ringing that one, connect,
//! release the caller). [`CallCenter::next_deadline`] says when to call [`CallCenter::tick`]
//! next, so ring timeouts, maximum waits and wrap-ups are tested by passing times, never by
//! sleeping. SIP phones and browsers are the same to it: an agent is an id.

mod agent;
mod skills;

use std::collections::{BTreeMap, HashMap, HashSet};

pub use agent::{AgentEvent, AgentState, IllegalTransition};
pub use skills::{MAX_LEVEL, Skills, check_skills, fit, qualified};

use crate::EpochMs;
use crate::id::{AgentId, CallId, QueueId};

/// How a queue picks agents for a waiting call.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The available agent idle the longest.
    #[default]
    LongestIdle,
    /// The available agent with the most of the queue's skills (the sum of their levels in
    /// them); of equals, the one idle the longest.
    Skills,
    /// Every available agent at once; the first to answer takes it.
    RingAll,
    /// Agents in turn, continuing after the last one offered.
    RoundRobin,
}

impl Strategy {
    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest_idle",
            Strategy::Skills => "skills",
            Strategy::RingAll => "ring_all",
            Strategy::RoundRobin => "round_robin",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = crate::entity::UnknownValue;

    fn from_str(s: &str) -> Result<Strategy, Self::Err> {
        match s {
            "longest_idle" => Ok(Strategy::LongestIdle),
            "skills" => Ok(Strategy::Skills),
            "ring_all" => Ok(Strategy::RingAll),
            "round_robin" => Ok(Strategy::RoundRobin),
            other => Err(crate::entity::UnknownValue {
                value: other.to_owned(),
                expected: &["longest_idle", "skills", "ring_all", "round_robin"],
            }),
        }
    }
}

/// A queue's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Queue id.
    pub id: QueueId,
    /// Routing.
    pub strategy: Strategy,
    /// How long one agent rings before the next is tried.
    pub ring_timeout_ms: i64,
    /// How long a caller may wait before being released (the call counts as missed).
    pub max_wait_ms: i64,
    /// After-call work time.
    pub wrap_up_ms: i64,
    /// Skills an agent needs, each at least at its level, to be offered the queue's calls
    /// (none: every agent of the queue).
    pub skills: Skills,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An agent logs in to these queues.
    AgentLogin {
        /// Agent.
        agent_id: AgentId,
        /// Queues they serve.
        queues: Vec<QueueId>,
    },
    /// An agent logs out.
    AgentLogout {
        /// Agent.
        agent_id: AgentId,
    },
    /// An agent pauses.
    AgentPause {
        /// Agent.
        agent_id: AgentId,
        /// Why.
        reason: String,
    },
    /// An agent unpauses.
    AgentUnpause {
        /// Agent.
        agent_id: AgentId,
    },
    /// An agent finishes wrap-up early.
    WrapUpDone {
        /// Agent.
        agent_id: AgentId,
    },
    /// A call enters a queue.
    CallArrived {
        /// Call.
        call_id: CallId,
        /// Queue.
        queue_id: QueueId,
        /// Calls of a higher priority are offered first (0: ordinary; a VIP caller: more).
        priority: i64,
        /// An agent offered the call alone until then (the caller's responsible manager):
        /// if they are not free or let it ring out, the queue's agents get it.
        preferred: Option<(AgentId, EpochMs)>,
    },
    /// An agent answered an offered call.
    Answered {
        /// Call.
        call_id: CallId,
        /// Agent.
        agent_id: AgentId,
    },
    /// An agent's phone refused the offer (busy, declined).
    Rejected {
        /// Call.
        call_id: CallId,
        /// Agent.
        agent_id: AgentId,
    },
    /// The caller hung up before being connected.
    CallerHungUp {
        /// Call.
        call_id: CallId,
    },
    /// The call waits without its caller (they asked to be called back): the queue's maximum
    /// wait no longer ends it; its place stays.
    WaitsWithoutCaller {
        /// Call.
        call_id: CallId,
    },
    /// A connected call ended (either side hung up).
    CallEnded {
        /// Call.
        call_id: CallId,
    },
    /// A logged-in agent places a call (click-to-call): not offered queue calls meanwhile.
    Dialing {
        /// Agent.
        agent_id: AgentId,
        /// The outbound call.
        call_id: CallId,
    },
    /// The agent's outbound call ended (connected or not); no wrap-up.
    OutboundEnded {
        /// Agent.
        agent_id: AgentId,
    },
    /// Blind transfer: the agent talking with the caller hands the call to a queue or to one
    /// agent (who must be available). The caller waits again; the agent's call ends.
    Transfer {
        /// Call.
        call_id: CallId,
        /// The agent handing it over.
        agent_id: AgentId,
        /// Where to.
        to: TransferTo,
    },
}

/// Where a transferred call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    /// Into a queue, routed by its strategy.
    Queue(QueueId),
    /// To one agent; if they do not answer, to the call's queue.
    Agent(AgentId),
    /// Out of the call center (a phone number): the call leaves the queues.
    External,
}

/// Why an offer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferEnd {
    /// Rang for the ring timeout.
    NoAnswer,
    /// Another agent answered (ring-all).
    TakenByOther,
    /// The caller hung up or was released.
    CallGone,
}

/// What the adapters must do, and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring this agent with this call.
    Offer {
        /// Call.
        call_id: CallId,
        /// Agent.
        agent_id: AgentId,
    },
    /// Stop ringing this agent.
    CancelOffer {
        /// Call.
        call_id: CallId,
        /// Agent.
        agent_id: AgentId,
        /// Why.
        reason: OfferEnd,
    },
    /// Bridge the caller to the agent who answered.
    Connect {
        /// Call.
        call_id: CallId,
        /// Agent.
        agent_id: AgentId,
    },
    /// Hang up on the caller: waited the maximum time (a missed call).
    ReleaseMaxWait {
        /// Call.
        call_id: CallId,
    },
    /// The caller hung up while waiting (an abandoned call).
    Abandoned {
        /// Call.
        call_id: CallId,
    },
    /// Take the caller off the agent who transferred it; the caller waits (hearing nothing)
    /// for the next connect.
    Transferred {
        /// Call.
        call_id: CallId,
        /// The agent who handed it over.
        agent_id: AgentId,
    },
    /// An agent's state changed.
    AgentChanged {
        /// Agent.
        agent_id: AgentId,
        /// New state.
        state: AgentState,
    },
}

/// An input that does not fit the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    /// No such queue.
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    /// No such agent (never logged in).
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    /// No such call in the core.
    #[error("unknown call {0}")]
    UnknownCall(CallId),
    /// A call id already in use.
    #[error("call {0} is already queued")]
    DuplicateCall(CallId),
    /// The agent was not being offered that call.
    #[error("agent {agent_id} was not offered call {call_id}")]
    NotOffered {
        /// Agent.
        agent_id: AgentId,
        /// Call.
        call_id: CallId,
    },
    /// The agent is not talking on that call.
    #[error("agent {agent_id} is not connected to call {call_id}")]
    NotConnected {
        /// Agent.
        agent_id: AgentId,
        /// Call.
        call_id: CallId,
    },
    /// The transfer target cannot take a call now.
    #[error("agent {0} is not available")]
    NotAvailable(AgentId),
    /// The agent's state does not allow it.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
}

#[derive(Debug)]
struct Agent {
    state: AgentState,
    queues: Vec<QueueId>,
    skills: Skills,
}

#[derive(Debug)]
struct WaitingCall {
    queue_id: QueueId,
    arrived_at: EpochMs,
    /// Agents ringing now, with when each offer started.
    offers: BTreeMap<AgentId, EpochMs>,
    /// Agents who did not answer this call; tried again only when nobody else is free.
    tried: HashSet<AgentId>,
    connected_to: Option<AgentId>,
    /// A call transferred to one agent is offered to them only (until they let it ring out).
    only_agent: Option<AgentId>,
    /// The maximum wait counts from here (the arrival, or the transfer).
    waiting_since: EpochMs,
    /// Offered before calls of a lower priority.
    priority: i64,
    /// Offered to this agent alone until then.
    preferred: Option<(AgentId, EpochMs)>,
    /// Its caller is gone and will be called back: no maximum wait.
    without_caller: bool,
}

impl WaitingCall {
    /// The agent the call is kept for at `now`, if any: until the time is up or they let it
    /// ring out.
    fn kept_for(&self, now: EpochMs) -> Option<&AgentId> {
        match &self.preferred {
            Some((agent, until)) if now < *until && !self.tried.contains(agent) => Some(agent),
            _ => None,
        }
    }
}

/// Queues, agents and the calls waiting or talking.
#[derive(Debug, Default)]
pub struct CallCenter {
    queues: HashMap<QueueId, QueueConfig>,
    agents: BTreeMap<AgentId, Agent>,
    calls: BTreeMap<CallId, WaitingCall>,
    round_robin_last: HashMap<QueueId, AgentId>,
}

impl CallCenter {
    /// An empty call center.
    pub fn new() -> CallCenter {
        CallCenter::default()
    }

    /// Adds or replaces a queue's rules.
    pub fn set_queue(&mut self, queue: QueueConfig) {
        self.queues.insert(queue.id.clone(), queue);
    }

    /// An agent's skills (kept across logins; an agent not seen yet is remembered).
    pub fn set_skills(&mut self, agent_id: &str, skills: Skills) {
        let agent = self.agents.entry(agent_id.into()).or_insert(Agent {
            state: AgentState::Offline,
            queues: Vec::new(),
            skills: Skills::new(),
        });
        agent.skills = skills;
    }

    /// An agent's current state (`Offline` if unknown).
    pub fn agent_state(&self, agent_id: &str) -> AgentState {
        self.agents.get(agent_id).map_or(AgentState::Offline, |a| a.state.clone())
    }

    /// Calls waiting (not yet connected) in a queue, oldest first, with their arrival times.
    pub fn waiting(&self, queue_id: &str) -> Vec<(CallId, EpochMs)> {
        let mut calls: Vec<(i64, CallId, EpochMs)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.queue_id == queue_id && c.connected_to.is_none())
            .map(|(id, c)| (c.priority, id.clone(), c.arrived_at))
            .collect();
        // In the order they are offered: higher priority first, then the oldest.
        calls.sort_by_key(|(priority, id, at)| (std::cmp::Reverse(*priority), *at, id.clone()));
        calls.into_iter().map(|(_, id, at)| (id, at)).collect()
    }

    /// Applies one input at `now`.
    pub fn handle(&mut self, input: Input, now: EpochMs) -> Result<Vec<Action>, AcdError> {
        let mut out = Vec::new();
        match input {
            Input::AgentLogin { agent_id, queues } => {
                for q in &queues {
                    if !self.queues.contains_key(q) {
                        return Err(AcdError::UnknownQueue(q.clone()));
                    }
                }
                let agent = self.agents.entry(agent_id.clone()).or_insert(Agent {
                    state: AgentState::Offline,
                    queues: Vec::new(),
                    skills: Skills::new(),
                });
                agent.queues = queues;
                self.move_agent(&agent_id, &AgentEvent::Login, now, &mut out)?;
            }
            Input::AgentLogout { agent_id } => {
                self.move_agent(&agent_id, &AgentEvent::Logout, now, &mut out)?
            }
            Input::AgentPause { agent_id, reason } => {
                self.move_agent(&agent_id, &AgentEvent::Pause { reason }, now, &mut out)?
            }
            Input::AgentUnpause { agent_id } => {
                self.move_agent(&agent_id, &AgentEvent::Unpause, now, &mut out)?
            }
            Input::WrapUpDone { agent_id } => {
                self.move_agent(&agent_id, &AgentEvent::WrapUpDone, now, &mut out)?
            }
            Input::CallArrived { call_id, queue_id, priority, preferred } => {
                if !self.queues.contains_key(&queue_id) {
                    return Err(AcdError::UnknownQueue(queue_id));
                }
                if self.calls.contains_key(&call_id) {
                    return Err(AcdError::DuplicateCall(call_id));
                }
                self.calls.insert(
                    call_id,
                    WaitingCall {
                        queue_id,
                        arrived_at: now,
                        offers: BTreeMap::new(),
                        tried: HashSet::new(),
                        connected_to: None,
                        only_agent: None,
                        waiting_since: now,
                        priority,
                        preferred,
                        without_caller: false,
                    },
                );
            }
            Input::Answered { call_id, agent_id } => {
                let call = self
                    .calls
                    .get_mut(&call_id)
                    .ok_or_else(|| AcdError::UnknownCall(call_id.clone()))?;
                if call.offers.remove(&agent_id).is_none() {
                    return Err(AcdError::NotOffered { agent_id, call_id });
                }
                call.connected_to = Some(agent_id.clone());
                let others: Vec<AgentId> = std::mem::take(&mut call.offers).into_keys().collect();
                self.move_agent(&agent_id, &AgentEvent::Answer, now, &mut out)?;
                out.push(Action::Connect { call_id: call_id.clone(), agent_id });
                for other in others {
                    self.end_offer(&call_id, &other, OfferEnd::TakenByOther, now, &mut out)?;
                }
            }
            Input::Rejected { call_id, agent_id } => {
                let call = self
                    .calls
                    .get_mut(&call_id)
                    .ok_or_else(|| AcdError::UnknownCall(call_id.clone()))?;
                if call.offers.remove(&agent_id).is_none() {
                    return Err(AcdError::NotOffered { agent_id, call_id });
                }
                call.tried.insert(agent_id.clone());
                call.only_agent = None;
                self.move_agent(&agent_id, &AgentEvent::OfferEnded, now, &mut out)?;
            }
            Input::Transfer { call_id, agent_id, to } => {
                self.transfer(&call_id, &agent_id, to, now, &mut out)?
            }
            Input::CallerHungUp { call_id } => {
                let call = self
                    .calls
                    .remove(&call_id)
                    .ok_or_else(|| AcdError::UnknownCall(call_id.clone()))?;
                if let Some(agent_id) = call.connected_to {
                    // Hung up after being connected: an ordinary end of call.
                    let wrap_up_ms = self.queues.get(&call.queue_id).map_or(0, |q| q.wrap_up_ms);
                    self.move_agent(
                        &agent_id,
                        &AgentEvent::CallEnded { wrap_up_ms },
                        now,
                        &mut out,
                    )?;
                } else {
                    for agent_id in call.offers.keys() {
                        out.push(Action::CancelOffer {
                            call_id: call_id.clone(),
                            agent_id: agent_id.clone(),
                            reason: OfferEnd::CallGone,
                        });
                        self.move_agent(agent_id, &AgentEvent::OfferEnded, now, &mut out)?;
                    }
                    out.push(Action::Abandoned { call_id });
                }
            }
            Input::Dialing { agent_id, call_id } => {
                self.move_agent(&agent_id, &AgentEvent::Dial { call_id }, now, &mut out)?
            }
            Input::OutboundEnded { agent_id } => {
                if matches!(self.agent_state(&agent_id), AgentState::OnCall { .. }) {
                    self.move_agent(
                        &agent_id,
                        &AgentEvent::CallEnded { wrap_up_ms: 0 },
                        now,
                        &mut out,
                    )?;
                }
            }
            Input::WaitsWithoutCaller { call_id } => {
                let call =
                    self.calls.get_mut(&call_id).ok_or(AcdError::UnknownCall(call_id.clone()))?;
                call.without_caller = true;
            }
            Input::CallEnded { call_id } => {
                let call = self
                    .calls
                    .remove(&call_id)
                    .ok_or_else(|| AcdError::UnknownCall(call_id.clone()))?;
                let agent_id =
                    call.connected_to.ok_or_else(|| AcdError::UnknownCall(call_id.clone()))?;
                let wrap_up_ms = self.queues.get(&call.queue_id).map_or(0, |q| q.wrap_up_ms);
                self.move_agent(&agent_id, &AgentEvent::CallEnded { wrap_up_ms }, now, &mut out)?;
            }
        }
        self.expire(now, &mut out)?;
        self.dispatch(now, &mut out)?;
        Ok(out)
    }

    /// Fires every timeout due at `now` (ring timeouts, maximum waits, wrap-ups) and routes
    /// what that freed.
    pub fn tick(&mut self, now: EpochMs) -> Vec<Action> {
        let mut out = Vec::new();
        // Both steps only move agents along transitions valid from the states they check.
        let _ = self.expire(now, &mut out);
        let _ = self.dispatch(now, &mut out);
        out
    }

    /// When [`CallCenter::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<EpochMs> {
        let calls = self.calls.values().filter(|c| c.connected_to.is_none()).flat_map(|c| {
            let queue = self.queues.get(&c.queue_id);
            let max_wait =
                queue.filter(|_| !c.without_caller).map(|q| c.waiting_since + q.max_wait_ms);
            let rings =
                c.offers.values().filter_map(move |since| queue.map(|q| since + q.ring_timeout_ms));
            // A call kept for its preferred agent goes to the queue when the time is up.
            // (`expire` clears it then, so it is never due twice.)
            let kept = c.preferred.as_ref().filter(|(a, _)| !c.tried.contains(a)).map(|(_, u)| *u);
            max_wait.into_iter().chain(rings).chain(kept)
        });
        let wrap_ups = self.agents.values().filter_map(|a| match a.state {
            AgentState::WrapUp { until, .. } => Some(until),
            _ => None,
        });
        calls.chain(wrap_ups).min()
    }

    fn transfer(
        &mut self,
        call_id: &str,
        agent_id: &str,
        to: TransferTo,
        now: EpochMs,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let not_connected =
            || AcdError::NotConnected { agent_id: agent_id.into(), call_id: call_id.into() };
        let call = self.calls.get(call_id).ok_or_else(not_connected)?;
        if call.connected_to.as_deref() != Some(agent_id) {
            return Err(not_connected());
        }
        let old_queue = call.queue_id.clone();
        let wrap_up_ms = self.queues.get(&old_queue).map_or(0, |q| q.wrap_up_ms);
        if to == TransferTo::External {
            self.calls.remove(call_id);
            out.push(Action::Transferred { call_id: call_id.into(), agent_id: agent_id.into() });
            return self.move_agent(agent_id, &AgentEvent::CallEnded { wrap_up_ms }, now, out);
        }
        let (queue_id, only_agent) = match to {
            TransferTo::Queue(q) if self.queues.contains_key(&q) => (q, None),
            TransferTo::Queue(q) => return Err(AcdError::UnknownQueue(q)),
            TransferTo::Agent(a) if a == agent_id => return Err(AcdError::NotAvailable(a)),
            TransferTo::Agent(a) => match self.agents.get(&a).map(|x| &x.state) {
                Some(AgentState::Available { .. }) => (old_queue.clone(), Some(a)),
                _ => return Err(AcdError::NotAvailable(a)),
            },
            TransferTo::External => (old_queue.clone(), None),
        };
        if let Some(call) = self.calls.get_mut(call_id) {
            call.queue_id = queue_id;
            call.only_agent = only_agent;
            call.connected_to = None;
            call.tried.clear();
            call.waiting_since = now;
            call.preferred = None;
        }
        out.push(Action::Transferred { call_id: call_id.into(), agent_id: agent_id.into() });
        self.move_agent(agent_id, &AgentEvent::CallEnded { wrap_up_ms }, now, out)
    }

    fn move_agent(
        &mut self,
        agent_id: &str,
        event: &AgentEvent,
        now: EpochMs,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        let agent =
            self.agents.get_mut(agent_id).ok_or_else(|| AcdError::UnknownAgent(agent_id.into()))?;
        agent.state = agent.state.transition(event, now)?;
        out.push(Action::AgentChanged { agent_id: agent_id.into(), state: agent.state.clone() });
        Ok(())
    }

    fn end_offer(
        &mut self,
        call_id: &str,
        agent_id: &str,
        reason: OfferEnd,
        now: EpochMs,
        out: &mut Vec<Action>,
    ) -> Result<(), AcdError> {
        out.push(Action::CancelOffer {
            call_id: call_id.into(),
            agent_id: agent_id.into(),
            reason,
        });
        self.move_agent(agent_id, &AgentEvent::OfferEnded, now, out)
    }

    fn expire(&mut self, now: EpochMs, out: &mut Vec<Action>) -> Result<(), AcdError> {
        // A call kept for its preferred agent is the queue's once the time is up.
        for call in self.calls.values_mut() {
            if call.preferred.as_ref().is_some_and(|(_, until)| now >= *until) {
                call.preferred = None;
            }
        }
        let mut released = Vec::new();
        let mut unanswered = Vec::new();
        for (call_id, call) in &self.calls {
            let Some(queue) = self.queues.get(&call.queue_id) else { continue };
            if call.connected_to.is_some() {
                continue;
            }
            if !call.without_caller && now >= call.waiting_since + queue.max_wait_ms {
                released.push(call_id.clone());
            } else {
                for (agent_id, since) in &call.offers {
                    if now >= since + queue.ring_timeout_ms {
                        unanswered.push((call_id.clone(), agent_id.clone()));
                    }
                }
            }
        }
        for (call_id, agent_id) in unanswered {
            if let Some(call) = self.calls.get_mut(&call_id) {
                call.offers.remove(&agent_id);
                call.tried.insert(agent_id.clone());
                call.only_agent = None;
            }
            self.end_offer(&call_id, &agent_id, OfferEnd::NoAnswer, now, out)?;
        }
        for call_id in released {
            if let Some(call) = self.calls.remove(&call_id) {
                for agent_id in call.offers.keys() {
                    self.end_offer(&call_id, agent_id, OfferEnd::CallGone, now, out)?;
                }
                out.push(Action::ReleaseMaxWait { call_id });
            }
        }
        let done: Vec<AgentId> = self
            .agents
            .iter()
            .filter(|(_, a)| matches!(a.state, AgentState::WrapUp { until, .. } if now >= until))
            .map(|(id, _)| id.clone())
            .collect();
        for agent_id in done {
            self.move_agent(&agent_id, &AgentEvent::WrapUpDone, now, out)?;
        }
        Ok(())
    }

    /// Offers waiting calls (oldest first) to free agents by each queue's strategy.
    fn dispatch(&mut self, now: EpochMs, out: &mut Vec<Action>) -> Result<(), AcdError> {
        // Higher priority first, then the oldest.
        let mut waiting: Vec<(std::cmp::Reverse<i64>, EpochMs, CallId)> = self
            .calls
            .iter()
            .filter(|(_, c)| c.connected_to.is_none())
            .map(|(id, c)| (std::cmp::Reverse(c.priority), c.arrived_at, id.clone()))
            .collect();
        waiting.sort();
        for (_, _, call_id) in waiting {
            let Some(call) = self.calls.get(&call_id) else { continue };
            let Some(queue) = self.queues.get(&call.queue_id).cloned() else { continue };
            if queue.strategy != Strategy::RingAll && !call.offers.is_empty() {
                continue;
            }
            // A call for one agent (a transfer, the owner first) goes to them whatever their
            // skills; otherwise to the queue's agents with the skills it needs.
            let mut free: Vec<(&AgentId, EpochMs, u32)> = self
                .agents
                .iter()
                .filter(|(id, a)| match (&call.only_agent, call.kept_for(now)) {
                    (Some(only), _) | (None, Some(only)) => *id == only,
                    (None, None) => {
                        a.queues.contains(&queue.id) && qualified(&a.skills, &queue.skills)
                    }
                })
                .filter_map(|(id, a)| match a.state {
                    AgentState::Available { since } => {
                        Some((id, since, fit(&a.skills, &queue.skills)))
                    }
                    _ => None,
                })
                .collect();
            if free.iter().all(|(id, _, _)| call.tried.contains(*id)) {
                // Everyone free has already let it ring: go round again rather than leave
                // the caller waiting for someone new.
            } else {
                free.retain(|(id, _, _)| !call.tried.contains(*id));
            }
            let chosen: Vec<AgentId> = match queue.strategy {
                Strategy::RingAll => free.iter().map(|(id, _, _)| (*id).clone()).collect(),
                Strategy::LongestIdle => free
                    .iter()
                    .min_by_key(|(id, since, _)| (*since, (*id).clone()))
                    .map(|(id, _, _)| (*id).clone())
                    .into_iter()
                    .collect(),
                Strategy::Skills => free
                    .iter()
                    .min_by_key(|(id, since, fit)| (std::cmp::Reverse(*fit), *since, (*id).clone()))
                    .map(|(id, _, _)| (*id).clone())
                    .into_iter()
                    .collect(),
                Strategy::RoundRobin => {
                    let last = self.round_robin_last.get(&queue.id);
                    let mut ids: Vec<&AgentId> = free.iter().map(|(id, _, _)| *id).collect();
                    ids.sort();
                    let next = match last {
                        Some(last) => ids
                            .iter()
                            .find(|id| id.as_str() > last.as_str())
                            .or_else(|| ids.first()),
                        None => ids.first(),
                    };
                    next.map(|id| (*id).clone()).into_iter().collect()
                }
            };
            for agent_id in chosen {
                if queue.strategy == Strategy::RoundRobin {
                    self.round_robin_last.insert(queue.id.clone(), agent_id.clone());
                }
                if let Some(call) = self.calls.get_mut(&call_id) {
                    call.offers.insert(agent_id.clone(), now);
                }
                self.move_agent(
                    &agent_id,
                    &AgentEvent::Offer { call_id: call_id.clone() },
                    now,
                    out,
                )?;
                out.push(Action::Offer { call_id: call_id.clone(), agent_id });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
