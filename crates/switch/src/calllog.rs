//! The call log's writer: one task applying the switch's writes in order (so a slow database
//! never holds up signalling), including the callback task of every missed call.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::callback::CallbackPolicy;
use switchboard_media::recording::Finished;
use switchboard_store::{MissedCall, NewCall, Store, StoreError};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::now_ms;

/// A change to the call log (and the audit of live listening), applied in order.
#[derive(Debug)]
pub(super) enum Write {
    Create(NewCall),
    Event {
        call_id: String,
        at: i64,
        kind: Kind,
        agent_id: Option<String>,
        detail: Value,
    },
    Answered {
        call_id: String,
        agent_id: String,
        at: i64,
    },
    TransferredTo {
        call_id: String,
        agent_id: String,
        at: i64,
    },
    Queued {
        call_id: String,
        queue_id: String,
        at: i64,
    },
    Ended {
        call_id: String,
        at: i64,
        reason: EndReason,
        hold_ms: i64,
    },
    SipCode {
        call_id: String,
        code: i64,
    },
    RecordingStarted {
        call_id: String,
        path: String,
        at: i64,
    },
    RecordingDone {
        call_id: String,
        finished: Finished,
    },
    WrapUp {
        call_id: String,
        ms: i64,
    },
    Missed(MissedCall),
    /// A callback's outbound call belongs to the queued call's task and contact.
    CallbackLeg {
        call_id: String,
        of: String,
    },
    /// What came of a callback, on its task (`done`: completed).
    CallbackResult {
        call_id: String,
        done: bool,
        result: String,
    },
    AgentState {
        agent_id: String,
        state: &'static str,
        reason: Option<String>,
        at: i64,
    },
    Listened {
        user_id: String,
        call_id: String,
        action: &'static str,
        detail: Value,
    },
    Binding {
        extension: String,
        contact: Option<String>,
        expires_at: i64,
    },
}

/// Writes waiting for the database beyond which new ones are dropped and counted
/// (`switchboard_calllog_dropped_total`): about 15 minutes of a 50-calls-a-second soak's
/// writes while the database is away, a few hundred MB at most.
pub(super) const MAX_BACKLOG: usize = 500_000;

/// The switch's end of the call log: sends writes to the writer task in order and counts
/// how many wait (`switchboard_calllog_backlog`), so a long database outage costs a bounded
/// amount of memory.
#[derive(Debug, Clone)]
pub(super) struct LogSender {
    tx: mpsc::UnboundedSender<Write>,
    backlog: Arc<AtomicUsize>,
    /// Since when (ms since the epoch) the writer has been waiting for the database; 0: it
    /// is not.
    unavailable_since: Arc<AtomicI64>,
}

impl LogSender {
    /// The sender, and the writer task's future (applies the writes until every sender is
    /// gone).
    pub(super) fn start(
        store: Store,
        policy: CallbackPolicy,
    ) -> (LogSender, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(AtomicUsize::new(0));
        let unavailable_since = Arc::new(AtomicI64::new(0));
        let writer = write_log(store, rx, policy, backlog.clone(), unavailable_since.clone());
        (LogSender { tx, backlog, unavailable_since }, writer)
    }

    /// Writes waiting, and since when the database has been unavailable (None: it is not).
    pub(super) fn state(&self) -> (usize, Option<i64>) {
        let since = self.unavailable_since.load(Ordering::Relaxed);
        (self.backlog.load(Ordering::Relaxed), (since > 0).then_some(since))
    }

    /// Queues a write; drops it (counted, warned about once per outage) when the backlog is
    /// full.
    pub(super) fn send(&self, w: Write) {
        let waiting = self.backlog.fetch_add(1, Ordering::Relaxed);
        if waiting >= MAX_BACKLOG {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
            metrics::counter!("switchboard_calllog_dropped_total").increment(1);
            if waiting == MAX_BACKLOG {
                error!(
                    "{MAX_BACKLOG} call-log writes wait for the database: further ones are dropped"
                );
            }
            return;
        }
        if self.tx.send(w).is_err() {
            self.backlog.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Applies call-log writes in order. A write the database could not take because it was
/// away (refused or lost connection, a read-only or full disk; [`StoreError::is_unavailable`])
/// is tried again, with the ones behind it waiting, until it goes through; one refused for
/// itself (a missing row, say) is logged and skipped.
async fn write_log(
    store: Store,
    mut writes: mpsc::UnboundedReceiver<Write>,
    policy: CallbackPolicy,
    backlog: Arc<AtomicUsize>,
    unavailable_since: Arc<AtomicI64>,
) {
    while let Some(w) = writes.recv().await {
        if let Write::Ended { reason, .. } = &w {
            metrics::counter!("switchboard_calls_ended_total", "reason" => reason.as_str())
                .increment(1);
        }
        let mut delay = RETRY_FIRST;
        let mut outage: Option<std::time::Instant> = None;
        loop {
            match apply(&store, &w, &policy).await {
                Ok(Some((event, data))) => {
                    // Webhook subscribers hear of it; a failure to queue that never holds up
                    // or repeats the call log's own write.
                    if let Err(e) = store.enqueue_event(event, data).await {
                        warn!(error = %e, event, "cannot queue a webhook event");
                    }
                    break;
                }
                Err(e) if e.is_unavailable() => {
                    if outage.is_none() {
                        warn!(
                            error = ?e,
                            waiting = backlog.load(Ordering::Relaxed),
                            "the database is unavailable: call-log writes wait and are retried in order"
                        );
                        outage = Some(std::time::Instant::now());
                        let _ = unavailable_since.compare_exchange(
                            0,
                            now_ms(),
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        );
                    }
                    metrics::counter!("switchboard_calllog_retries_total").increment(1);
                    metrics::gauge!("switchboard_calllog_backlog")
                        .set(backlog.load(Ordering::Relaxed) as f64);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                }
                Err(e) => {
                    warn!(error = %e, "call log write failed");
                    break;
                }
                Ok(None) => break,
            }
        }
        if let Some(since) = outage {
            unavailable_since.store(0, Ordering::Relaxed);
            info!(
                after_s = since.elapsed().as_secs(),
                waiting = backlog.load(Ordering::Relaxed),
                "the database is back: call-log writes go through again"
            );
        }
        let left = backlog.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        metrics::gauge!("switchboard_calllog_backlog").set(left as f64);
    }
}

/// The first wait before a write is retried; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// A webhook event a write gives rise to: its name and data.
type Event = Option<(&'static str, Value)>;

fn event(name: &'static str, data: impl serde::Serialize) -> Event {
    Some((name, serde_json::to_value(data).unwrap_or(Value::Null)))
}

/// Applies one write; what it tells webhook subscribers, if anything.
async fn apply(store: &Store, w: &Write, policy: &CallbackPolicy) -> Result<Event, StoreError> {
    let done = |r: Result<(), StoreError>| r.map(|()| None);
    match w {
        Write::Create(new) => Ok(event("call.ringing", store.create_call(new.clone()).await?)),
        Write::Event { call_id, at, kind, agent_id, detail } => done(
            store.add_call_event(call_id, *at, *kind, agent_id.as_deref(), detail.clone()).await,
        ),
        Write::Answered { call_id, agent_id, at } => {
            Ok(event("call.answered", store.call_answered(call_id, agent_id, *at).await?))
        }
        Write::TransferredTo { call_id, agent_id, at } => {
            done(store.call_transferred_to(call_id, agent_id, *at).await)
        }
        Write::Queued { call_id, queue_id, at } => {
            done(store.call_queued(call_id, queue_id, *at).await)
        }
        Write::Ended { call_id, at, reason, hold_ms } => {
            Ok(event("call.ended", store.call_ended(call_id, *at, *reason, *hold_ms).await?))
        }
        Write::SipCode { call_id, code } => done(store.set_call_sip_code(call_id, *code).await),
        Write::RecordingStarted { call_id, path, at } => {
            done(store.recording_started(call_id, path, *at).await)
        }
        Write::RecordingDone { call_id, finished } => match &finished.error {
            None => {
                let duration_ms = i64::try_from(finished.duration_ms).unwrap_or(i64::MAX);
                let size = i64::try_from(finished.size).unwrap_or(i64::MAX);
                store.recording_finished(call_id, duration_ms, size).await?;
                Ok(event(
                    "recording.ready",
                    serde_json::json!({
                        "call_id": call_id, "duration_ms": duration_ms, "size": size,
                        "url": format!("/api/recordings/{call_id}/audio"),
                    }),
                ))
            }
            Some(e) => done(store.recording_failed(call_id, now_ms(), e).await),
        },
        Write::WrapUp { call_id, ms } => done(store.set_call_wrapup(call_id, *ms).await),
        Write::Binding { extension, contact, expires_at } => {
            done(store.save_sip_binding(extension, contact.as_deref(), *expires_at).await)
        }
        Write::AgentState { agent_id, state, reason, at } => {
            done(store.agent_state_changed(agent_id, state, reason.as_deref(), *at).await)
        }
        Write::Listened { user_id, call_id, action, detail } => done(
            store
                .audit_call_access(
                    &switchboard_store::Actor::user(user_id.clone()),
                    call_id,
                    action,
                    detail.clone(),
                )
                .await,
        ),
        Write::CallbackLeg { call_id, of } => done(store.link_callback_leg(call_id, of).await),
        Write::CallbackResult { call_id, done: finished, result } => {
            done(store.callback_result(call_id, *finished, result, now_ms()).await)
        }
        Write::Missed(missed) => {
            let task = store.callback_for_missed(policy, missed).await?;
            info!(
                call_id = missed.call_id,
                task_id = task.id,
                missed = task.missed_count,
                "callback task for a missed call"
            );
            // A new callback is a new task; a number's open one counting another miss is not.
            Ok(if task.missed_count <= 1 { event("task.created", &task) } else { None })
        }
    }
}
