//! Agents in the browser: their leg is not a SIP dialog but a packet port the WebRTC edge
//! hands over ([`PacketPort`]). Ringing them is the server's business (a card on their
//! WebSocket); the edge only sends 180 to the caller, answers the caller when the agent takes
//! the call, bridges, and ends or holds the call on the agent's word.

use std::sync::Arc;

use rsipstack::sip::Header;
use switchboard_media::relay::{self, BridgeOptions, LegMedia, PacketPort};

use super::{Connected, EdgeError, EdgeEvent, EndedBy, Hangup, Offer, Party, SipEdge, finish, leg_media, media_sink, session_id, sip_err};

impl SipEdge {
    /// Records that `agent_id` (a browser agent) is being offered `call_id`; the first offer
    /// sends 180 Ringing to the caller.
    pub fn offer_browser(&self, call_id: &str, agent_id: &str) -> Result<(), EdgeError> {
        let mut calls = self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        if !call.ringing_sent {
            call.ringing_sent = true;
            call.caller.ringing(None, None).map_err(sip_err)?;
        }
        call.offers.insert(agent_id.to_owned(), Offer { dialog: None, socket: None, answer: None, ringing_reported: true });
        Ok(())
    }

    /// Connects the caller to a browser agent: 200 OK with SDP to the caller, and the bridge
    /// between the caller's RTP socket and the agent's packet port.
    pub fn connect_browser(&self, call_id: &str, agent_id: &str, port: PacketPort, media: LegMedia) -> Result<(), EdgeError> {
        let mut calls = self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
        let call = calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        if call.offers.remove(agent_id).is_none() {
            return Err(EdgeError::NotAnswered { call_id: call_id.to_owned(), agent_id: agent_id.to_owned() });
        }
        let caller_socket = call.caller_socket.take().ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
        call.sdp_version += 1;
        let body = call.caller_answer.to_sdp((self.inner.config.advertised_ip, caller_socket.port()), session_id(), call.sdp_version);
        call.caller.accept(Some(vec![Header::ContentType("application/sdp".into())]), Some(body.into_bytes())).map_err(sip_err)?;
        let caller_port = caller_socket.port();
        let sink = media_sink(Arc::downgrade(&self.inner), call_id.to_owned());
        let bridge = relay::bridge((caller_socket, leg_media(&call.caller_answer)), (port, media), BridgeOptions { dead_peer: self.inner.config.dead_peer }, sink);
        call.connected = Some(Connected { agent_id: agent_id.to_owned(), agent_dialog: None, bridge, caller_on_hold: false, agent_on_hold: false, caller_port, agent_port: 0 });
        Ok(())
    }

    /// The agent hung up from the browser: BYE to the caller. Returns whether the call was
    /// connected to that agent.
    pub fn hangup_by_agent(&self, call_id: &str, agent_id: &str) -> bool {
        let call = {
            let Ok(mut calls) = self.inner.calls.lock() else { return false };
            let ours = calls.get(call_id).and_then(|c| c.connected.as_ref()).is_some_and(|c| c.agent_id == agent_id);
            if !ours {
                return false;
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
        let changed = {
            let Ok(mut calls) = self.inner.calls.lock() else { return false };
            let Some(connected) = calls.get_mut(call_id).and_then(|c| c.connected.as_mut()).filter(|c| c.agent_id == agent_id) else { return false };
            connected.bridge.hold(on);
            std::mem::replace(&mut connected.agent_on_hold, on) != on
        };
        if changed {
            self.emit(EdgeEvent::Hold { call_id: call_id.to_owned(), by: Party::Agent, on });
        }
        true
    }
}
