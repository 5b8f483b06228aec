//! Ringing agents: an offer is one outgoing INVITE to an agent's desk phone (or, for a blind
//! transfer to a number, to the PBX), with its socket and the answer it brings; the first
//! offer of a call sends 180 to the caller (unless the caller already hears our sound).
//! Offers ring, are answered (and then connected by [`SipEdge::connect`]), fail, or are
//! cancelled.

use std::sync::Arc;

use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::Uri;
use rsipstack::sip::prelude::HeadersExt;
use switchboard_media::relay::RtpSocket;
use tracing::{debug, warn};

use super::dialogs::{Leg, dialog_states, is_answered};
use super::{EdgeError, EdgeEvent, SipEdge, contact_uri, session_id, sip_err};
use crate::sdp::{self, Answer, SessionDescription};

/// One agent being rung for a call.
pub(super) struct Offer {
    pub(super) dialog: Option<InviteDialog>,
    pub(super) socket: Option<RtpSocket>,
    pub(super) answer: Option<Answer>,
    pub(super) ringing_reported: bool,
}

impl SipEdge {
    /// Rings `agent_id` at `target` (a SIP URI) with call `call_id`. The first offer also sends
    /// 180 Ringing to the caller.
    pub fn offer(&self, call_id: &str, agent_id: &str, target: &str) -> Result<(), EdgeError> {
        self.offer_with(call_id, agent_id, target, None)
    }

    /// Blind transfer to a number: rings `target` (a SIP URI at the PBX) as the leg
    /// `leg_id` of a parked call, answering the PBX's 401/407 with `credential`. It then goes
    /// like an offer to an agent: `OfferRinging`, `OfferAnswered` (connect it with
    /// [`connect`](Self::connect)) or `OfferFailed`.
    pub fn offer_external(
        &self,
        call_id: &str,
        leg_id: &str,
        target: &str,
        credential: Option<(String, String)>,
    ) -> Result<(), EdgeError> {
        self.offer_with(call_id, leg_id, target, credential)
    }

    pub(super) fn offer_with(
        &self,
        call_id: &str,
        agent_id: &str,
        target: &str,
        credential: Option<(String, String)>,
    ) -> Result<(), EdgeError> {
        let target = self
            .resolve_target(target)
            .ok_or_else(|| EdgeError::NotRegistered(target.to_owned()))?;
        let target = target.as_str();
        let callee: Uri =
            Uri::try_from(target).map_err(|_| EdgeError::BadUri(target.to_owned()))?;
        let socket = self.inner.ports.bind()?;
        let (preferred, caller_user, session) = {
            let mut calls =
                self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
            let call =
                calls.get_mut(call_id).ok_or_else(|| EdgeError::NoCall(call_id.to_owned()))?;
            if !call.ringing_sent {
                call.ringing_sent = true;
                call.caller.ringing(None, None).map_err(sip_err)?;
            }
            call.offers.insert(
                agent_id.to_owned(),
                Offer { dialog: None, socket: None, answer: None, ringing_reported: false },
            );
            let from_user = call
                .caller
                .initial_request()
                .from_header()
                .ok()
                .and_then(|f| f.uri().ok())
                .and_then(|u| u.auth.map(|a| a.user));
            (
                call.caller_answer.codec,
                from_user.unwrap_or_else(|| "switchboard".into()),
                call.sdp_version,
            )
        };
        let offer_sdp = sdp::offer_sdp(
            preferred,
            (self.inner.config.advertised_ip, socket.port()),
            session_id(),
            session,
        );
        let contact =
            contact_uri(self.inner.config.advertised_ip, self.inner.local.port(), "switchboard");
        let caller: Uri = Uri::try_from(
            format!(
                "sip:{caller_user}@{}:{}",
                self.inner.config.advertised_ip,
                self.inner.local.port()
            )
            .as_str(),
        )
        .unwrap_or_else(|_| contact.clone());
        let option = InviteOption {
            caller,
            callee,
            contact,
            content_type: Some("application/sdp".into()),
            offer: Some(offer_sdp.into_bytes()),
            credential: credential.map(|(username, password)| {
                rsipstack::dialog::authenticate::Credential {
                    username,
                    password,
                    realm: None,
                    auth_username: None,
                }
            }),
            ..Default::default()
        };
        let (state_tx, state_rx) = self.inner.dialogs.new_dialog_state_channel();
        let (dialog, handle) =
            self.inner.dialogs.do_invite_async(option, state_tx).map_err(sip_err)?;
        {
            let mut calls =
                self.inner.calls.lock().map_err(|_| EdgeError::NoCall(call_id.to_owned()))?;
            match calls.get_mut(call_id).and_then(|c| c.offers.get_mut(agent_id)) {
                Some(offer) => {
                    offer.dialog = Some(dialog.clone());
                    offer.socket = Some(socket);
                }
                None => {
                    // Cancelled (or the call ended) meanwhile.
                    let d = dialog.clone();
                    tokio::spawn(async move {
                        let _ = d.cancel().await;
                    });
                    return Ok(());
                }
            }
        }
        let weak = Arc::downgrade(&self.inner);
        let (call, agent) = (call_id.to_owned(), agent_id.to_owned());
        tokio::spawn(dialog_states(
            weak.clone(),
            call.clone(),
            Leg::Agent(agent.clone()),
            state_rx,
        ));
        tokio::spawn(async move {
            let result = handle.await;
            let Some(inner) = weak.upgrade() else { return };
            let edge = SipEdge { inner };
            match result {
                Ok(Ok((_, Some(resp))))
                    if resp.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful =>
                {
                    edge.offer_answered(&call, &agent, &resp.body, &dialog);
                }
                Ok(Ok((_, resp))) => {
                    edge.offer_failed(&call, &agent, resp.map(|r| r.status_code.code()))
                }
                Ok(Err(e)) => {
                    debug!(error = %e, call, agent, "offer failed");
                    edge.offer_failed(&call, &agent, None);
                }
                Err(e) => {
                    warn!(error = %e, "offer task failed");
                    edge.offer_failed(&call, &agent, None);
                }
            }
        });
        Ok(())
    }

    /// Stops ringing `agent_id` (CANCEL, or BYE if its 200 OK crossed our CANCEL, or if it
    /// answered after the call went to someone else).
    pub fn cancel_offer(&self, call_id: &str, agent_id: &str) {
        let offer =
            self.inner.calls.lock().ok().and_then(|mut calls| {
                calls.get_mut(call_id).and_then(|c| c.offers.remove(agent_id))
            });
        if let Some(offer) = offer {
            end_offer(offer);
        }
    }

    pub(super) fn offer_answered(
        &self,
        call_id: &str,
        agent_id: &str,
        body: &[u8],
        dialog: &InviteDialog,
    ) {
        let answer = std::str::from_utf8(body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .and_then(|sd| sdp::read_answer(&sd).ok());
        let Some(answer) = answer else {
            // An answer we cannot use: hang up that phone, count it as refused.
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.bye().await;
            });
            self.offer_failed(call_id, agent_id, Some(488));
            return;
        };
        let known = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|mut calls| {
                calls
                    .get_mut(call_id)
                    .and_then(|c| c.offers.get_mut(agent_id))
                    .map(|o| o.answer = Some(answer))
            })
            .is_some();
        if known {
            self.emit(EdgeEvent::OfferAnswered {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
            });
        } else {
            // The offer was withdrawn while the 200 OK was on its way.
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.bye().await;
            });
        }
    }

    /// Reports the first provisional response of an offer.
    pub(super) fn offer_ringing(&self, call_id: &str, agent_id: &str) {
        let first = self
            .inner
            .calls
            .lock()
            .ok()
            .and_then(|mut c| {
                c.get_mut(call_id)
                    .and_then(|c| c.offers.get_mut(agent_id))
                    .map(|o| !std::mem::replace(&mut o.ringing_reported, true))
            })
            .unwrap_or(false);
        if first {
            self.emit(EdgeEvent::OfferRinging {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
            });
        }
    }

    pub(super) fn offer_failed(&self, call_id: &str, agent_id: &str, code: Option<u16>) {
        let removed =
            self.inner.calls.lock().ok().and_then(|mut calls| {
                calls.get_mut(call_id).and_then(|c| c.offers.remove(agent_id))
            });
        if removed.is_some() {
            self.emit(EdgeEvent::OfferFailed {
                call_id: call_id.to_owned(),
                agent_id: agent_id.to_owned(),
                code,
            });
        }
    }
}

pub(super) fn end_offer(offer: Offer) {
    if let Some(dialog) = offer.dialog {
        tokio::spawn(async move {
            // CANCEL while ringing; if its 200 OK already came, the stack BYEs it.
            let _ = dialog.cancel().await;
            if is_answered(&dialog) {
                let _ = dialog.bye().await;
            }
        });
    }
}
