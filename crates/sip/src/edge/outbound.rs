//! Click-to-call: ring the agent's phone first; when the agent answers, call the customer
//! through the PBX (answering its 401/407 challenges); when the customer answers, bridge the
//! two. Each step's failure ends the call with an outcome the call log keeps. A browser agent
//! needs no ringing: their softphone's packet port is the agent's leg from the start.

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{StatusCodeKind, Uri};
use serde::Serialize;
use switchboard_media::relay::{self, BridgeOptions, LegMedia, PT_PCMA, PacketPort, RtpSocket};

use super::{
    Connected, EdgeError, EdgeEvent, EndedBy, Inner, Leg, Party, SipEdge, contact_uri,
    dialog_states, leg_media, media_sink, session_id,
};
use crate::sdp::{self, Answer, Codec, SessionDescription};

/// Where and how to call the customer.
#[derive(Debug, Clone)]
pub struct DialTarget {
    /// Request-URI for the customer, e.g. `sip:79161234567@pbx.example.com:5060`.
    pub uri: String,
    /// Caller ID (the From user).
    pub caller_id: String,
    /// Digest credentials for the PBX's 401/407 challenges: (user, password).
    pub credential: Option<(String, String)>,
    /// How long the customer may ring.
    pub ring_timeout: Duration,
}

/// How a click-to-call that did not connect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundOutcome {
    /// The agent's phone did not answer or refused.
    AgentUnreachable,
    /// The customer was busy (486, 600).
    Busy,
    /// The customer did not answer (ring timeout, 408, 480, 487).
    NoAnswer,
    /// The customer declined (603).
    Declined,
    /// Any other failure (the SIP code says which).
    Failed,
    /// The agent hung up before the customer answered.
    AgentCancelled,
}

impl OutboundOutcome {
    /// The call log's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboundOutcome::AgentUnreachable => "agent_unreachable",
            OutboundOutcome::Busy => "busy",
            OutboundOutcome::NoAnswer => "no_answer",
            OutboundOutcome::Declined => "declined",
            OutboundOutcome::Failed => "failed",
            OutboundOutcome::AgentCancelled => "agent_cancelled",
        }
    }

    fn from_code(code: Option<u16>) -> OutboundOutcome {
        match code {
            Some(486 | 600) => OutboundOutcome::Busy,
            Some(408 | 480 | 487) | None => OutboundOutcome::NoAnswer,
            Some(603) => OutboundOutcome::Declined,
            Some(_) => OutboundOutcome::Failed,
        }
    }
}

pub(super) struct Outbound {
    agent_id: String,
    target: DialTarget,
    agent: Option<InviteDialog>,
    agent_socket: Option<RtpSocket>,
    agent_answer: Option<Answer>,
    /// A browser agent's leg (instead of a phone's socket, dialog and answer).
    agent_port: Option<(PacketPort, LegMedia)>,
    customer: Option<InviteDialog>,
    customer_socket: Option<RtpSocket>,
    pub(super) connected: Option<Connected>,
    sdp_version: u64,
}

impl SipEdge {
    /// Starts a click-to-call: rings `agent_uri` (the agent's phone) for call `call_id`.
    pub fn dial(
        &self,
        call_id: &str,
        agent_id: &str,
        agent_uri: &str,
        target: DialTarget,
    ) -> Result<(), EdgeError> {
        let agent_uri = self
            .resolve_target(agent_uri)
            .ok_or_else(|| EdgeError::NotRegistered(agent_uri.to_owned()))?;
        let agent_uri = agent_uri.as_str();
        let callee =
            Uri::try_from(agent_uri).map_err(|_| EdgeError::BadUri(agent_uri.to_owned()))?;
        Uri::try_from(target.uri.as_str()).map_err(|_| EdgeError::BadUri(target.uri.clone()))?;
        let socket = self.inner.ports.bind()?;
        let display = target.caller_id.clone();
        let offer = sdp::offer_sdp(
            Codec::Pcmu,
            (self.inner.config.advertised_ip, socket.port()),
            session_id(),
            1,
        );
        if let Ok(mut out) = self.inner.outbound.lock() {
            out.insert(
                call_id.to_owned(),
                Outbound {
                    agent_id: agent_id.to_owned(),
                    target,
                    agent: None,
                    agent_socket: Some(socket),
                    agent_answer: None,
                    agent_port: None,
                    customer: None,
                    customer_socket: None,
                    connected: None,
                    sdp_version: 1,
                },
            );
        }
        // The agent's phone shows the customer's number as the caller.
        let from_user =
            uri_user(agent_uri_customer(&self.inner, call_id).as_deref().unwrap_or(&display));
        self.invite(call_id, Party::Agent, callee, &from_user, offer, None);
        Ok(())
    }

    /// Starts a click-to-call for a browser agent: calls the customer at once; their softphone
    /// (`port`, negotiated as `media`) is bridged when the customer answers.
    pub fn dial_browser(
        &self,
        call_id: &str,
        agent_id: &str,
        port: PacketPort,
        media: LegMedia,
        target: DialTarget,
    ) -> Result<(), EdgeError> {
        Uri::try_from(target.uri.as_str()).map_err(|_| EdgeError::BadUri(target.uri.clone()))?;
        let codec = if media.audio_pt == PT_PCMA { Codec::Pcma } else { Codec::Pcmu };
        if let Ok(mut out) = self.inner.outbound.lock() {
            out.insert(
                call_id.to_owned(),
                Outbound {
                    agent_id: agent_id.to_owned(),
                    target,
                    agent: None,
                    agent_socket: None,
                    agent_answer: None,
                    agent_port: Some((port, media)),
                    customer: None,
                    customer_socket: None,
                    connected: None,
                    sdp_version: 1,
                },
            );
        }
        self.call_customer(call_id, codec);
        Ok(())
    }

    /// Ends a browser agent's click-to-call on their word: a connected call ends (`Ended`),
    /// one still ringing the customer is cancelled (`OutboundFailed`, agent cancelled).
    /// Returns whether the agent had such a call.
    pub(super) fn hangup_outbound_by_agent(&self, call_id: &str, agent_id: &str) -> bool {
        let Some(out) = self.inner.outbound.lock().ok().and_then(|mut o| {
            let ours = o.get(call_id).is_some_and(|x| x.agent_id == agent_id);
            if ours { o.remove(call_id) } else { None }
        }) else {
            return false;
        };
        let connected = out.connected.is_some();
        end_outbound(out);
        let call_id = call_id.to_owned();
        self.emit(if connected {
            EdgeEvent::Ended { call_id, by: EndedBy::Agent }
        } else {
            EdgeEvent::OutboundFailed {
                call_id,
                outcome: OutboundOutcome::AgentCancelled,
                code: None,
            }
        });
        true
    }

    /// Ends a click-to-call from our side (BYE or CANCEL on both legs).
    pub fn hangup_outbound(&self, call_id: &str) {
        if let Some(out) = self.inner.outbound.lock().ok().and_then(|mut o| o.remove(call_id)) {
            end_outbound(out);
        }
    }

    fn invite(
        &self,
        call_id: &str,
        party: Party,
        callee: Uri,
        from_user: &str,
        offer: String,
        credential: Option<Credential>,
    ) {
        let ip = self.inner.config.advertised_ip;
        let port = self.inner.local.port();
        let contact = contact_uri(ip, port, "switchboard");
        let caller = Uri::try_from(format!("sip:{from_user}@{ip}:{port}").as_str())
            .unwrap_or_else(|_| contact.clone());
        let option = InviteOption {
            caller,
            callee,
            contact,
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            credential,
            ..Default::default()
        };
        let (state_tx, state_rx) = self.inner.dialogs.new_dialog_state_channel();
        let (dialog, handle) = match self.inner.dialogs.do_invite_async(option, state_tx) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(call_id, error = %e, "cannot send the INVITE");
                self.outbound_failed(call_id, party, None);
                return;
            }
        };
        let known = self.inner.outbound.lock().ok().and_then(|mut o| {
            o.get_mut(call_id).map(|out| match party {
                Party::Agent => out.agent = Some(dialog.clone()),
                Party::Caller => out.customer = Some(dialog.clone()),
            })
        });
        if known.is_none() {
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.cancel().await;
            });
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(dialog_states(
            weak.clone(),
            call_id.to_owned(),
            Leg::Outbound(party),
            state_rx,
        ));
        let call = call_id.to_owned();
        let ring_timeout = self
            .inner
            .outbound
            .lock()
            .ok()
            .and_then(|o| o.get(call_id).map(|x| x.target.ring_timeout))
            .unwrap_or(Duration::from_secs(45));
        tokio::spawn(async move {
            let result = match tokio::time::timeout(ring_timeout, handle).await {
                Ok(r) => Some(r),
                Err(_) => {
                    // Rang too long: CANCEL, then report no answer.
                    let _ = dialog.cancel().await;
                    None
                }
            };
            let Some(inner) = weak.upgrade() else { return };
            let edge = SipEdge { inner };
            match result {
                Some(Ok(Ok((_, Some(resp)))))
                    if resp.status_code.kind() == StatusCodeKind::Successful =>
                {
                    edge.outbound_answered(&call, party, &resp.body, &dialog)
                }
                Some(Ok(Ok((_, resp)))) => {
                    edge.outbound_failed(&call, party, resp.map(|r| r.status_code.code()))
                }
                Some(Ok(Err(e))) => {
                    tracing::debug!(call, error = %e, "outbound INVITE failed");
                    edge.outbound_failed(&call, party, None);
                }
                Some(Err(_)) | None => edge.outbound_failed(&call, party, None),
            }
        });
    }

    fn outbound_answered(&self, call_id: &str, party: Party, body: &[u8], dialog: &InviteDialog) {
        let answer = std::str::from_utf8(body)
            .ok()
            .and_then(|b| SessionDescription::parse(b).ok())
            .and_then(|sd| sdp::read_answer(&sd).ok());
        let Some(answer) = answer else {
            let d = dialog.clone();
            tokio::spawn(async move {
                let _ = d.bye().await;
            });
            self.outbound_failed(call_id, party, Some(488));
            return;
        };
        match party {
            Party::Agent => {
                // Now the customer, preferring the law the agent's phone chose.
                let known = self.inner.outbound.lock().ok().and_then(|mut o| {
                    o.get_mut(call_id).map(|out| out.agent_answer = Some(answer.clone()))
                });
                if known.is_none() {
                    let d = dialog.clone();
                    tokio::spawn(async move {
                        let _ = d.bye().await;
                    });
                    return;
                }
                self.call_customer(call_id, answer.codec);
            }
            Party::Caller => {
                let sink = media_sink(Arc::downgrade(&self.inner), call_id.to_owned());
                let dead_peer = self.inner.config.dead_peer;
                let connected = self.inner.outbound.lock().ok().and_then(|mut o| {
                    let out = o.get_mut(call_id)?;
                    let customer_socket = out.customer_socket.take()?;
                    let caller_port = customer_socket.port();
                    let (bridge, agent_dialog, agent_port) = match out.agent_port.take() {
                        Some((port, media)) => (
                            relay::bridge(
                                (customer_socket, leg_media(&answer)),
                                (port, media),
                                BridgeOptions { dead_peer },
                                sink,
                            ),
                            None,
                            0,
                        ),
                        None => {
                            let (agent_socket, agent_answer, agent) = (
                                out.agent_socket.take()?,
                                out.agent_answer.clone()?,
                                out.agent.clone()?,
                            );
                            let agent_port = agent_socket.port();
                            (
                                relay::bridge(
                                    (customer_socket, leg_media(&answer)),
                                    (agent_socket, leg_media(&agent_answer)),
                                    BridgeOptions { dead_peer },
                                    sink,
                                ),
                                Some(agent),
                                agent_port,
                            )
                        }
                    };
                    out.connected = Some(Connected {
                        agent_id: out.agent_id.clone(),
                        agent_dialog,
                        bridge,
                        caller_on_hold: false,
                        agent_on_hold: false,
                        caller_port,
                        agent_port,
                    });
                    Some(())
                });
                if connected.is_some() {
                    self.emit(EdgeEvent::OutboundConnected { call_id: call_id.to_owned() });
                } else {
                    let d = dialog.clone();
                    tokio::spawn(async move {
                        let _ = d.bye().await;
                    });
                }
            }
        }
    }

    /// Calls the customer of click-to-call `call_id`, offering `codec` first.
    fn call_customer(&self, call_id: &str, codec: Codec) {
        let Some(target) = self
            .inner
            .outbound
            .lock()
            .ok()
            .and_then(|o| o.get(call_id).map(|out| out.target.clone()))
        else {
            return;
        };
        let socket = match self.inner.ports.bind() {
            Ok(s) => s,
            Err(_) => {
                self.outbound_failed(call_id, Party::Caller, Some(503));
                return;
            }
        };
        let offer = sdp::offer_sdp(
            codec,
            (self.inner.config.advertised_ip, socket.port()),
            session_id(),
            1,
        );
        if let Ok(mut o) = self.inner.outbound.lock()
            && let Some(out) = o.get_mut(call_id)
        {
            out.customer_socket = Some(socket);
        }
        self.emit(EdgeEvent::DialingCustomer { call_id: call_id.to_owned() });
        let credential = target.credential.map(|(username, password)| Credential {
            username,
            password,
            realm: None,
            auth_username: None,
        });
        match Uri::try_from(target.uri.as_str()) {
            Ok(uri) => {
                self.invite(call_id, Party::Caller, uri, &target.caller_id, offer, credential)
            }
            Err(_) => self.outbound_failed(call_id, Party::Caller, None),
        }
    }

    fn outbound_failed(&self, call_id: &str, party: Party, code: Option<u16>) {
        let Some(out) = self.inner.outbound.lock().ok().and_then(|mut o| o.remove(call_id)) else {
            return;
        };
        let outcome = match party {
            Party::Agent => OutboundOutcome::AgentUnreachable,
            Party::Caller => OutboundOutcome::from_code(code),
        };
        end_outbound(out);
        self.emit(EdgeEvent::OutboundFailed { call_id: call_id.to_owned(), outcome, code });
    }

    /// One leg's dialog ended: if it was the remote side hanging up, end the other leg.
    ///
    /// A leg whose INVITE has not been answered is left to the INVITE's own result (which
    /// carries the SIP code); only the agent hanging up while the customer rings, or either
    /// side of a connected call, is handled here.
    pub(super) fn on_outbound_terminated(&self, call_id: &str, party: Party) {
        let out = self.inner.outbound.lock().ok().and_then(|mut o| {
            let x = o.get(call_id)?;
            let ours = x.connected.is_some() || (party == Party::Agent && x.agent_answer.is_some());
            if ours { o.remove(call_id) } else { None }
        });
        let Some(out) = out else { return };
        let connected = out.connected.is_some();
        end_outbound(out);
        if connected {
            let by = if party == Party::Agent { EndedBy::Agent } else { EndedBy::Caller };
            self.emit(EdgeEvent::Ended { call_id: call_id.to_owned(), by });
        } else {
            self.emit(EdgeEvent::OutboundFailed {
                call_id: call_id.to_owned(),
                outcome: OutboundOutcome::AgentCancelled,
                code: None,
            });
        }
    }

    /// Answers a re-INVITE on a connected click-to-call (see `on_reoffer`).
    pub(super) fn outbound_reoffer<R>(
        &self,
        call_id: &str,
        update: impl FnOnce(&mut Connected, &mut u64) -> R,
    ) -> Result<R, rsipstack::sip::StatusCode> {
        let mut out = self
            .inner
            .outbound
            .lock()
            .map_err(|_| rsipstack::sip::StatusCode::ServerInternalError)?;
        let call =
            out.get_mut(call_id).ok_or(rsipstack::sip::StatusCode::CallTransactionDoesNotExist)?;
        let connected =
            call.connected.as_mut().ok_or(rsipstack::sip::StatusCode::RequestPending)?;
        Ok(update(connected, &mut call.sdp_version))
    }
}

/// The customer's number for display on the agent's phone: the user part of the target URI.
fn agent_uri_customer(inner: &Inner, call_id: &str) -> Option<String> {
    inner.outbound.lock().ok()?.get(call_id).map(|o| o.target.uri.clone())
}

fn uri_user(uri_or_user: &str) -> String {
    let rest = uri_or_user
        .strip_prefix("sip:")
        .or_else(|| uri_or_user.strip_prefix("sips:"))
        .unwrap_or(uri_or_user);
    let user = rest.split('@').next().unwrap_or(rest);
    let clean: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
        .collect();
    if clean.is_empty() { "switchboard".into() } else { clean }
}

/// Ends both legs of a click-to-call already removed from the table.
pub(super) fn end_outbound(out: Outbound) {
    if let Some(c) = out.connected {
        c.bridge.stop();
    }
    for dialog in [out.agent, out.customer].into_iter().flatten() {
        tokio::spawn(async move {
            if super::is_answered(&dialog) {
                let _ = dialog.bye().await;
            } else {
                let _ = dialog.cancel().await;
            }
        });
    }
}
