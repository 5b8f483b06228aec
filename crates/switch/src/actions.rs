//! Carrying out the core's actions: ringing agents, withdrawing offers, connecting calls,
//! releasing callers; and the callbacks for callers nobody answered.

use std::collections::HashSet;

use serde_json::json;
use switchboard_core::acd::{Action, AgentState, Input, OfferEnd};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_store::MissedCall;
use tracing::{debug, warn};

use crate::calllog::Write;
use crate::protocol::{AgentMessage, WithdrawReason};
use crate::{CallInfo, Endpoint, Switch, now_ms};

impl Switch {
    pub(super) fn apply(&mut self, actions: Vec<Action>) {
        let mut queue = std::collections::VecDeque::from(actions);
        // Offers that failed at once in this round: the core may offer the same call to the
        // same agent again (when nobody else is free); a second failure is left ringing for
        // the ring timeout to end, instead of looping here.
        let mut failed: HashSet<(String, String)> = HashSet::new();
        while let Some(action) = queue.pop_front() {
            let now = now_ms();
            match action {
                Action::Offer { call_id, agent_id } => {
                    let (call_id, agent_id) = (String::from(call_id), String::from(agent_id));
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
                                && let Ok(more) = self.cc.handle(
                                    Input::Rejected {
                                        call_id: call_id.into(),
                                        agent_id: agent_id.into(),
                                    },
                                    now,
                                )
                            {
                                queue.extend(more);
                            }
                        }
                    }
                }
                Action::CancelOffer { call_id, agent_id, reason } => {
                    let (call_id, agent_id) = (String::from(call_id), String::from(agent_id));
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
                Action::Connect { call_id, agent_id } => {
                    let (call_id, agent_id) = (String::from(call_id), String::from(agent_id));
                    match self.connect(&call_id, &agent_id) {
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
                            let input = Input::CallEnded { call_id: call_id.into() };
                            if let Ok(more) = self.cc.handle(input, now) {
                                queue.extend(more);
                            }
                        }
                    }
                }
                Action::ReleaseMaxWait { call_id } => {
                    let call_id = String::from(call_id);
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
                    let call_id = String::from(call_id);
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
                    let agent_id = String::from(agent_id);
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
                        self.wrapups.insert(agent_id.clone(), (call_id.to_string(), *since));
                    } else if let Some((call_id, since)) = self.wrapups.remove(&agent_id) {
                        self.write(Write::WrapUp { call_id, ms: now - since });
                    }
                    self.tell(&agent_id, AgentMessage::State { state });
                }
            }
        }
    }

    /// A caller nobody answered: a callback task for their number.
    pub(super) fn missed(
        &self,
        call_id: String,
        info: Option<CallInfo>,
        reason: EndReason,
        at: i64,
    ) {
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

    pub(super) fn connect(&mut self, call_id: &str, agent_id: &str) -> Result<(), String> {
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
}
