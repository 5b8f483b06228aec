//! Routing by what the CRM knows: a queue that rings a caller's responsible manager first, or
//! serves VIP callers first, waits for the caller's card (the contact lookup the agents' card
//! needs anyway) before the call enters the ACD, for at most [`CARD_WAIT_MS`]; the caller
//! hears the waiting sound meanwhile. The owner is the first matching contact's, else its
//! first open deal's; the ACD then offers the call to them alone for the queue's
//! `owner_first_ms` (or until they let it ring out), and a VIP's call before older ones.

use switchboard_core::acd::Input;
use switchboard_core::call::EndReason;
use switchboard_core::{AgentId, CallId, EpochMs, QueueId};
use tracing::warn;

use super::{CallMachine, Effect, QueueSettings, ended};
use crate::card::ClientCard;

/// The longest a call waits for its card before it is queued without it.
pub(super) const CARD_WAIT_MS: i64 = 1_000;

/// A VIP's priority over ordinary callers.
const VIP_PRIORITY: i64 = 10;

impl CallMachine {
    /// Puts the call in `queue`: at once, or once its card says who the caller is, when the
    /// queue routes by the CRM.
    pub(super) fn enqueue(
        &mut self,
        call_id: &CallId,
        queue: QueueId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let settings = self.queues.get(&queue).cloned().unwrap_or_default();
        let by_crm = settings.owner_first_ms > 0 || settings.vip_field.is_some();
        let Some(call) = self.calls.get_mut(call_id) else { return };
        if let Some(chosen) = call.preferred.take() {
            // The flow chose the agent: no need to wait for the card.
            let (priority, _) = routing(call.card.as_ref(), &settings, now);
            return self.arrive_in_acd(call_id, queue, priority, Some(chosen), now, out);
        }
        if by_crm && call.card.is_none() {
            call.awaiting_card = Some((queue, now + CARD_WAIT_MS));
            return;
        }
        let (priority, preferred) = routing(call.card.as_ref(), &settings, now);
        self.arrive_in_acd(call_id, queue, priority, preferred, now, out);
    }

    /// The card came: a call waiting for it enters its queue.
    pub(super) fn card_for_routing(
        &mut self,
        call_id: &CallId,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        let Some((queue, _)) = call.awaiting_card.take() else { return };
        let settings = self.queues.get(&queue).cloned().unwrap_or_default();
        let (priority, preferred) = routing(call.card.as_ref(), &settings, now);
        self.arrive_in_acd(call_id, queue, priority, preferred, now, out);
    }

    /// Cards that did not come in time: those calls are queued as anyone's.
    pub(super) fn cards_late(&mut self, now: EpochMs, out: &mut Vec<Effect>) {
        let mut due: Vec<(CallId, QueueId)> = self
            .calls
            .iter_mut()
            .filter(|(_, c)| c.awaiting_card.as_ref().is_some_and(|(_, at)| *at <= now))
            .filter_map(|(id, c)| c.awaiting_card.take().map(|(q, _)| (id.clone(), q)))
            .collect();
        due.sort();
        for (call_id, queue) in due {
            warn!(%call_id, "the caller's card came too late: queued without the CRM's routing");
            self.arrive_in_acd(&call_id, queue, 0, None, now, out);
        }
    }

    fn arrive_in_acd(
        &mut self,
        call_id: &CallId,
        queue: QueueId,
        priority: i64,
        preferred: Option<(AgentId, EpochMs)>,
        now: EpochMs,
        out: &mut Vec<Effect>,
    ) {
        if priority > 0 || preferred.is_some() {
            let detail = serde_json::json!({
                "priority": priority,
                "owner_first": preferred.as_ref().map(|(agent, _)| agent.to_string()),
            });
            out.push(super::event(
                call_id,
                switchboard_core::call::CallEventKind::Routed,
                None,
                detail,
                now,
            ));
        }
        let input =
            Input::CallArrived { call_id: call_id.clone(), queue_id: queue, priority, preferred };
        if let Err(e) = self.acd_try(input, now, out) {
            warn!(error = %e, %call_id, "cannot queue the call");
            self.remove(call_id, out);
            out.push(Effect::Release { call_id: call_id.clone(), code: 500 });
            out.push(ended(call_id, now, EndReason::Failed, 0));
        }
    }
}

/// The call's priority and the agent it is kept for, from its card and the queue's rules.
pub(super) fn routing(
    card: Option<&ClientCard>,
    settings: &QueueSettings,
    now: EpochMs,
) -> (i64, Option<(AgentId, EpochMs)>) {
    let Some(contact) = card.and_then(|c| c.matches.first()) else { return (0, None) };
    let vip = settings
        .vip_field
        .as_ref()
        .and_then(|field| contact.contact.custom.get(field))
        .is_some_and(is_set);
    let owner = contact
        .contact
        .owner_id
        .clone()
        .or_else(|| contact.open_deals.iter().find_map(|d| d.owner_id.clone()));
    let preferred = owner
        .filter(|_| settings.owner_first_ms > 0)
        .map(|owner| (AgentId::from(owner), now + settings.owner_first_ms));
    (if vip { VIP_PRIORITY } else { 0 }, preferred)
}

/// Whether a custom field's value counts as set (a flag that is on).
fn is_set(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        serde_json::Value::String(s) => {
            let s = s.trim().to_lowercase();
            !s.is_empty() && !matches!(s.as_str(), "no" | "нет" | "false" | "0")
        }
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}
