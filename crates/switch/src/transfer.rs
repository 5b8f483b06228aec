//! Blind transfer to a phone number: the call leaves the call center. The caller is parked on
//! their bridge, the number is rung through the PBX at `sip.outbound.target` as a leg named
//! `number:+7...` (the edge's offer machinery: ringing, answer, failure), and when it answers
//! the caller is bridged to it. If it does not answer in `sip.outbound.ring_timeout_s`, or
//! refuses, the caller is released and the call logged as `transfer_failed`.

use crate::protocol::AgentMessage;
use serde_json::json;
use switchboard_core::PhoneNumber;
use switchboard_core::acd::{Input, TransferTo};
use tracing::warn;

use super::console::Internal;
use super::{EndReason, Kind, Switch, Write, now_ms};

/// The leg id of a transfer target number.
pub(super) const NUMBER_LEG: &str = "number:";

impl Switch {
    pub(super) fn transfer_to_number(&mut self, user_id: &str, call_id: &str, number: &str) {
        let Some(config) = self.outbound.clone() else {
            self.tell(
                user_id,
                AgentMessage::Error {
                    message: "transfer to a number needs sip.outbound.target".into(),
                },
            );
            return;
        };
        let Ok(number) = PhoneNumber::parse(number, self.region) else {
            self.tell(
                user_id,
                AgentMessage::Error { message: format!("not a phone number: {number}") },
            );
            return;
        };
        let e164 = number.e164().to_owned();
        match self.cc.handle(
            Input::Transfer {
                call_id: call_id.to_owned().into(),
                agent_id: user_id.to_owned().into(),
                to: TransferTo::External,
            },
            now_ms(),
        ) {
            Ok(actions) => {
                self.event(call_id, Kind::Transferred, Some(user_id), json!({"to_number": e164}));
                self.apply(actions);
            }
            Err(e) => {
                self.tell(
                    user_id,
                    AgentMessage::Error { message: format!("cannot transfer: {e}") },
                );
                return;
            }
        }
        let leg = format!("{NUMBER_LEG}{e164}");
        let uri = config
            .target
            .replace("{digits}", e164.trim_start_matches('+'))
            .replace("{e164}", &e164);
        if let Some(info) = self.calls.get_mut(call_id) {
            info.external = Some(leg.clone());
        }
        if let Err(e) = self.edge.offer_external(call_id, &leg, &uri, config.credential.clone()) {
            warn!(call_id, error = %e, "cannot ring the transfer target");
            self.external_failed(call_id, None);
            return;
        }
        let internal = self.internal.clone();
        let (call, timeout) = (call_id.to_owned(), config.ring_timeout);
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = internal.send(Internal::TransferTimeout { call_id: call, leg });
        });
    }

    /// The number answered: bridge the caller to it.
    pub(super) fn external_answered(&mut self, call_id: &str, leg: &str) {
        match self.edge.connect(call_id, leg) {
            Ok(()) => {
                if let Some(info) = self.calls.get_mut(call_id) {
                    info.external_answered = true;
                }
                self.event(call_id, Kind::TransferAnswered, None, json!({"leg": leg}));
            }
            Err(e) => {
                warn!(call_id, error = %e, "cannot connect the transfer target");
                self.edge.cancel_offer(call_id, leg);
                self.external_failed(call_id, None);
            }
        }
    }

    /// The number refused or did not answer: the caller is released.
    pub(super) fn external_failed(&mut self, call_id: &str, code: Option<u16>) {
        if self.remove_call(call_id).is_none() {
            return;
        }
        self.edge.release(call_id, 480);
        self.event(call_id, Kind::TransferFailed, None, json!({"sip_code": code}));
        self.write(Write::Ended {
            call_id: call_id.to_owned(),
            at: now_ms(),
            reason: EndReason::TransferFailed,
            hold_ms: 0,
        });
    }

    pub(super) fn transfer_timeout(&mut self, call_id: &str, leg: &str) {
        let pending = self
            .calls
            .get(call_id)
            .is_some_and(|i| i.external.as_deref() == Some(leg) && !i.external_answered);
        if pending {
            self.edge.cancel_offer(call_id, leg);
            self.external_failed(call_id, Some(408));
        }
    }
}
