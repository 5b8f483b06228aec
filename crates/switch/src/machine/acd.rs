//! The ACD's side of the machine: its actions turned into effects, the answers to ringing and
//! bridging, agents' changes of state, and click-to-call.

use serde_json::json;
use switchboard_core::acd::{AcdError, Action, AgentState, Input, OfferEnd};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::entity::CallDirection;
use switchboard_core::{AgentId, CallId, EpochMs};
use switchboard_store::{MissedCall, NewCall};
use tracing::{debug, warn};

use super::{Call, CallMachine, Effect, Endpoint, Reach, ended, event};
use crate::calllog::Write;
use crate::protocol::{AgentMessage, AgentTarget, SwitchError, WithdrawReason};

/// Pause reason while a browser agent's console or softphone connection is down.
pub(crate) const CONNECTION_LOST: &str = "connection_lost";

impl CallMachine {
    /// Feeds the ACD an input whose refusal only means the call or agent moved on.
    pub(super) fn acd_input(&mut self, input: Input, now: EpochMs, out: &mut Vec<Effect>) {
        if let Err(e) = self.acd_try(input, now, out) {
            debug!(error = %e, "the ACD did not take an input");
        }
    }

    /// Feeds the ACD an input and turns its actions into effects.
    pub(super) fn acd_try(
        &mut self,
        input: Input,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) -> Result<(), AcdError> {
        let actions = self.acd.handle(input, now)?;
        self.apply(actions, now, out);
        Ok(())
    }

    /// Turns the ACD's actions into effects.
    pub(super) fn apply(&mut self, actions: Vec<Action>, now: EpochMs, out: &mut Vec<Effect>) {
        for action in actions {
            match action {
                Action::Offer { call_id, agent_id } if self.is_virtual(&call_id) => {
                    self.callback_offered(call_id, agent_id, now, out)
                }
                Action::Connect { call_id, agent_id } if self.is_virtual(&call_id) => {
                    self.callback_dial(call_id, agent_id, now, out)
                }
                Action::ReleaseMaxWait { call_id } if self.is_virtual(&call_id) => {
                    // Its callback task stays open for the agents to call by hand.
                    self.remove(&call_id, out);
                    let result = "the queue's maximum wait passed before the callback".to_owned();
                    out.push(Effect::Log(Write::CallbackResult {
                        call_id: call_id.to_string(),
                        done: false,
                        result,
                    }));
                }
                Action::Offer { call_id, agent_id } => match self.endpoints.get(&agent_id) {
                    Some(endpoint) => {
                        out.push(Effect::Ring { call_id, agent_id, endpoint: endpoint.clone() })
                    }
                    None => {
                        let result = Err("the agent has no phone".to_owned());
                        self.rung(call_id, agent_id, result, now, out);
                    }
                },
                Action::CancelOffer { call_id, agent_id, reason } => {
                    out.push(Effect::CancelRing {
                        call_id: call_id.clone(),
                        leg: agent_id.to_string(),
                    });
                    let (kind, why) = match reason {
                        OfferEnd::NoAnswer => (Kind::NoAnswer, WithdrawReason::NoAnswer),
                        OfferEnd::TakenByOther => {
                            (Kind::TakenByOther, WithdrawReason::TakenByOther)
                        }
                        OfferEnd::CallGone => (Kind::OfferWithdrawn, WithdrawReason::CallerGone),
                    };
                    if let Some(call) = self.calls.get_mut(&call_id) {
                        call.ringing.remove(&agent_id);
                    }
                    // Browser or desk phone: an open console took the card and is told it is
                    // gone.
                    let message =
                        AgentMessage::Withdrawn { call_id: call_id.to_string(), reason: why };
                    out.push(Effect::Tell { agent_id: agent_id.clone(), message });
                    out.push(event(&call_id, kind, Some(&agent_id), json!({}), now));
                }
                Action::Connect { call_id, agent_id } => {
                    let browser = self.endpoints.get(&agent_id) == Some(&Endpoint::Browser);
                    out.push(Effect::Connect { call_id, agent_id, browser });
                }
                Action::ReleaseMaxWait { call_id } => {
                    out.push(Effect::Release { call_id: call_id.clone(), code: 480 });
                    let call = self.remove(&call_id, out);
                    out.push(ended(&call_id, now, EndReason::MaxWait, 0));
                    missed(&call_id, call, EndReason::MaxWait, now, out);
                }
                Action::Abandoned { call_id } => {
                    let call = self.remove(&call_id, out);
                    // A caller who hangs up while being transferred had been answered.
                    if call.as_ref().is_some_and(|c| c.transferred) {
                        out.push(ended(&call_id, now, EndReason::CallerHangup, 0));
                    } else {
                        out.push(ended(&call_id, now, EndReason::Abandoned, 0));
                        missed(&call_id, call, EndReason::Abandoned, now, out);
                    }
                }
                Action::Transferred { call_id, agent_id } => {
                    out.push(Effect::Park { call_id: call_id.clone(), agent_id: agent_id.clone() });
                    if let Some(call) = self.calls.get_mut(&call_id) {
                        call.agent = None;
                        call.transferred = true;
                    }
                    let message =
                        AgentMessage::Ended { call_id: call_id.into_string(), by: "transfer" };
                    out.push(Effect::Tell { agent_id, message });
                }
                Action::AgentChanged { agent_id, state } => {
                    self.agent_changed(agent_id, state, now, out)
                }
            }
        }
    }

    fn agent_changed(
        &mut self,
        agent_id: AgentId,
        state: AgentState,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        debug!(%agent_id, state = state.name(), "agent state");
        let reason = match &state {
            AgentState::Paused { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        out.push(Effect::Log(Write::AgentState {
            agent_id: agent_id.to_string(),
            state: state.name(),
            reason,
            at: now,
        }));
        if let AgentState::WrapUp { call_id, since, .. } = &state {
            self.wrapups.insert(agent_id.clone(), (call_id.clone(), *since));
        } else if let Some((call_id, since)) = self.wrapups.remove(&agent_id) {
            out.push(Effect::Log(Write::WrapUp {
                call_id: call_id.into_string(),
                ms: now - since,
            }));
        }
        out.push(Effect::Tell { agent_id, message: AgentMessage::State { state } });
    }

    /// An agent's phone or browser rang, or could not be rung.
    pub(super) fn rung(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        result: Result<(), String>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        match result {
            Ok(()) => {
                let desk_phone = self.endpoints.get(&agent_id) != Some(&Endpoint::Browser);
                let (from, card) = match self.calls.get_mut(&call_id) {
                    Some(call) => {
                        call.ringing.insert(agent_id.clone());
                        (call.from.clone(), call.card.clone())
                    }
                    None => (String::new(), None),
                };
                let message =
                    AgentMessage::Ringing { call_id: call_id.to_string(), from, card, desk_phone };
                out.push(Effect::Tell { agent_id: agent_id.clone(), message });
                out.push(event(&call_id, Kind::Offer, Some(&agent_id), json!({}), now));
            }
            Err(e) => {
                warn!(%call_id, %agent_id, error = %e, "cannot ring the agent");
                out.push(event(
                    &call_id,
                    Kind::Rejected,
                    Some(&agent_id),
                    json!({"error": e}),
                    now,
                ));
                let key = (call_id.clone(), agent_id.clone());
                if self.failed_offers.insert(key, now) != Some(now) {
                    self.acd_input(Input::Rejected { call_id, agent_id }, now, out);
                }
            }
        }
    }

    /// The caller was bridged to the agent, or could not be.
    pub(super) fn bridged(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        result: Result<(), String>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if let Err(e) = result {
            warn!(%call_id, %agent_id, error = %e, "cannot connect");
            out.push(Effect::Release { call_id: call_id.clone(), code: 500 });
            self.remove(&call_id, out);
            out.push(ended(&call_id, now, EndReason::Failed, 0));
            self.acd_input(Input::CallEnded { call_id }, now, out);
            return;
        }
        let Some(call) = self.calls.get_mut(&call_id) else {
            let message =
                AgentMessage::Connected { call_id: call_id.into_string(), from: String::new() };
            out.push(Effect::Tell { agent_id, message });
            return;
        };
        call.ringing.remove(&agent_id);
        call.agent = Some(agent_id.clone());
        let message =
            AgentMessage::Connected { call_id: call_id.to_string(), from: call.from.clone() };
        out.push(Effect::Tell { agent_id: agent_id.clone(), message });
        let (call_id, agent_id) = (call_id.into_string(), agent_id.into_string());
        call.announce_at = None;
        if let (Some(queue), Some(since), false) = (&call.queue, call.queued_at, call.transferred) {
            let wait = now - since;
            let typical = self.typical_wait.entry(queue.clone()).or_insert(wait);
            *typical = (*typical * 3 + wait) / 4;
        }
        if call.transferred {
            out.push(Effect::Log(Write::TransferredTo { call_id, agent_id, at: now }));
        } else {
            out.push(Effect::Log(Write::Answered { call_id: call_id.clone(), agent_id, at: now }));
            if call.record {
                out.push(Effect::StartRecording { call_id: call_id.into() });
            }
        }
    }

    /// An agent's change of state, with the check that a browser agent has a live softphone
    /// (the gateway checks, not the page: a stale connection once made agents available who
    /// could not answer).
    pub(super) fn set_state(
        &mut self,
        agent_id: &AgentId,
        target: AgentTarget,
        reach: Reach,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) -> Result<(), SwitchError> {
        let current = self.acd.agent_state(agent_id);
        if matches!(target, AgentTarget::Available)
            && self.endpoints.get(agent_id) == Some(&Endpoint::Browser)
            && !reach.browser_ready
        {
            return Err(SwitchError::SoftphoneNotConnected);
        }
        let agent = agent_id.clone();
        let input = match (&current, target) {
            (AgentState::Offline, AgentTarget::Available) => {
                // The browser's softphone when it is connected, else the agent's SIP phone.
                let endpoint = match (reach.browser_ready, reach.phone) {
                    (true, _) => Endpoint::Browser,
                    (false, Some(phone)) => Endpoint::Sip(phone),
                    (false, None) if reach.console_open => {
                        return Err(SwitchError::SoftphoneNotConnected);
                    }
                    (false, None) => return Err(SwitchError::NoPhone),
                };
                if reach.queues.is_empty() {
                    return Err(SwitchError::NoQueues);
                }
                self.endpoints.insert(agent.clone(), endpoint);
                self.acd.set_skills(&agent, reach.skills);
                Some(Input::AgentLogin { agent_id: agent, queues: reach.queues })
            }
            (AgentState::Paused { .. }, AgentTarget::Available) => {
                Some(Input::AgentUnpause { agent_id: agent })
            }
            (AgentState::WrapUp { .. }, AgentTarget::Available) => {
                Some(Input::WrapUpDone { agent_id: agent })
            }
            (
                AgentState::Available { .. }
                | AgentState::Ringing { .. }
                | AgentState::OnCall { .. },
                AgentTarget::Available,
            ) => None,
            (_, AgentTarget::Paused(reason)) => Some(Input::AgentPause { agent_id: agent, reason }),
            (AgentState::Offline, AgentTarget::Offline) => None,
            (_, AgentTarget::Offline) => Some(Input::AgentLogout { agent_id: agent }),
        };
        if let Some(input) = input {
            self.acd_try(input, now, out).map_err(|e| SwitchError::NotNow(e.to_string()))?;
        }
        Ok(())
    }

    /// A browser agent whose console or softphone is gone is paused (a ringing offer is
    /// refused first) so that calls go to someone who can take them.
    pub(super) fn browser_down(&mut self, agent_id: &AgentId, now: EpochMs, out: &mut Vec<Effect>) {
        if self.endpoints.get(agent_id) != Some(&Endpoint::Browser) {
            return;
        }
        let pause =
            Input::AgentPause { agent_id: agent_id.clone(), reason: CONNECTION_LOST.into() };
        let inputs = match self.acd.agent_state(agent_id) {
            AgentState::Ringing { call_id, .. } => {
                vec![Input::Rejected { call_id, agent_id: agent_id.clone() }, pause]
            }
            AgentState::Available { .. } | AgentState::WrapUp { .. } => vec![pause],
            _ => Vec::new(),
        };
        for input in inputs {
            self.acd_input(input, now, out);
        }
    }

    /// A browser agent paused because their browser was unreachable takes calls again once
    /// both the console and the softphone are back.
    pub(super) fn browser_up(&mut self, agent_id: &AgentId, now: EpochMs, out: &mut Vec<Effect>) {
        if self.endpoints.get(agent_id) != Some(&Endpoint::Browser) {
            return;
        }
        if let AgentState::Paused { reason, .. } = self.acd.agent_state(agent_id)
            && reason == CONNECTION_LOST
        {
            self.acd_input(Input::AgentUnpause { agent_id: agent_id.clone() }, now, out);
        }
    }

    /// Click-to-call: logs the call, marks the agent busy (when logged in), and rings the
    /// agent's phone or puts the call on their softphone.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dial(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        e164: String,
        endpoint: Endpoint,
        caller_id: String,
        task_id: Option<String>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) -> Result<(), SwitchError> {
        if !matches!(self.acd.agent_state(&agent_id), AgentState::Offline) {
            let input = Input::Dialing { agent_id: agent_id.clone(), call_id: call_id.clone() };
            self.acd_try(input, now, out).map_err(|_| SwitchError::Busy)?;
        }
        out.push(Effect::Log(Write::Create(NewCall {
            direction: CallDirection::Outbound,
            from_e164: caller_id,
            to_e164: e164.clone(),
            queue_id: None,
            offered_at: now,
            id: Some(call_id.to_string()),
            origin: None,
            agent_id: Some(agent_id.to_string()),
            task_id,
        })));
        let browser = endpoint == Endpoint::Browser;
        let call = Call {
            from: e164.clone(),
            agent: browser.then(|| agent_id.clone()),
            dialer: Some(agent_id.clone()),
            record: true,
            ..Call::default()
        };
        self.calls.insert(call_id.clone(), call);
        if browser {
            out.push(Effect::BuildCard { call_id: call_id.clone(), number: e164.clone() });
        }
        out.push(Effect::Dial { call_id, agent_id, e164, endpoint });
        Ok(())
    }

    /// The click-to-call call was placed, or could not be.
    pub(super) fn dialed(
        &mut self,
        call_id: CallId,
        result: Result<(), String>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(call) = self.calls.get(&call_id) else { return };
        let Some(agent_id) = call.dialer.clone() else { return };
        if result.is_err() {
            let callback_of = call.callback_of.clone();
            self.remove(&call_id, out);
            out.push(ended(&call_id, now, EndReason::Failed, 0));
            if let Some(original) = callback_of {
                self.callback_leg_over(original, false, now, out);
            } else if !matches!(self.acd.agent_state(&agent_id), AgentState::Offline) {
                self.acd_input(Input::OutboundEnded { agent_id }, now, out);
            }
        } else if call.agent.is_some() {
            let message =
                AgentMessage::Dialing { call_id: call_id.to_string(), to: call.from.clone() };
            out.push(Effect::Tell { agent_id, message });
        } else {
            let detail = json!({"to": call.from});
            out.push(event(&call_id, Kind::DialingAgent, Some(&agent_id), detail, now));
        }
    }
}

/// A caller nobody answered: a callback task for their number.
fn missed(
    call_id: &CallId,
    call: Option<Call>,
    reason: EndReason,
    at: EpochMs,
    out: &mut Vec<Effect>,
) {
    let Some(call) = call else { return };
    if call.from.is_empty() {
        return;
    }
    out.push(Effect::Log(Write::Missed(MissedCall {
        call_id: call_id.to_string(),
        e164: call.from,
        queue_id: call.queue.map(String::from),
        at,
        reason,
        not_before: None,
    })));
}
