//! Blind transfer to a phone number: the call leaves the call center. The caller is parked on
//! their bridge, the number is rung through the PBX at `sip.outbound.target` as a leg named
//! `number:+7...` (the edge's offer machinery: ringing, answer, failure), and when it answers
//! the caller is bridged to it. If it does not answer in `sip.outbound.ring_timeout_s`, or
//! refuses, the caller is released and the call logged as `transfer_failed` (the call
//! machine decides all of that; here the request is checked and the number's URI written).

use switchboard_core::PhoneNumber;

use crate::Switch;
use crate::machine::{CallInput, Transfer};
use crate::protocol::AgentMessage;

impl Switch {
    pub(super) fn transfer_to_number(&mut self, user_id: &str, call_id: &str, number: &str) {
        let Some(config) = &self.outbound else {
            let message = "transfer to a number needs sip.outbound.target".into();
            self.tell(user_id, AgentMessage::Error { message });
            return;
        };
        let ring_ms = i64::try_from(config.ring_timeout.as_millis()).unwrap_or(i64::MAX);
        let Ok(number) = PhoneNumber::parse(number, self.region) else {
            let message = format!("not a phone number: {number}");
            self.tell(user_id, AgentMessage::Error { message });
            return;
        };
        let to = Transfer::Number { e164: number.e164().to_owned(), ring_ms };
        self.feed_event(CallInput::Transfer {
            call_id: call_id.into(),
            agent_id: user_id.into(),
            to,
        });
    }
}

/// The URI a number is rung at through the PBX: `{digits}` (without the `+`) or `{e164}` in
/// the configured target replaced.
pub(super) fn target_uri(target: &str, e164: &str) -> String {
    target.replace("{digits}", e164.trim_start_matches('+')).replace("{e164}", e164)
}
