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
use crate::machine::{CallInput, Transfer};
use crate::protocol::{AgentMessage, ConsoleCommand, ConsoleOutbox, TransferTarget};
use switchboard_core::entity::Task;
use switchboard_webrtc::{AgentPeer, PeerEvent, PeerReport};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{Switch, now_ms};

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
    /// Open tasks of an agent that are due now or made by a new lead (with whether they were).
    TasksDue { user_id: String, tasks: Vec<(Task, bool)> },
    /// A wallboard's listening offer was answered (or failed).
    ListenerAnswered { user_id: String, board_id: u64, result: Result<(AgentPeer, String), String> },
    /// A wallboard's listening connection changed.
    ListenerPeer { user_id: String, report: PeerReport },
    /// The queues and phones were read again (`number`: which load).
    Directory { number: u64, result: Result<Box<crate::Directory>, String> },
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
        // Resume: the state, the softphone, the call ringing or connected with its card.
        let mut snapshot = self.machine.snapshot(&user_id).into_iter();
        if let Some(state) = snapshot.next() {
            let _ = outbox.send(state);
        }
        let softphone = match self.softphones.get(&user_id) {
            Some(s) if s.connected => "connected",
            Some(_) => "connecting",
            None => "lost",
        };
        let _ = outbox.send(AgentMessage::Softphone { state: softphone });
        for message in snapshot {
            let _ = outbox.send(message);
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
        if self.browser_ready(user_id) {
            self.feed_event(CallInput::BrowserUp { agent_id: user_id.into() });
        }
    }

    /// A browser agent whose console or softphone is gone is paused (a ringing offer is
    /// refused first) so that calls go to someone who can take them.
    fn browser_unreachable(&mut self, user_id: &str) {
        self.feed_event(CallInput::BrowserDown { agent_id: user_id.into() });
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
            ConsoleCommand::Answer { call_id } => self.feed_event(CallInput::ConsoleAnswer {
                call_id: call_id.into(),
                agent_id: user_id.into(),
            }),
            ConsoleCommand::Hangup { call_id } => {
                if !self.edge.hangup_by_agent(&call_id, &user_id) {
                    self.tell(
                        &user_id,
                        AgentMessage::Error { message: "no such call on this console".into() },
                    );
                }
            }
            ConsoleCommand::Transfer { call_id, to } => {
                let to = match to {
                    TransferTarget::Agent(id) => Transfer::Agent(id.into()),
                    TransferTarget::Queue(id) => Transfer::Queue(id.into()),
                    TransferTarget::Number(number) => {
                        return self.transfer_to_number(&user_id, &call_id, &number);
                    }
                };
                let (call_id, agent_id) = (call_id.into(), user_id.into());
                self.feed_event(CallInput::Transfer { call_id, agent_id, to });
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
                let (call_id, agent_id) = (call_id.into(), user_id.into());
                self.feed_event(CallInput::PauseRecording { call_id, agent_id, paused });
            }
        }
    }

    pub(super) fn on_internal(&mut self, event: Internal) {
        match event {
            Internal::CardReady { call_id, card } => {
                self.feed_event(CallInput::CardReady { call_id: call_id.into(), card })
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
                let fresh: Vec<(Task, bool)> =
                    tasks.into_iter().filter(|(t, _)| told.insert(t.id.clone())).collect();
                for (task, lead) in fresh {
                    self.tell(&user_id, AgentMessage::TaskDue { task: Box::new(task), lead });
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
        let Some(call_id) = self.machine.call_of(user_id) else { return };
        let (port, media) = peer.attach();
        if self.edge.move_browser_leg(&call_id, user_id, port, media) {
            info!(user_id, %call_id, "the call moved onto the new softphone connection");
        } else {
            peer.detach();
        }
    }

    /// Whether the agent can take a call in the browser now.
    pub(super) fn browser_ready(&self, user_id: &str) -> bool {
        self.consoles.contains_key(user_id)
            && self.softphones.get(user_id).is_some_and(|s| s.connected)
    }

    /// Puts a call on the agent's softphone.
    pub(super) fn connect_browser(&mut self, call_id: &str, agent_id: &str) -> Result<(), String> {
        let peer = self.softphone(agent_id)?;
        let (port, media) = peer.attach();
        self.edge.connect_browser(call_id, agent_id, port, media).map_err(|e| e.to_string())
    }

    /// The agent's softphone connection.
    pub(super) fn softphone(&self, agent_id: &str) -> Result<Arc<AgentPeer>, String> {
        let softphone =
            self.softphones.get(agent_id).ok_or("the agent has no softphone connection")?;
        Ok(Arc::clone(&softphone.peer))
    }

    /// Looks up, off the switch task, the open tasks of `agents` that are due (or new leads).
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
