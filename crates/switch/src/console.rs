//! Browser agents: their consoles (WebSockets), their softphones (one persistent WebRTC
//! connection each) and the client cards pushed to them.
//!
//! A console registers an outbox; every message for the agent goes through it, in the
//! switch's order, so a card never overtakes the withdrawal of its call. A new console gets a
//! snapshot (state, softphone, the current call with its card): that is how a console resumes
//! after a reconnect. The softphone belongs to the agent, not to the console: a WebSocket that
//! drops and comes back finds the connection still up.

use std::sync::Arc;

use crate::card::ClientCard;
use crate::protocol::{
    AgentMessage, ConsoleCommand, ConsoleOutbox, TransferTarget, WithdrawReason,
};
use serde_json::json;
use switchboard_core::acd::{AgentState, Input, TransferTo};
use switchboard_core::entity::Task;
use switchboard_webrtc::{AgentPeer, PeerEvent, PeerReport};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{Endpoint, Kind, Switch, now_ms};

/// Pause reason while an agent's softphone connection is down.
pub(super) const CONNECTION_LOST: &str = "connection_lost";

/// An agent's persistent WebRTC connection.
pub(super) struct Softphone {
    pub(super) peer: Arc<AgentPeer>,
    pub(super) connected: bool,
}

/// Results of work the switch hands to other tasks.
pub(super) enum Internal {
    /// A call's client card is built.
    CardReady { call_id: String, card: ClientCard },
    /// A softphone offer was answered (or failed).
    PeerAnswered { user_id: String, console_id: u64, result: Result<(AgentPeer, String), String> },
    /// A softphone's connection changed.
    Peer { user_id: String, report: PeerReport },
    /// Open tasks of an agent that are due now.
    TasksDue { user_id: String, tasks: Vec<Task> },
    /// A transfer to a number has rung for the ring timeout.
    TransferTimeout { call_id: String, leg: String },
    /// A wallboard's listening offer was answered (or failed).
    ListenerAnswered { user_id: String, board_id: u64, result: Result<(AgentPeer, String), String> },
    /// A wallboard's listening connection changed.
    ListenerPeer { user_id: String, report: PeerReport },
    /// The queues and phones were read again (`number`: which load).
    Directory { number: u64, result: Result<crate::Directory, String> },
}

/// How often consoles are told about tasks that have come due.
pub(super) const TASK_CHECK: std::time::Duration = std::time::Duration::from_secs(15);

impl Switch {
    pub(super) fn tell(&self, user_id: &str, message: AgentMessage) {
        if let Some((_, outbox)) = self.consoles.get(user_id) {
            let _ = outbox.send(message);
        }
    }

    pub(super) fn console_opened(
        &mut self,
        user_id: String,
        console_id: u64,
        outbox: ConsoleOutbox,
    ) {
        let state = self.cc.agent_state(&user_id);
        let _ = outbox.send(AgentMessage::State { state: state.clone() });
        let softphone = match self.softphones.get(&user_id) {
            Some(s) if s.connected => "connected",
            Some(_) => "connecting",
            None => "lost",
        };
        let _ = outbox.send(AgentMessage::Softphone { state: softphone });
        // Resume: the call ringing or connected, with its card.
        match &state {
            AgentState::Ringing { call_id, .. } => {
                if let Some(info) = self.calls.get(call_id.as_str()) {
                    let desk_phone =
                        !matches!(self.endpoints.get(&user_id), Some(Endpoint::Browser));
                    let _ = outbox.send(AgentMessage::Ringing {
                        call_id: call_id.to_string(),
                        from: info.from.clone(),
                        card: info.card.clone(),
                        desk_phone,
                    });
                }
            }
            AgentState::OnCall { call_id, .. } => {
                if let Some(info) = self.calls.get(call_id.as_str()) {
                    let _ = outbox.send(AgentMessage::Connected {
                        call_id: call_id.to_string(),
                        from: info.from.clone(),
                    });
                    if let Some(card) = &info.card {
                        let _ = outbox.send(AgentMessage::Card {
                            call_id: call_id.to_string(),
                            card: card.clone(),
                        });
                    }
                    if info.recording.as_ref().is_some_and(|r| r.paused()) {
                        let _ = outbox.send(AgentMessage::Recording {
                            call_id: call_id.to_string(),
                            paused: true,
                        });
                    }
                }
            }
            _ => {}
        }
        if let Some((_, old)) = self.consoles.insert(user_id.clone(), (console_id, outbox)) {
            // The newest page wins; the other one is told so and stops.
            let _ = old.send(AgentMessage::Replaced);
        }
        // A new console is told every due task again.
        self.tasks_told.remove(&user_id);
        self.check_tasks(vec![user_id.clone()]);
        self.browser_reachable(&user_id);
    }

    /// A browser agent paused because their browser was unreachable takes calls again once
    /// both the console and the softphone are back.
    fn browser_reachable(&mut self, user_id: &str) {
        if !matches!(self.endpoints.get(user_id), Some(Endpoint::Browser))
            || !self.browser_ready(user_id)
        {
            return;
        }
        if let AgentState::Paused { reason, .. } = self.cc.agent_state(user_id)
            && reason == CONNECTION_LOST
        {
            match self
                .cc
                .handle(Input::AgentUnpause { agent_id: user_id.to_owned().into() }, now_ms())
            {
                Ok(actions) => self.apply(actions),
                Err(e) => debug!(error = %e, "unpause"),
            }
        }
    }

    /// A browser agent whose console or softphone is gone is paused (a ringing offer is
    /// refused first) so that calls go to someone who can take them.
    fn browser_unreachable(&mut self, user_id: &str) {
        if !matches!(self.endpoints.get(user_id), Some(Endpoint::Browser)) {
            return;
        }
        let agent_id = user_id.to_owned();
        let inputs = match self.cc.agent_state(user_id) {
            AgentState::Ringing { call_id, .. } => vec![
                Input::Rejected { call_id, agent_id: agent_id.clone().into() },
                Input::AgentPause { agent_id: agent_id.into(), reason: CONNECTION_LOST.into() },
            ],
            AgentState::Available { .. } | AgentState::WrapUp { .. } => {
                vec![Input::AgentPause {
                    agent_id: agent_id.into(),
                    reason: CONNECTION_LOST.into(),
                }]
            }
            _ => Vec::new(),
        };
        for input in inputs {
            match self.cc.handle(input, now_ms()) {
                Ok(actions) => self.apply(actions),
                Err(e) => debug!(error = %e, "pause an unreachable browser agent"),
            }
        }
    }

    fn is_current_console(&self, user_id: &str, console_id: u64) -> bool {
        self.consoles.get(user_id).is_some_and(|(id, _)| *id == console_id)
    }

    pub(super) fn console_closed(&mut self, user_id: &str, console_id: u64) {
        if self.is_current_console(user_id, console_id) {
            self.consoles.remove(user_id);
            self.browser_unreachable(user_id);
        }
    }

    pub(super) fn on_console(&mut self, user_id: String, console_id: u64, command: ConsoleCommand) {
        if !self.is_current_console(&user_id, console_id) {
            // A console that was replaced by a newer one.
            return;
        }
        let now = now_ms();
        match command {
            ConsoleCommand::Offer { sdp } => {
                // A page offers only when it has no live connection: whatever the gateway
                // still holds for this agent is stale (a closed browser, a reload, a laptop
                // that slept). Drop it now, so that no call goes to it meanwhile.
                self.drop_softphone(&user_id);
                let config = self.webrtc.clone();
                let internal = self.internal.clone();
                let (reports_tx, mut reports) = mpsc::unbounded_channel();
                let forward_user = user_id.clone();
                let forward = self.internal.clone();
                tokio::spawn(async move {
                    while let Some(report) = reports.recv().await {
                        if forward
                            .send(Internal::Peer { user_id: forward_user.clone(), report })
                            .is_err()
                        {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let result = AgentPeer::answer(&config, sdp, reports_tx)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = internal.send(Internal::PeerAnswered { user_id, console_id, result });
                });
            }
            ConsoleCommand::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                if let Some(softphone) = self.softphones.get(&user_id) {
                    let peer = Arc::clone(&softphone.peer);
                    tokio::spawn(async move {
                        if let Err(e) =
                            peer.add_candidate(candidate, sdp_mid, sdp_mline_index).await
                        {
                            debug!(error = %e, "browser candidate refused");
                        }
                    });
                }
            }
            ConsoleCommand::Answer { call_id } => match self.cc.handle(
                Input::Answered {
                    call_id: call_id.clone().into(),
                    agent_id: user_id.clone().into(),
                },
                now,
            ) {
                Ok(actions) => self.apply(actions),
                Err(e) => self
                    .tell(&user_id, AgentMessage::Error { message: format!("cannot answer: {e}") }),
            },
            ConsoleCommand::Hangup { call_id } => {
                if !self.edge.hangup_by_agent(&call_id, &user_id) {
                    self.tell(
                        &user_id,
                        AgentMessage::Error { message: "no such call on this console".into() },
                    );
                }
            }
            ConsoleCommand::Transfer { call_id, to } => {
                let (to, detail) = match to {
                    TransferTarget::Agent(id) => {
                        (TransferTo::Agent(id.as_str().into()), json!({"to_agent": id}))
                    }
                    TransferTarget::Queue(id) => {
                        (TransferTo::Queue(id.as_str().into()), json!({"to_queue": id}))
                    }
                    TransferTarget::Number(number) => {
                        self.transfer_to_number(&user_id, &call_id, &number);
                        return;
                    }
                };
                match self.cc.handle(
                    Input::Transfer {
                        call_id: call_id.clone().into(),
                        agent_id: user_id.clone().into(),
                        to,
                    },
                    now,
                ) {
                    Ok(actions) => {
                        self.event(&call_id, Kind::Transferred, Some(&user_id), detail);
                        self.apply(actions);
                    }
                    Err(e) => self.tell(
                        &user_id,
                        AgentMessage::Error { message: format!("cannot transfer: {e}") },
                    ),
                }
            }
            ConsoleCommand::Hold { call_id, on } => {
                if !self.edge.hold_by_agent(&call_id, &user_id, on) {
                    self.tell(
                        &user_id,
                        AgentMessage::Error { message: "no such call on this console".into() },
                    );
                }
            }
            ConsoleCommand::Recording { call_id, paused } => {
                if let Err(message) = self.pause_recording(&user_id, &call_id, paused) {
                    self.tell(&user_id, AgentMessage::Error { message });
                }
            }
        }
    }

    pub(super) fn on_internal(&mut self, event: Internal) {
        match event {
            Internal::CardReady { call_id, card } => {
                let Some(info) = self.calls.get_mut(&call_id) else { return };
                info.card = Some(card.clone());
                let targets: Vec<String> =
                    info.ringing.iter().cloned().chain(info.agent.clone()).collect();
                for agent in targets {
                    self.tell(
                        &agent,
                        AgentMessage::Card { call_id: call_id.clone(), card: card.clone() },
                    );
                }
            }
            Internal::PeerAnswered { user_id, console_id, result } => match result {
                Ok((peer, sdp)) => {
                    if !self.is_current_console(&user_id, console_id) {
                        tokio::spawn(async move { peer.close().await });
                        return;
                    }
                    let old = self.softphones.insert(
                        user_id.clone(),
                        Softphone { peer: Arc::new(peer), connected: false },
                    );
                    if let Some(old) = old {
                        tokio::spawn(async move { old.peer.close().await });
                    }
                    self.tell(&user_id, AgentMessage::Answer { sdp });
                    self.tell(&user_id, AgentMessage::Softphone { state: "connecting" });
                }
                Err(e) => {
                    warn!(user_id, error = %e, "cannot answer the browser's offer");
                    self.tell(&user_id, AgentMessage::Error { message: format!("softphone: {e}") });
                }
            },
            Internal::Peer { user_id, report } => self.on_peer(&user_id, report),
            Internal::TransferTimeout { call_id, leg } => self.transfer_timeout(&call_id, &leg),
            Internal::ListenerAnswered { user_id, board_id, result } => {
                self.listener_answered(&user_id, board_id, result)
            }
            Internal::ListenerPeer { user_id, report } => self.listener_peer(&user_id, report),
            Internal::Directory { number, result } => self.directory_loaded(number, result),
            Internal::TasksDue { user_id, tasks } => {
                if !self.consoles.contains_key(&user_id) {
                    return;
                }
                let told = self.tasks_told.entry(user_id.clone()).or_default();
                let fresh: Vec<Task> =
                    tasks.into_iter().filter(|t| told.insert(t.id.clone())).collect();
                for task in fresh {
                    self.tell(&user_id, AgentMessage::TaskDue { task: Box::new(task) });
                }
            }
        }
    }

    fn on_peer(&mut self, user_id: &str, report: PeerReport) {
        let Some(softphone) =
            self.softphones.get_mut(user_id).filter(|s| s.peer.id() == report.peer_id)
        else {
            return;
        };
        let connected = report.event == PeerEvent::Connected;
        if softphone.connected == connected {
            return;
        }
        softphone.connected = connected;
        let peer = Arc::clone(&softphone.peer);
        info!(user_id, connected, "softphone");
        self.tell(
            user_id,
            AgentMessage::Softphone { state: if connected { "connected" } else { "lost" } },
        );
        if connected {
            self.resume_call_on(user_id, &peer);
            self.browser_reachable(user_id);
        } else {
            self.browser_unreachable(user_id);
        }
    }

    /// Closes and forgets the agent's softphone connection (a new one is coming); an agent who
    /// was taking calls on it is paused as `connection_lost` until the new one is up.
    fn drop_softphone(&mut self, user_id: &str) {
        let Some(old) = self.softphones.remove(user_id) else { return };
        info!(user_id, "softphone replaced by the page's new connection");
        tokio::spawn(async move { old.peer.close().await });
        self.browser_unreachable(user_id);
    }

    /// A new softphone connection came up while the agent has a call: the call's audio moves
    /// onto it (the caller's stream goes on unchanged).
    fn resume_call_on(&mut self, user_id: &str, peer: &Arc<AgentPeer>) {
        let call_id = match self.cc.agent_state(user_id) {
            AgentState::OnCall { call_id, .. } => call_id.into_string(),
            _ => match self.outbound_agents.iter().find(|(_, agent)| agent.as_str() == user_id) {
                Some((call_id, _)) => call_id.clone(),
                None => return,
            },
        };
        let (port, media) = peer.attach();
        if self.edge.move_browser_leg(&call_id, user_id, port, media) {
            info!(user_id, call_id, "the call moved onto the new softphone connection");
        } else {
            peer.detach();
        }
    }

    /// Click-to-call from the browser: the softphone is the agent's leg; the customer is called
    /// at once.
    pub(super) fn dial_browser(
        &mut self,
        call_id: &str,
        agent_id: &str,
        e164: &str,
        target: switchboard_sip::edge::DialTarget,
    ) -> Result<(), String> {
        let peer = self
            .softphones
            .get(agent_id)
            .map(|s| Arc::clone(&s.peer))
            .ok_or("the agent has no softphone connection")?;
        let (port, media) = peer.attach();
        if let Err(e) = self.edge.dial_browser(call_id, agent_id, port, media, target) {
            peer.detach();
            return Err(e.to_string());
        }
        self.tell(
            agent_id,
            AgentMessage::Dialing { call_id: call_id.to_owned(), to: e164.to_owned() },
        );
        Ok(())
    }

    /// Takes the caller off the agent who transferred the call; the core offers it on.
    pub(super) fn transferred(&mut self, call_id: &str, agent_id: &str) {
        if let Err(e) = self.edge.park(call_id, agent_id) {
            warn!(call_id, agent_id, error = %e, "cannot take the call off the agent");
        }
        if let Some(softphone) = self.softphones.get(agent_id) {
            softphone.peer.detach();
        }
        if let Some(info) = self.calls.get_mut(call_id) {
            info.agent = None;
            info.transferred = true;
        }
        self.tell(agent_id, AgentMessage::Ended { call_id: call_id.to_owned(), by: "transfer" });
    }

    /// Whether the agent can take a call in the browser now.
    pub(super) fn browser_ready(&self, user_id: &str) -> bool {
        self.consoles.contains_key(user_id)
            && self.softphones.get(user_id).is_some_and(|s| s.connected)
    }

    /// Rings a browser agent: 180 to the caller (first offer), the call and its card to the
    /// agent's console.
    pub(super) fn offer_browser(&mut self, call_id: &str, agent_id: &str) -> Result<(), String> {
        if !self.browser_ready(agent_id) {
            return Err("the agent's browser is not connected".into());
        }
        self.edge.offer_browser(call_id, agent_id).map_err(|e| e.to_string())?;
        let (from, card) = match self.calls.get_mut(call_id) {
            Some(info) => {
                info.ringing.insert(agent_id.to_owned());
                (info.from.clone(), info.card.clone())
            }
            None => (String::new(), None),
        };
        self.tell(
            agent_id,
            AgentMessage::Ringing { call_id: call_id.to_owned(), from, card, desk_phone: false },
        );
        Ok(())
    }

    /// A desk phone rings: the agent's open console (if any) shows the card all the same.
    pub(super) fn offered_desk_phone(&mut self, call_id: &str, agent_id: &str) {
        let (from, card) = match self.calls.get_mut(call_id) {
            Some(info) => {
                info.ringing.insert(agent_id.to_owned());
                (info.from.clone(), info.card.clone())
            }
            None => (String::new(), None),
        };
        self.tell(
            agent_id,
            AgentMessage::Ringing { call_id: call_id.to_owned(), from, card, desk_phone: true },
        );
    }

    /// Puts a call on the agent's softphone.
    pub(super) fn connect_browser(&mut self, call_id: &str, agent_id: &str) -> Result<(), String> {
        let peer = self
            .softphones
            .get(agent_id)
            .map(|s| Arc::clone(&s.peer))
            .ok_or("the agent has no softphone connection")?;
        let (port, media) = peer.attach();
        self.edge.connect_browser(call_id, agent_id, port, media).map_err(|e| e.to_string())?;
        let from = self.calls.get(call_id).map(|i| i.from.clone()).unwrap_or_default();
        self.tell(agent_id, AgentMessage::Connected { call_id: call_id.to_owned(), from });
        Ok(())
    }

    pub(super) fn withdraw(&mut self, call_id: &str, agent_id: &str, reason: WithdrawReason) {
        if let Some(info) = self.calls.get_mut(call_id) {
            info.ringing.remove(agent_id);
        }
        // Browser or desk phone: an open console took the card and is told it is gone.
        self.tell(agent_id, AgentMessage::Withdrawn { call_id: call_id.to_owned(), reason });
    }

    /// Looks up, off the switch task, the open tasks of `agents` that are due.
    pub(super) fn check_tasks(&self, agents: Vec<String>) {
        if agents.is_empty() {
            return;
        }
        let store = self.store.clone();
        let internal = self.internal.clone();
        tokio::spawn(async move {
            let now = now_ms();
            for user_id in agents {
                match store.due_tasks_for(&user_id, now).await {
                    Ok(tasks) if !tasks.is_empty() => {
                        let _ = internal.send(Internal::TasksDue { user_id, tasks });
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "cannot read due tasks"),
                }
            }
        });
    }

    /// Builds the card of a new call in the background.
    pub(super) fn build_card(&self, call_id: String, number: String) {
        let store = self.store.clone();
        let internal = self.internal.clone();
        tokio::spawn(async move {
            match crate::card::client_card(&store, &number, &call_id).await {
                Ok(card) => {
                    let _ = internal.send(Internal::CardReady { call_id, card });
                }
                Err(e) => warn!(call_id, error = %e, "cannot build the client card"),
            }
        });
    }
}
