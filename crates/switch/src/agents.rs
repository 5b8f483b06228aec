//! Agents' state changes (with the check that a browser agent has a live softphone), putting
//! desk-phone agents back after a restart, and click-to-call.

use std::collections::HashSet;

use serde_json::json;
use switchboard_core::acd::{AgentState, Input};
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::entity::CallDirection;
use switchboard_sip::edge::DialTarget;
use switchboard_store::NewCall;
use tracing::info;

use crate::calllog::Write;
use crate::protocol::{AgentTarget, RestoredAgentView, SwitchError};
use crate::{CallInfo, Endpoint, Switch, now_ms};

impl Switch {
    /// Click-to-call: logs the call, marks the agent busy, and rings their phone.
    pub(super) fn dial(
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
                    Input::Dialing {
                        agent_id: user_id.to_owned().into(),
                        call_id: call_id.clone().into(),
                    },
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
                && let Ok(actions) = self
                    .cc
                    .handle(Input::OutboundEnded { agent_id: user_id.to_owned().into() }, now)
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

    /// Puts desk-phone agents back in the state a previous run left them in: available
    /// (from any state of taking calls: their calls are gone) or paused with its reason, when
    /// their phone is a fixed URI or an extension still registered. Browser agents come back
    /// through their console; offline ones stay offline.
    pub(super) fn restore_agents(&mut self, previous: Vec<(String, String, Option<String>)>) {
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

    pub(super) fn set_agent_state(
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
                Some(Input::AgentLogin {
                    agent_id: user_id.into(),
                    queues: queues.into_iter().map(Into::into).collect(),
                })
            }
            (AgentState::Paused { .. }, AgentTarget::Available) => {
                Some(Input::AgentUnpause { agent_id: user_id.to_owned().into() })
            }
            (AgentState::WrapUp { .. }, AgentTarget::Available) => {
                Some(Input::WrapUpDone { agent_id: user_id.to_owned().into() })
            }
            (
                AgentState::Available { .. }
                | AgentState::Ringing { .. }
                | AgentState::OnCall { .. },
                AgentTarget::Available,
            ) => None,
            (_, AgentTarget::Paused(reason)) => {
                Some(Input::AgentPause { agent_id: user_id.to_owned().into(), reason })
            }
            (AgentState::Offline, AgentTarget::Offline) => None,
            (_, AgentTarget::Offline) => {
                Some(Input::AgentLogout { agent_id: user_id.to_owned().into() })
            }
        };
        if let Some(input) = input {
            let actions =
                self.cc.handle(input, now).map_err(|e| SwitchError::NotNow(e.to_string()))?;
            self.apply(actions);
        }
        Ok(self.cc.agent_state(user_id))
    }
}
