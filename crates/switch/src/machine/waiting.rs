//! A queued caller's wait: the queue's waiting sound, and every so often their position in
//! the queue and the expected wait, spoken over it. The expected wait is the queue's typical
//! wait of answered calls (each answer moves it a quarter of the way), announced in whole
//! minutes ("less than a minute" below one); none is announced before the queue's first
//! answer.

use switchboard_core::{CallId, EpochMs};
use switchboard_media::prompt::{MAX_MINUTES, MAX_POSITION};

use super::{CallMachine, Effect};

impl CallMachine {
    /// The call entered its queue now.
    pub(super) fn queued(&mut self, call_id: &CallId, now: EpochMs) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.queued_at = Some(now);
        let every =
            call.queue.as_ref().and_then(|q| self.queues.get(q)).map_or(0, |q| q.announce_every_ms);
        call.announce_at = (every > 0).then_some(now + every);
        self.schedule_offer(call_id, now);
    }

    /// Announcements that are due.
    pub(super) fn announcements(&mut self, now: EpochMs, out: &mut Vec<Effect>) {
        let mut due: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.announce_at.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        due.sort();
        for call_id in due {
            let Some(call) = self.calls.get_mut(&call_id) else { continue };
            let Some(queue) = call.queue.clone() else {
                call.announce_at = None;
                continue;
            };
            let settings = self.queues.get(&queue).cloned().unwrap_or_default();
            call.announce_at =
                (settings.announce_every_ms > 0).then_some(now + settings.announce_every_ms);
            if call.agent.is_some() {
                call.announce_at = None;
                continue;
            }
            let waiting = self.acd.waiting(&queue);
            let Some(index) = waiting.iter().position(|(id, _)| *id == call_id) else { continue };
            let mut prompts = vec![position_prompt(index + 1)];
            if let Some(typical) = self.typical_wait.get(&queue) {
                prompts.push(wait_prompt(*typical));
            }
            out.push(Effect::Announce {
                call_id,
                prompts,
                language: settings.language,
                sound: settings.sound,
            });
        }
    }
}

/// "You are number N in the queue", or "more than ..." past the phrases recorded.
pub(super) fn position_prompt(position: usize) -> String {
    if position <= MAX_POSITION {
        format!("builtin:position_{position}")
    } else {
        "builtin:position_more".into()
    }
}

/// "The expected wait is N minutes" (rounded up), "less than a minute", or "more than ...".
pub(super) fn wait_prompt(ms: i64) -> String {
    if ms < 60_000 {
        return "builtin:wait_less".into();
    }
    let minutes = u64::try_from(ms).unwrap_or(u64::MAX).div_ceil(60_000);
    if minutes <= MAX_MINUTES {
        format!("builtin:wait_{minutes}")
    } else {
        "builtin:wait_more".into()
    }
}
