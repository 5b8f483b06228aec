//! Agents in the browser: their leg is not a SIP dialog but a packet port the WebRTC edge
//! hands over ([`PacketPort`]). Ringing them is the server's business (a card on their
//! WebSocket); the edge only sends 180 to the caller, answers the caller when the agent takes
//! the call, bridges, and ends or holds the call on the agent's word. Blind transfer (`park`)
//! works for both kinds of agent: the caller is taken off one and bridged to the next.

use switchboard_media::relay::{LegMedia, PT_PCMU, PacketPort, Side};
use tokio::sync::mpsc;

use super::{
    Connected, EdgeError, EdgeEvent, EndedBy, Hangup, Offer, Parked, Party, SipEdge, finish,
    sip_err,
};

impl SipEdge {
    /// Records that `agent_id` (a browser agent) is being offered `call_id`; the first offer
    /// sends 180 Ringing to the caller.
    pub fn offer_browser(&self, call_id: &str, agent_id: &str) -> Result<(), EdgeError> {
        let mut calls =
            self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        if !call.ringing_sent {
            call.ringing_sent = true;
            call.caller.ringing(None, None).map_err(sip_err)?;
        }
        call.offers.insert(
            agent_id.to_owned(),
            Offer { dialog: None, socket: None, answer: None, ringing_reported: true },
        );
        Ok(())
    }

    /// Connects the caller to a browser agent: 200 OK with SDP to the caller, and the bridge
    /// between the caller's RTP socket and the agent's packet port.
    pub fn connect_browser(
        &self,
        call_id: &str,
        agent_id: &str,
        port: PacketPort,
        media: LegMedia,
    ) -> Result<(), EdgeError> {
        let mut calls =
            self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        if call.offers.remove(agent_id).is_none() {
            return Err(EdgeError::NotAnswered {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
            });
        }
        let (bridge, caller_port) = call.attach_agent(&self.inner, call_id, port.into(), media)?;
        call.connected = Some(Connected {
            agent_id: agent_id.to_owned(),
            agent_dialog: None,
            bridge,
            caller_on_hold: false,
            agent_on_hold: false,
            caller_port,
            agent_port: 0,
        });
        Ok(())
    }

    /// Puts the browser agent's side of their call (inbound or click-to-call) on a new packet
    /// port: the page made a new connection during the call. Returns whether there was such
    /// a call.
    pub fn move_browser_leg(
        &self,
        call_id: &str,
        agent_id: &str,
        port: PacketPort,
        media: LegMedia,
    ) -> bool {
        if let Ok(calls) = self.inner.calls.lock()
            && let Some(connected) = calls
                .get(call_id)
                .and_then(|c| c.connected.as_ref())
                .filter(|c| c.agent_id == agent_id && c.agent_dialog.is_none())
        {
            connected.bridge.replace(Side::B, port, media);
            return true;
        }
        if let Ok(outbound) = self.inner.outbound.lock()
            && let Some(connected) = outbound
                .get(call_id)
                .and_then(|c| c.connected.as_ref())
                .filter(|c| c.agent_id == agent_id && c.agent_dialog.is_none())
        {
            connected.bridge.replace(Side::B, port, media);
            return true;
        }
        false
    }

    /// Blind transfer: takes the caller off `agent_id` (BYE to a SIP phone; a browser's port
    /// is dropped). The caller stays answered, hearing nothing, until the next agent is
    /// connected with [`connect`](Self::connect) or [`connect_browser`](Self::connect_browser).
    pub fn park(&self, call_id: &str, agent_id: &str) -> Result<(), EdgeError> {
        let mut calls =
            self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        let Some(connected) = call.connected.take_if(|c| c.agent_id == agent_id) else {
            return Err(EdgeError::NotAnswered {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
            });
        };
        // Nobody on the agent's side: a port whose far ends are gone, expected to be silent.
        let (_, from_peer) = mpsc::channel(1);
        let (to_peer, _) = mpsc::channel(1);
        let nobody =
            LegMedia { send: false, expect_packets: false, ..LegMedia::packets(PT_PCMU, None) };
        connected.bridge.replace(Side::B, PacketPort { from_peer, to_peer }, nobody);
        call.parked = Some(Parked { bridge: connected.bridge, caller_port: connected.caller_port });
        if let Some(dialog) = connected.agent_dialog {
            tokio::spawn(async move {
                let _ = dialog.bye().await;
            });
        }
        Ok(())
    }

    /// The agent hung up from the browser: BYE to the caller. Returns whether the call was
    /// connected to that agent.
    pub fn hangup_by_agent(&self, call_id: &str, agent_id: &str) -> bool {
        let call = {
            let Ok(mut calls) = self.inner.calls.lock() else { return false };
            let ours = calls
                .get(call_id)
                .and_then(|c| c.connected.as_ref())
                .is_some_and(|c| c.agent_id == agent_id);
            if !ours {
                drop(calls);
                return self.hangup_outbound_by_agent(call_id, agent_id);
            }
            calls.remove(call_id)
        };
        let Some(call) = call else { return false };
        finish(call, Hangup::CallerOnly);
        self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by: EndedBy::Agent });
        true
    }

    /// The browser agent puts the caller on hold (or resumes): nothing is relayed meanwhile.
    pub fn hold_by_agent(&self, call_id: &str, agent_id: &str, on: bool) -> bool {
        let hold = |connected: &mut Connected| {
            connected.bridge.hold(on);
            std::mem::replace(&mut connected.agent_on_hold, on) != on
        };
        let inbound = self.inner.calls.lock().ok().and_then(|mut calls| {
            calls
                .get_mut(call_id)
                .and_then(|c| c.connected.as_mut())
                .filter(|c| c.agent_id == agent_id)
                .map(hold)
        });
        let changed = match inbound {
            Some(changed) => changed,
            None => {
                let outbound = self.inner.outbound.lock().ok().and_then(|mut out| {
                    out.get_mut(call_id)
                        .and_then(|c| c.connected.as_mut())
                        .filter(|c| c.agent_id == agent_id)
                        .map(hold)
                });
                match outbound {
                    Some(changed) => changed,
                    None => return false,
                }
            }
        };
        if changed {
            self.emit(EdgeEvent::Hold { call_id: call_id.to_owned(), by: Party::Agent, on });
        }
        true
    }
}
