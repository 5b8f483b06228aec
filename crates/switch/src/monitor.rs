//! Live listening: a supervisor on a call in progress, from the wallboard.
//!
//! The wallboard keeps one WebRTC connection of its own (made at the first listen, kept while
//! the page is open, like an agent's softphone). Listening puts that connection on the call's
//! bridge as a third leg: it hears both sides mixed; whispering is heard by the agent only;
//! barging by both. One supervisor at a time per call: a second one takes the call over. The
//! call's agent must be in the supervisor's scope (the API passes it). Every start, change of
//! mode and stop is audited, with the agent and the mode.

use std::collections::HashMap;
use std::sync::Arc;

use crate::protocol::{
    ListenMode, WallboardCommand, WallboardEvent, WallboardMessage, WallboardOutbox,
};
use serde_json::{Value, json};
use switchboard_media::relay::{Monitor, MonitorMode};
use switchboard_sip::edge::SipEdge;
use switchboard_webrtc::{AgentPeer, PeerEvent, PeerReport};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::Switch;
use super::calllog::{LogSender, Write};
use super::console::Internal;

/// One open wallboard that may listen.
pub(super) struct Listener {
    board_id: u64,
    outbox: WallboardOutbox,
    peer: Option<Arc<AgentPeer>>,
    connected: bool,
    /// The call it is on, and how.
    on: Option<(String, ListenMode)>,
}

/// Every open wallboard, by supervisor.
pub(super) type Listeners = HashMap<String, Listener>;

fn media_mode(mode: ListenMode) -> MonitorMode {
    match mode {
        ListenMode::Listen => MonitorMode::Listen,
        ListenMode::Whisper => MonitorMode::Whisper,
        ListenMode::Barge => MonitorMode::Barge,
    }
}

impl Listener {
    fn tell(&self, message: WallboardMessage) {
        let _ = self.outbox.send(message);
    }

    /// Leaves the call it is on, if any: the connection comes off the bridge, the page is told
    /// `reason`, and the stop is audited with `detail`.
    fn leave(
        &mut self,
        user_id: &str,
        edge: &SipEdge,
        writes: &LogSender,
        reason: &'static str,
        detail: Value,
    ) {
        let Some((call_id, _)) = self.on.take() else { return };
        if let Some(peer) = &self.peer {
            peer.detach();
        }
        edge.monitor(&call_id, None);
        writes.send(Write::Listened {
            user_id: user_id.to_owned(),
            call_id: call_id.clone(),
            action: "call.listen_stop",
            detail,
        });
        self.tell(WallboardMessage::Stopped { call_id, reason });
    }
}

impl Switch {
    pub(super) fn on_wallboard(&mut self, user_id: String, board_id: u64, event: WallboardEvent) {
        match event {
            WallboardEvent::Opened { outbox } => {
                let _ = outbox.send(WallboardMessage::Softphone { state: "lost" });
                let new = Listener { board_id, outbox, peer: None, connected: false, on: None };
                if let Some(old) = self.listeners.insert(user_id.clone(), new) {
                    self.retire_listener(&user_id, old);
                }
            }
            WallboardEvent::Closed => {
                if self.listeners.get(&user_id).is_some_and(|l| l.board_id == board_id)
                    && let Some(old) = self.listeners.remove(&user_id)
                {
                    self.retire_listener(&user_id, old);
                }
            }
            WallboardEvent::Command { command, scope } => {
                if self.listeners.get(&user_id).is_none_or(|l| l.board_id != board_id) {
                    // A wallboard that was replaced by a newer one.
                    return;
                }
                let result = match command {
                    WallboardCommand::Offer { sdp } => {
                        self.answer_listener(&user_id, board_id, sdp);
                        Ok(())
                    }
                    WallboardCommand::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                        if let Some(peer) =
                            self.listeners.get(&user_id).and_then(|l| l.peer.clone())
                        {
                            tokio::spawn(async move {
                                if let Err(e) =
                                    peer.add_candidate(candidate, sdp_mid, sdp_mline_index).await
                                {
                                    debug!(error = %e, "wallboard candidate refused");
                                }
                            });
                        }
                        Ok(())
                    }
                    WallboardCommand::Listen { call_id, mode } => {
                        self.listen(&user_id, &call_id, mode, scope.as_deref())
                    }
                    WallboardCommand::StopListening => {
                        self.stop_listening(&user_id, "stopped");
                        Ok(())
                    }
                };
                if let Err(message) = result
                    && let Some(l) = self.listeners.get(&user_id)
                {
                    l.tell(WallboardMessage::Error { message });
                }
            }
        }
    }

    /// A wallboard that went away (closed or replaced): off its call, connection closed.
    fn retire_listener(&mut self, user_id: &str, mut old: Listener) {
        old.leave(user_id, &self.edge, &self.writes, "closed", json!({"reason": "closed"}));
        if let Some(peer) = old.peer.take() {
            tokio::spawn(async move { peer.close().await });
        }
    }

    fn answer_listener(&self, user_id: &str, board_id: u64, sdp: String) {
        let config = self.webrtc.clone();
        let internal = self.internal.clone();
        let (reports_tx, mut reports) = mpsc::unbounded_channel();
        let forward = self.internal.clone();
        let forward_user = user_id.to_owned();
        tokio::spawn(async move {
            while let Some(report) = reports.recv().await {
                if forward
                    .send(Internal::ListenerPeer { user_id: forward_user.clone(), report })
                    .is_err()
                {
                    break;
                }
            }
        });
        let user_id = user_id.to_owned();
        tokio::spawn(async move {
            let result =
                AgentPeer::answer(&config, sdp, reports_tx).await.map_err(|e| e.to_string());
            let _ = internal.send(Internal::ListenerAnswered { user_id, board_id, result });
        });
    }

    pub(super) fn listener_answered(
        &mut self,
        user_id: &str,
        board_id: u64,
        result: Result<(AgentPeer, String), String>,
    ) {
        let Some(listener) = self.listeners.get_mut(user_id).filter(|l| l.board_id == board_id)
        else {
            if let Ok((peer, _)) = result {
                tokio::spawn(async move { peer.close().await });
            }
            return;
        };
        match result {
            Ok((peer, sdp)) => {
                // A new connection replaces the old one; a call it was on comes off.
                listener.leave(
                    user_id,
                    &self.edge,
                    &self.writes,
                    "stopped",
                    json!({"reason": "reconnected"}),
                );
                if let Some(old) = listener.peer.replace(Arc::new(peer)) {
                    tokio::spawn(async move { old.close().await });
                }
                listener.connected = false;
                listener.tell(WallboardMessage::Answer { sdp });
                listener.tell(WallboardMessage::Softphone { state: "connecting" });
            }
            Err(e) => {
                warn!(user_id, error = %e, "cannot answer the wallboard's offer");
                listener.tell(WallboardMessage::Error {
                    message: format!("listening connection: {e}"),
                });
            }
        }
    }

    pub(super) fn listener_peer(&mut self, user_id: &str, report: PeerReport) {
        let Some(listener) = self
            .listeners
            .get_mut(user_id)
            .filter(|l| l.peer.as_ref().is_some_and(|p| p.id() == report.peer_id))
        else {
            return;
        };
        let connected = report.event == PeerEvent::Connected;
        if listener.connected != connected {
            listener.connected = connected;
            listener.tell(WallboardMessage::Softphone {
                state: if connected { "connected" } else { "lost" },
            });
        }
    }

    /// The agent a live call is connected to.
    fn call_agent(&self, call_id: &str) -> Option<String> {
        self.machine.call_agent(call_id).map(String::from)
    }

    fn listen(
        &mut self,
        user_id: &str,
        call_id: &str,
        mode: ListenMode,
        scope: Option<&[String]>,
    ) -> Result<(), String> {
        let agent_id = self.call_agent(call_id).ok_or("no such call in progress")?;
        if scope.is_some_and(|agents| !agents.contains(&agent_id)) {
            return Err("you may not listen to this agent's calls".into());
        }
        if agent_id == user_id {
            return Err("this is your own call".into());
        }
        let listener = self.listeners.get(user_id).ok_or("the wallboard is closed")?;
        let peer = listener
            .peer
            .clone()
            .filter(|_| listener.connected)
            .ok_or("the listening connection is not up yet")?;
        if let Some((on_call, on_mode)) = listener.on.clone()
            && on_call == call_id
        {
            // On this call already: only the mode changes.
            if on_mode != mode {
                self.edge.monitor_mode(call_id, media_mode(mode));
                self.listening(user_id, call_id, &agent_id, mode);
            }
            return Ok(());
        }
        self.stop_listening(user_id, "stopped");
        // One supervisor per call: whoever was on it is taken off.
        let others: Vec<String> = self
            .listeners
            .iter()
            .filter(|(id, l)| {
                id.as_str() != user_id && l.on.as_ref().is_some_and(|(c, _)| c == call_id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for other in others {
            if let Some(l) = self.listeners.get_mut(&other) {
                l.leave(
                    &other,
                    &self.edge,
                    &self.writes,
                    "taken_over",
                    json!({"reason": "taken_over", "by": user_id}),
                );
            }
        }
        let (port, media) = peer.attach();
        if !self.edge.monitor(call_id, Some(Monitor { port, media, mode: media_mode(mode) })) {
            peer.detach();
            return Err("the call is not connected yet".into());
        }
        info!(user_id, call_id, mode = mode.audit_action(), "supervisor on a call");
        self.listening(user_id, call_id, &agent_id, mode);
        Ok(())
    }

    /// Records that `user_id` is on `call_id` in `mode`: their wallboard is told and it is audited.
    fn listening(&mut self, user_id: &str, call_id: &str, agent_id: &str, mode: ListenMode) {
        if let Some(l) = self.listeners.get_mut(user_id) {
            l.on = Some((call_id.to_owned(), mode));
            l.tell(WallboardMessage::Listening {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
                mode,
            });
        }
        self.write(Write::Listened {
            user_id: user_id.to_owned(),
            call_id: call_id.to_owned(),
            action: mode.audit_action(),
            detail: json!({"agent_id": agent_id}),
        });
    }

    /// Takes `user_id` off their call, if any.
    fn stop_listening(&mut self, user_id: &str, reason: &'static str) {
        if let Some(l) = self.listeners.get_mut(user_id) {
            l.leave(user_id, &self.edge, &self.writes, reason, json!({"reason": reason}));
        }
    }

    /// A call ended: whoever listened is told (the bridge that carried them is gone).
    pub(super) fn monitored_call_ended(&mut self, call_id: &str) {
        let on: Vec<String> = self
            .listeners
            .iter()
            .filter(|(_, l)| l.on.as_ref().is_some_and(|(c, _)| c == call_id))
            .map(|(id, _)| id.clone())
            .collect();
        for user_id in on {
            if let Some(l) = self.listeners.get_mut(&user_id) {
                l.leave(&user_id, &self.edge, &self.writes, "ended", json!({"reason": "ended"}));
            }
        }
    }
}
