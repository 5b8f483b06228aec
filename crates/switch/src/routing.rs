//! Which queue a call goes to: the directory of queues and phones held in memory (loaded
//! beside the switch, swapped in when it arrives), the called number's queue or the
//! trunk's, and the calls refused for capacity before they are queued.

use switchboard_core::acd::QueueConfig;
use switchboard_core::call::EndReason;
use switchboard_core::entity::CallDirection;
use switchboard_sip::edge::Origin;
use switchboard_store::{MissedCall, NewCall};
use tracing::{debug, warn};

use crate::Switch;
use crate::calllog::Write;
use crate::console::Internal;
use crate::directory::Directory;
use crate::protocol::SwitchError;

/// At most this many calls refused for capacity are written to the call log per second;
/// the rest are only counted (`switchboard_calls_blocked_unrecorded_total`).
pub(super) const MAX_BLOCKED_RECORDS_PER_S: u32 = 50;

impl Switch {
    /// Reads the directory again beside the switch; `reply` is answered once a load started
    /// after this request is in use (or has failed), so a call placed right after a change
    /// is routed by it.
    pub(super) fn reload(&mut self, reply: tokio::sync::oneshot::Sender<()>) {
        let number = self.reloads.start(reply);
        let (store, internal) = (self.store.clone(), self.internal.clone());
        tokio::spawn(async move {
            let result = Directory::load(&store).await.map(Box::new).map_err(|e| e.to_string());
            let _ = internal.send(Internal::Directory { number, result });
        });
    }

    /// A directory load finished: an older one than in use is dropped.
    pub(super) fn directory_loaded(&mut self, number: u64, result: Result<Box<Directory>, String>) {
        let (used, answered) = self.reloads.finished(number, result.is_ok());
        match result {
            Ok(directory) if used => self.use_directory(*directory),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot load the queues and phones: the old ones stay"),
        }
        for reply in answered {
            let _ = reply.send(());
        }
    }

    pub(super) fn use_directory(&mut self, directory: Directory) {
        for q in &directory.queues {
            self.record_queues.insert(q.id.clone(), q.record);
            let config = QueueConfig {
                id: q.id.clone().into(),
                strategy: q.strategy,
                ring_timeout_ms: q.ring_timeout_ms,
                max_wait_ms: q.max_wait_ms,
                wrap_up_ms: q.wrap_up_ms,
                skills: q.skills.clone(),
            };
            let settings = crate::machine::QueueSettings {
                record: q.record,
                sound: q.waiting_sound.clone(),
                announce_every_ms: q.announce_every_s * 1000,
                language: q.language.clone(),
                owner_first_ms: q.owner_first_s * 1000,
                vip_field: q.vip_field.clone(),
                schedule_id: q.schedule_id.clone(),
                after_hours: crate::machine::AfterHours::parse(&q.after_hours),
                callback_after_ms: q.callback_after_s * 1000,
                callback_over_wait_ms: q.callback_over_wait_s * 1000,
                callback_attempts: u32::try_from(q.callback_attempts).unwrap_or(3),
                callback_retry_ms: q.callback_retry_s * 1000,
            };
            self.machine.set_queue(config, settings);
        }
        self.machine.set_schedules(directory.schedules.clone());
        // Agents already logged in keep ringing the phone they had; their next login picks
        // up a change of phone.
        self.edge.set_extensions(directory.extensions());
        self.directory = directory;
    }

    /// The queue a call goes to: the called number's, else the fallback's.
    pub(super) fn route(
        &self,
        to: &str,
        origin: &Origin,
        queue_hint: Option<&str>,
    ) -> Option<String> {
        if let Some(q) = self.directory.queue_for(to) {
            return Some(q.to_owned());
        }
        let fallback = self.fallback_queue(origin, queue_hint)?;
        self.directory.queue_for(&fallback).map(str::to_owned)
    }

    /// The queue (its number) for a call whose called number matches none: the trunk's or
    /// account's own (`queue_hint`), else the trunk's default from the settings.
    pub(super) fn fallback_queue(
        &self,
        origin: &Origin,
        queue_hint: Option<&str>,
    ) -> Option<String> {
        queue_hint.map(str::to_owned).or_else(|| match origin {
            Origin::Trunk(name) => self.default_queues.get(name).cloned(),
            Origin::Account(_) => None,
        })
    }

    /// The target the edge rings for an agent: their fixed URI, or `ext:NNN`.
    pub(super) fn agent_target(&self, user_id: &str) -> Result<String, SwitchError> {
        self.directory.phone_of(user_id).ok_or(SwitchError::NoPhone)
    }

    /// A call the edge refused for capacity: logged as a call that ended at once as
    /// `blocked` (counted as offered and blocked in the statistics), and a callback for the
    /// number. Its queue is looked up off the switch task: a flood of refusals must not hold
    /// up the calls being served.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn blocked(
        &mut self,
        call_id: String,
        from: String,
        to: String,
        origin: Origin,
        queue_hint: Option<String>,
        code: u16,
        now: i64,
    ) {
        let second = now.div_euclid(1000);
        if self.blocked_this_second.0 != second {
            self.blocked_this_second = (second, 0);
        }
        self.blocked_this_second.1 += 1;
        if self.blocked_this_second.1 > MAX_BLOCKED_RECORDS_PER_S {
            if self.blocked_this_second.1 == MAX_BLOCKED_RECORDS_PER_S + 1 {
                warn!(
                    "more than {MAX_BLOCKED_RECORDS_PER_S} calls refused for capacity this second: only counted"
                );
            }
            metrics::counter!("switchboard_calls_blocked_unrecorded_total").increment(1);
            return;
        }
        let from = self.normalise(&from);
        let fallback = self.fallback_queue(&origin, queue_hint.as_deref());
        let origin = match origin {
            Origin::Trunk(n) | Origin::Account(n) => n,
        };
        let (store, writes) = (self.store.clone(), self.writes.clone());
        tokio::spawn(async move {
            let mut queue_id = store.queue_for_number(&to).await.ok().flatten().map(|q| q.id);
            if queue_id.is_none()
                && let Some(fallback) = fallback
            {
                queue_id = store.queue_for_number(&fallback).await.ok().flatten().map(|q| q.id);
            }
            debug!(call_id, from, to, code, "call refused for capacity: logged as blocked");
            let call = NewCall {
                direction: CallDirection::Inbound,
                from_e164: from.clone(),
                to_e164: to,
                queue_id: queue_id.clone(),
                offered_at: now,
                id: Some(call_id.clone()),
                origin: Some(origin),
                agent_id: None,
                task_id: None,
            };
            writes.send(Write::Create(call));
            writes.send(Write::SipCode { call_id: call_id.clone(), code: i64::from(code) });
            writes.send(Write::Ended {
                call_id: call_id.clone(),
                at: now,
                reason: EndReason::Blocked,
                hold_ms: 0,
            });
            if !from.is_empty() {
                writes.send(Write::Missed(MissedCall {
                    call_id,
                    e164: from,
                    queue_id,
                    at: now,
                    reason: EndReason::Blocked,
                    not_before: None,
                }));
            }
        });
    }
}
