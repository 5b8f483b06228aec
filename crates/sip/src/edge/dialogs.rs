//! Following the dialogs of a call: a leg's dialog ending (BYE or CANCEL from the caller, the
//! agent or the customer), and re-INVITEs (hold, resume, new address) answered with our SDP.

use std::sync::Weak;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode};
use switchboard_media::relay::Side;
use tracing::debug;

use super::{
    Connected, EdgeEvent, EndedBy, Hangup, Inner, Party, SipEdge, finish, leg_media, session_id,
};
use crate::sdp::{self, SessionDescription};

/// Whether a dialog got its 2xx (so it ends with BYE rather than CANCEL).
pub(super) fn is_answered(dialog: &InviteDialog) -> bool {
    matches!(dialog.state(), DialogState::Confirmed(..) | DialogState::WaitAck(..))
}

impl SipEdge {
    fn on_caller_terminated(&self, call_id: &str, reason: &TerminatedReason) {
        let call = self.inner.calls.lock().ok().and_then(|mut c| c.remove(call_id));
        let Some(call) = call else { return };
        debug!(call_id, ?reason, "caller dialog ended");
        let connected = call.connected.is_some();
        finish(call, Hangup::AgentOnly);
        if connected {
            self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by: EndedBy::Caller });
        } else {
            self.emit(EdgeEvent::CallerGone { call_id: call_id.to_owned() });
        }
    }

    fn on_agent_terminated(&self, call_id: &str, agent_id: &str) {
        let mut calls = match self.inner.calls.lock() {
            Ok(c) => c,
            Err(_) => return,
        };
        let is_connected_agent = calls
            .get(call_id)
            .and_then(|c| c.connected.as_ref())
            .is_some_and(|c| c.agent_id == agent_id);
        if !is_connected_agent {
            return;
        }
        let Some(call) = calls.remove(call_id) else { return };
        drop(calls);
        finish(call, Hangup::CallerOnly);
        self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by: EndedBy::Agent });
    }

    /// A re-INVITE (or UPDATE) with SDP from one side of a connected call: answer it, update the
    /// bridge, and report hold changes.
    fn on_reoffer(&self, call_id: &str, party: Party, body: &[u8]) -> Result<String, StatusCode> {
        let offer = std::str::from_utf8(body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .ok_or(StatusCode::BadRequest)?;
        let answer = sdp::negotiate(&offer).map_err(|_| StatusCode::NotAcceptableHere)?;
        let hold = offer.direction.is_hold() || answer.remote.is_none();
        let update = |connected: &mut Connected, version: &mut u64| {
            *version += 1;
            let (side, was_on_hold, port) = match party {
                Party::Caller => (
                    Side::A,
                    std::mem::replace(&mut connected.caller_on_hold, hold),
                    connected.caller_port,
                ),
                Party::Agent => (
                    Side::B,
                    std::mem::replace(&mut connected.agent_on_hold, hold),
                    connected.agent_port,
                ),
            };
            connected.bridge.update(side, leg_media(&answer));
            (was_on_hold, port, *version)
        };
        let found = {
            let mut calls = self.inner.calls.lock().map_err(|_| StatusCode::ServerInternalError)?;
            match calls.get_mut(call_id) {
                Some(call) => Some(match call.connected.as_mut() {
                    Some(c) => update(c, &mut call.sdp_version),
                    None => return Err(StatusCode::RequestPending),
                }),
                None => None,
            }
        };
        let found = match found {
            Some(f) => f,
            None => self.outbound_reoffer(call_id, update)?,
        };
        let (was_on_hold, port, version) = found;
        if was_on_hold != hold {
            self.emit(EdgeEvent::Hold { call_id: call_id.to_owned(), by: party, on: hold });
        }
        Ok(answer.to_sdp((self.inner.config.advertised_ip, port), session_id(), version))
    }
}

/// Which leg a dialog's states belong to.
pub(super) enum Leg {
    Caller(DialogId),
    Agent(String),
    /// A click-to-call leg (to the agent's phone or to the customer).
    Outbound(Party),
}

/// Follows one dialog of a call (the caller's, or an agent's) until it terminates.
pub(super) async fn dialog_states(
    edge: Weak<Inner>,
    call_id: String,
    leg: Leg,
    mut states: DialogStateReceiver,
) {
    let party = match leg {
        Leg::Caller(_) => Party::Caller,
        Leg::Agent(_) => Party::Agent,
        Leg::Outbound(p) => p,
    };
    while let Some(state) = states.recv().await {
        let Some(inner) = edge.upgrade() else { break };
        let edge = SipEdge { inner };
        match state {
            DialogState::Early(..) => {
                if let Leg::Agent(agent_id) = &leg {
                    edge.offer_ringing(&call_id, agent_id);
                }
            }
            DialogState::Updated(_, request, handle) => {
                let reply = edge.on_reoffer(&call_id, party, &request.body);
                respond_reoffer(handle, reply).await;
            }
            DialogState::Options(_, _, handle) | DialogState::Info(_, _, handle) => {
                let _ = handle.reply(StatusCode::OK).await;
            }
            DialogState::Refer(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Notify(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                let _ = handle.reply(StatusCode::MethodNotAllowed).await;
            }
            DialogState::Terminated(id, reason) => {
                match &leg {
                    Leg::Caller(dialog_id) => {
                        edge.on_caller_terminated(&call_id, &reason);
                        edge.inner.dialogs.remove_dialog(dialog_id);
                    }
                    Leg::Agent(agent_id) => {
                        edge.on_agent_terminated(&call_id, agent_id);
                        edge.inner.dialogs.remove_dialog(&id);
                    }
                    Leg::Outbound(party) => {
                        edge.on_outbound_terminated(&call_id, *party);
                        edge.inner.dialogs.remove_dialog(&id);
                    }
                }
                break;
            }
            _ => {}
        }
    }
}

async fn respond_reoffer(
    handle: rsipstack::dialog::dialog::TransactionHandle,
    reply: Result<String, StatusCode>,
) {
    match reply {
        Ok(sdp) => {
            let _ = handle
                .respond(
                    StatusCode::OK,
                    Some(vec![Header::ContentType("application/sdp".into())]),
                    Some(sdp.into_bytes()),
                )
                .await;
        }
        Err(code) => {
            let _ = handle.reply(code).await;
        }
    }
}
