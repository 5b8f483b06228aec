//! What happens to a call, beyond the ACD's part: its arrival, its end however it comes, a
//! blind transfer (to a number: the leg rung, its answer, its refusal or timeout), hold,
//! click-to-call's progress, the card, pausing the recording.

use serde_json::json;
use switchboard_core::acd::{Input, TransferTo};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::entity::CallDirection;
use switchboard_core::{AgentId, CallId, EpochMs, QueueId};
use switchboard_sip::edge::{EndedBy, OutboundOutcome, Party};
use switchboard_store::NewCall;
use tracing::warn;

use super::{Call, CallMachine, Effect, NUMBER_LEG, Transfer, ended, event};
use crate::calllog::Write;
use crate::card::ClientCard;
use crate::protocol::AgentMessage;

impl CallMachine {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn arrived(
        &mut self,
        call_id: CallId,
        from: String,
        to: String,
        queue: QueueId,
        origin: String,
        record: bool,
        waiting: bool,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if let Some(closed) = self.after_hours(&queue, now) {
            // Outside the queue's hours: its after-hours flow instead of a wait.
            return self.entered(call_id, from, to, origin, closed, now, out);
        }
        out.push(inbound_logged(&call_id, &from, to, Some(&queue), origin, now));
        let call =
            Call { from: from.clone(), queue: Some(queue.clone()), record, ..Call::default() };
        self.calls.insert(call_id.clone(), call);
        out.push(Effect::BuildCard { call_id: call_id.clone(), number: from });
        self.queued(&call_id, now);
        if waiting {
            // Before the ACD rings anyone: the caller hears the sound from the first second,
            // and no 180 follows the 183.
            let sound = self.queues.get(&queue).and_then(|q| q.sound.clone());
            out.push(Effect::PlayWaiting { call_id: call_id.clone(), sound });
        }
        self.enqueue(&call_id, queue, now, out);
    }

    pub(super) fn ended(
        &mut self,
        call_id: CallId,
        by: EndedBy,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let call = self.remove(&call_id, out).unwrap_or_default();
        let hold_ms = call.hold_ms + call.hold_since.map_or(0, |s| now - s);
        let reason = match by {
            _ if call.forwarded => EndReason::Forwarded,
            EndedBy::Caller => EndReason::CallerHangup,
            EndedBy::Agent if call.external.is_some() => EndReason::TransferTargetHangup,
            EndedBy::Agent => EndReason::AgentHangup,
            EndedBy::MediaTimeout => EndReason::MediaTimeout,
        };
        if let Some(agent) = &call.agent {
            out.push(Effect::Detach { agent_id: agent.clone() });
            let by = match by {
                EndedBy::Caller => "caller",
                EndedBy::Agent => "agent",
                EndedBy::MediaTimeout => "media_timeout",
            };
            let message = AgentMessage::Ended { call_id: call_id.to_string(), by };
            out.push(Effect::Tell { agent_id: agent.clone(), message });
        }
        out.push(ended(&call_id, now, reason, hold_ms));
        if let Some(original) = call.callback_of {
            return self.callback_leg_over(original, call.reached, now, out);
        }
        if call.forwarded {
            // No queue or agent ever had it.
            return;
        }
        let input = match call.dialer {
            Some(agent_id) => Input::OutboundEnded { agent_id },
            None => Input::CallEnded { call_id },
        };
        self.acd_input(input, now, out);
    }

    /// The number refused or did not answer: the caller is released.
    pub(super) fn number_failed(
        &mut self,
        call_id: &CallId,
        code: Option<u16>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if self.forwarding(call_id) {
            return self.forward_failed(call_id, code, now, out);
        }
        if self.remove(call_id, out).is_none() {
            return;
        }
        out.push(Effect::Release { call_id: call_id.clone(), code: 480 });
        out.push(event(call_id, Kind::TransferFailed, None, json!({"sip_code": code}), now));
        out.push(ended(call_id, now, EndReason::TransferFailed, 0));
    }

    pub(super) fn outbound_failed(
        &mut self,
        call_id: CallId,
        outcome: OutboundOutcome,
        code: Option<u16>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if let Some(code) = code {
            out.push(Effect::Log(Write::SipCode {
                call_id: call_id.to_string(),
                code: i64::from(code),
            }));
        }
        out.push(ended(&call_id, now, outcome_reason(outcome), 0));
        let Some(call) = self.remove(&call_id, out) else { return };
        if let Some(agent) = call.agent {
            out.push(Effect::Detach { agent_id: agent.clone() });
            let message =
                AgentMessage::Ended { call_id: call_id.to_string(), by: outcome.as_str() };
            out.push(Effect::Tell { agent_id: agent, message });
        }
        if let Some(original) = call.callback_of {
            self.callback_leg_over(original, false, now, out);
        } else if let Some(agent_id) = call.dialer {
            self.acd_input(Input::OutboundEnded { agent_id }, now, out);
        }
    }

    pub(super) fn transfer(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        to: Transfer,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let (acd_to, detail) = match &to {
            Transfer::Agent(id) => (TransferTo::Agent(id.clone()), json!({"to_agent": id})),
            Transfer::Queue(id) => (TransferTo::Queue(id.clone()), json!({"to_queue": id})),
            Transfer::Number { e164, .. } => (TransferTo::External, json!({"to_number": e164})),
        };
        let input =
            Input::Transfer { call_id: call_id.clone(), agent_id: agent_id.clone(), to: acd_to };
        let actions = match self.acd.handle(input, now) {
            Ok(actions) => actions,
            Err(e) => {
                let message = AgentMessage::Error { message: format!("cannot transfer: {e}") };
                out.push(Effect::Tell { agent_id, message });
                return;
            }
        };
        out.push(event(&call_id, Kind::Transferred, Some(&agent_id), detail, now));
        self.apply(actions, now, out);
        if let Transfer::Number { e164, ring_ms } = to {
            let leg = format!("{NUMBER_LEG}{e164}");
            if let Some(call) = self.calls.get_mut(&call_id) {
                call.external = Some(leg.clone());
                call.external_until = Some(now + ring_ms);
            }
            out.push(Effect::RingNumber { call_id, leg, e164 });
        }
    }

    pub(super) fn pause_recording(
        &mut self,
        call_id: CallId,
        agent_id: AgentId,
        paused: bool,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let refusal = match self.calls.get_mut(&call_id) {
            Some(call) if call.agent.as_ref() == Some(&agent_id) => match &mut call.recording {
                Some(state) => {
                    if *state != paused {
                        *state = paused;
                        out.push(Effect::PauseRecording { call_id: call_id.clone(), paused });
                        let kind =
                            if paused { Kind::RecordingPaused } else { Kind::RecordingResumed };
                        out.push(event(&call_id, kind, Some(&agent_id), json!({}), now));
                    }
                    None
                }
                None => Some("this call is not being recorded"),
            },
            _ => Some("not your call"),
        };
        let message = match refusal {
            Some(message) => AgentMessage::Error { message: message.into() },
            None => AgentMessage::Recording { call_id: call_id.into_string(), paused },
        };
        out.push(Effect::Tell { agent_id, message });
    }

    /// The number a call was transferred to was bridged to the caller, or could not be.
    pub(super) fn number_bridged(
        &mut self,
        call_id: CallId,
        leg: String,
        result: Result<(), String>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        match result {
            Ok(()) => {
                if self.forwarding(&call_id) {
                    self.forwarded(&call_id);
                }
                if let Some(call) = self.calls.get_mut(&call_id) {
                    call.external_answered = true;
                    call.external_until = None;
                }
                let detail = json!({"leg": leg});
                out.push(event(&call_id, Kind::TransferAnswered, None, detail, now));
            }
            Err(e) => {
                warn!(%call_id, error = %e, "cannot connect the transfer target");
                out.push(Effect::CancelRing { call_id: call_id.clone(), leg });
                self.number_failed(&call_id, None, now, out);
            }
        }
    }

    /// Click-to-call: the customer answered.
    pub(super) fn outbound_connected(
        &mut self,
        call_id: CallId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(call) = self.calls.get_mut(&call_id) else { return };
        call.reached = true;
        let Some(dialer) = call.dialer.clone() else { return };
        if call.agent.is_some() {
            let message =
                AgentMessage::Connected { call_id: call_id.to_string(), from: call.from.clone() };
            out.push(Effect::Tell { agent_id: dialer.clone(), message });
        }
        out.push(Effect::Log(Write::Answered {
            call_id: call_id.to_string(),
            agent_id: dialer.into_string(),
            at: now,
        }));
        out.push(Effect::StartRecording { call_id });
    }

    /// Hold on or off: the agent's console follows; the time on hold is summed.
    pub(super) fn hold(
        &mut self,
        call_id: CallId,
        by: Party,
        on: bool,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if let Some(call) = self.calls.get_mut(&call_id) {
            if let Some(agent) = &call.agent {
                let message = AgentMessage::Hold { call_id: call_id.to_string(), on };
                out.push(Effect::Tell { agent_id: agent.clone(), message });
            }
            if on && call.hold_since.is_none() {
                call.hold_since = Some(now);
            } else if !on && let Some(since) = call.hold_since.take() {
                call.hold_ms += now - since;
            }
        }
        if by == Party::Agent {
            // The agent put the caller on hold: music instead of silence.
            out.push(Effect::HoldSound { call_id: call_id.clone(), on });
        }
        let kind = if on { Kind::Hold } else { Kind::Resume };
        out.push(event(&call_id, kind, None, json!({"by": party(by)}), now));
    }

    /// The card goes to every agent the call rings for and the one talking.
    pub(super) fn card_ready(&mut self, call_id: CallId, card: ClientCard, out: &mut Vec<Effect>) {
        let Some(call) = self.calls.get_mut(&call_id) else { return };
        call.card = Some(card.clone());
        let mut targets: Vec<&AgentId> = call.ringing.iter().collect();
        targets.sort();
        targets.extend(call.agent.as_ref());
        for agent in targets {
            let message = AgentMessage::Card { call_id: call_id.to_string(), card: card.clone() };
            out.push(Effect::Tell { agent_id: agent.clone(), message });
        }
    }
}

/// The call-log row of an inbound call as it arrives (without a queue when a call flow
/// answers it first).
pub(super) fn inbound_logged(
    call_id: &CallId,
    from: &str,
    to: String,
    queue: Option<&QueueId>,
    origin: String,
    now: EpochMs,
) -> Effect {
    Effect::Log(Write::Create(NewCall {
        direction: CallDirection::Inbound,
        from_e164: from.to_owned(),
        to_e164: to,
        queue_id: queue.map(ToString::to_string),
        offered_at: now,
        id: Some(call_id.to_string()),
        origin: Some(origin),
        agent_id: None,
        task_id: None,
    }))
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

pub(super) fn party(p: Party) -> &'static str {
    match p {
        Party::Caller => "caller",
        Party::Agent => "agent",
    }
}
