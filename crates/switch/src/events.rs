//! What the SIP edge reports, turned into the core's inputs and the call log's records.

use serde_json::json;
use switchboard_core::acd::Input;
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::entity::CallDirection;
use switchboard_sip::edge::{
    EdgeEvent, EndedBy, Origin, OutboundOutcome, Party, RegistrationStatus,
};
use switchboard_store::NewCall;
use tracing::{debug, info, warn};

use crate::calllog::Write;
use crate::protocol::AgentMessage;
use crate::{CallInfo, Switch, now_ms, transfer};

impl Switch {
    pub(super) fn on_edge(&mut self, event: EdgeEvent) {
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
                match self.cc.handle(
                    Input::CallArrived {
                        call_id: call_id.clone().into(),
                        queue_id: queue_id.into(),
                    },
                    now,
                ) {
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
                match self.cc.handle(Input::CallerHungUp { call_id: call_id.clone().into() }, now) {
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
                Input::Answered {
                    call_id: call_id.clone().into(),
                    agent_id: agent_id.clone().into(),
                },
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
                match self.cc.handle(
                    Input::Rejected { call_id: call_id.clone().into(), agent_id: agent_id.into() },
                    now,
                ) {
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
                    Some(agent_id) => Input::OutboundEnded { agent_id: agent_id.into() },
                    None => Input::CallEnded { call_id: call_id.clone().into() },
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
                    && let Ok(actions) =
                        self.cc.handle(Input::OutboundEnded { agent_id: agent_id.into() }, now)
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

fn log_registration(status: &RegistrationStatus) {
    match status.state.as_str() {
        "registered" => info!(account = status.name, expires_s = ?status.expires_s, "registered"),
        _ => {
            warn!(account = status.name, state = status.state, code = ?status.last_code, error = ?status.last_error, "registration")
        }
    }
}

fn party(p: Party) -> &'static str {
    match p {
        Party::Caller => "caller",
        Party::Agent => "agent",
    }
}
