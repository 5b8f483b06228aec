//! What the SIP edge reports, turned into the call machine's inputs (an incoming call routed
//! to its queue first); registrations and refusals for capacity are only logged.

use switchboard_sip::edge::{EdgeEvent, Origin, RegistrationStatus};
use tracing::{info, warn};

use crate::calllog::Write;
use crate::machine::{CallInput, NUMBER_LEG};
use crate::{Switch, now_ms};

impl Switch {
    pub(super) fn on_edge(&mut self, event: EdgeEvent) {
        let input = match event {
            EdgeEvent::Incoming { call_id, from, to, origin, queue: _ }
                if let Some(entry) = self.directory.entry_point_for(&to) =>
            {
                let origin = match origin {
                    Origin::Trunk(n) | Origin::Account(n) => n,
                };
                CallInput::Entered {
                    call_id: call_id.into(),
                    from: self.normalise(&from),
                    to,
                    origin,
                    entry,
                }
            }
            EdgeEvent::Incoming { call_id, from, to, origin, queue } => {
                let Some(queue_id) = self.route(&to, &origin, queue.as_deref()) else {
                    info!(call_id, to, "no queue for the called number: 404");
                    self.edge.release(&call_id, 404);
                    return;
                };
                let origin = match origin {
                    Origin::Trunk(n) | Origin::Account(n) => n,
                };
                let record = self.record_queues.get(&queue_id) != Some(&false);
                let own_sound = self
                    .directory
                    .queues
                    .iter()
                    .any(|q| q.id == queue_id && q.waiting_sound.is_some());
                CallInput::Arrived {
                    call_id: call_id.into(),
                    from: self.normalise(&from),
                    to,
                    queue: queue_id.into(),
                    origin,
                    record,
                    waiting: own_sound || self.waiting_sound.is_some(),
                }
            }
            EdgeEvent::Refused { call_id, from, to, origin, queue, code } => {
                return self.blocked(call_id, from, to, origin, queue, code, now_ms());
            }
            EdgeEvent::Bound { extension, contact, expires_at } => {
                return self.write(Write::Binding { extension, contact, expires_at });
            }
            EdgeEvent::Registration(status) => return log_registration(&status),
            EdgeEvent::CallerGone { call_id } => CallInput::CallerGone { call_id: call_id.into() },
            EdgeEvent::OfferRinging { call_id, agent_id } => {
                CallInput::PhoneRinging { call_id: call_id.into(), agent_id: agent_id.into() }
            }
            EdgeEvent::OfferAnswered { call_id, agent_id } if agent_id.starts_with(NUMBER_LEG) => {
                CallInput::NumberAnswered { call_id: call_id.into(), leg: agent_id }
            }
            EdgeEvent::OfferFailed { call_id, agent_id, code }
                if agent_id.starts_with(NUMBER_LEG) =>
            {
                CallInput::NumberFailed { call_id: call_id.into(), code }
            }
            EdgeEvent::OfferAnswered { call_id, agent_id } => {
                CallInput::PhoneAnswered { call_id: call_id.into(), agent_id: agent_id.into() }
            }
            EdgeEvent::OfferFailed { call_id, agent_id, code } => {
                CallInput::PhoneFailed { call_id: call_id.into(), agent_id: agent_id.into(), code }
            }
            EdgeEvent::Ended { call_id, by } => CallInput::Ended { call_id: call_id.into(), by },
            EdgeEvent::DialingCustomer { call_id } => {
                CallInput::DialingCustomer { call_id: call_id.into() }
            }
            EdgeEvent::OutboundConnected { call_id } => {
                CallInput::OutboundConnected { call_id: call_id.into() }
            }
            EdgeEvent::OutboundFailed { call_id, outcome, code } => {
                CallInput::OutboundFailed { call_id: call_id.into(), outcome, code }
            }
            EdgeEvent::Hold { call_id, by, on } => {
                CallInput::Hold { call_id: call_id.into(), by, on }
            }
            EdgeEvent::Dtmf { call_id, by, digit } => {
                CallInput::Dtmf { call_id: call_id.into(), by, digit }
            }
            EdgeEvent::SoundDone { call_id, id } => {
                CallInput::SoundDone { call_id: call_id.into(), id }
            }
            EdgeEvent::Silence { call_id } => CallInput::Silence { call_id: call_id.into() },
        };
        self.feed_event(input);
    }
}

fn log_registration(status: &RegistrationStatus) {
    match status.state.as_str() {
        "registered" => info!(account = status.name, expires_s = ?status.expires_s, "registered"),
        _ => {
            warn!(account = status.name, state = status.state, code = ?status.last_code, error = ?status.last_error, "registration")
        }
    }
}
