//! Agents' state changes (what the executor knows of how an agent can be reached, for the
//! call machine to decide with), putting desk-phone agents back after a restart, and
//! click-to-call.

use std::collections::HashSet;

use switchboard_core::acd::AgentState;
use tracing::info;

use crate::machine::{CallInput, Endpoint, Reach};
use crate::protocol::{AgentTarget, RestoredAgentView, SwitchError};
use crate::{Switch, now_ms};

impl Switch {
    /// Click-to-call: logs the call, marks the agent busy, and rings their phone (or puts the
    /// call on their softphone). The new call's id.
    pub(super) fn dial(
        &mut self,
        user_id: &str,
        e164: &str,
        task_id: Option<String>,
    ) -> Result<String, SwitchError> {
        let config = self.outbound.as_ref().ok_or(SwitchError::ClickToCallOff)?;
        let caller_id = config.caller_id.clone();
        // The browser's softphone when it is connected, else the agent's SIP phone.
        let endpoint = if self.browser_ready(user_id) {
            Endpoint::Browser
        } else {
            Endpoint::Sip(self.agent_target(user_id)?)
        };
        let call_id = switchboard_core::new_id();
        let now = now_ms();
        let input = CallInput::Dial {
            call_id: call_id.clone().into(),
            agent_id: user_id.into(),
            e164: e164.to_owned(),
            endpoint,
            caller_id,
            task_id,
        };
        let effects = self.machine.handle(input, now)?;
        self.dial_error = None;
        self.carry_out(effects, now);
        match self.dial_error.take() {
            Some(e) => Err(SwitchError::Gateway(e)),
            None => Ok(call_id),
        }
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
        let reach = Reach {
            browser_ready: self.browser_ready(user_id),
            console_open: self.consoles.contains_key(user_id),
            phone: self.directory.phone_of(user_id),
            queues: self.directory.queues_of(user_id).iter().map(Into::into).collect(),
            skills: self.directory.skills_of(user_id),
        };
        self.feed(CallInput::SetState { agent_id: user_id.into(), target, reach })?;
        Ok(self.machine.agent_state(user_id))
    }
}
