//! The call log's writer: one task applying the switch's writes in order (so a slow database
//! never holds up signalling), including the callback task of every missed call.

use serde_json::Value;
use switchboard_core::call::{CallEventKind as Kind, EndReason};
use switchboard_core::callback::CallbackPolicy;
use switchboard_media::recording::Finished;
use switchboard_store::{MissedCall, NewCall, Store};
use tokio::sync::mpsc;
use tracing::{info, warn};

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

/// Applies call-log writes in order.
pub(super) async fn write_log(
    store: Store,
    mut writes: mpsc::UnboundedReceiver<Write>,
    policy: CallbackPolicy,
) {
    while let Some(w) = writes.recv().await {
        let result = match w {
            Write::Create(new) => store.create_call(new).await.map(|_| ()),
            Write::Event { call_id, at, kind, agent_id, detail } => {
                store.add_call_event(&call_id, at, kind, agent_id.as_deref(), detail).await
            }
            Write::Answered { call_id, agent_id, at } => {
                store.call_answered(&call_id, &agent_id, at).await.map(|_| ())
            }
            Write::TransferredTo { call_id, agent_id, at } => {
                store.call_transferred_to(&call_id, &agent_id, at).await
            }
            Write::Queued { call_id, queue_id, at } => {
                store.call_queued(&call_id, &queue_id, at).await
            }
            Write::Ended { call_id, at, reason, hold_ms } => {
                metrics::counter!("switchboard_calls_ended_total", "reason" => reason.as_str())
                    .increment(1);
                store.call_ended(&call_id, at, reason, hold_ms).await.map(|_| ())
            }
            Write::SipCode { call_id, code } => store.set_call_sip_code(&call_id, code).await,
            Write::RecordingStarted { call_id, path, at } => {
                store.recording_started(&call_id, &path, at).await
            }
            Write::RecordingDone { call_id, finished } => match &finished.error {
                None => {
                    store
                        .recording_finished(
                            &call_id,
                            i64::try_from(finished.duration_ms).unwrap_or(i64::MAX),
                            i64::try_from(finished.size).unwrap_or(i64::MAX),
                        )
                        .await
                }
                Some(e) => store.recording_failed(&call_id, now_ms(), e).await,
            },
            Write::WrapUp { call_id, ms } => store.set_call_wrapup(&call_id, ms).await,
            Write::Binding { extension, contact, expires_at } => {
                store.save_sip_binding(&extension, contact.as_deref(), expires_at).await
            }
            Write::AgentState { agent_id, state, reason, at } => {
                store.agent_state_changed(&agent_id, state, reason.as_deref(), at).await
            }
            Write::Listened { user_id, call_id, action, detail } => {
                store
                    .audit_call_access(
                        &switchboard_store::Actor::user(user_id),
                        &call_id,
                        action,
                        detail,
                    )
                    .await
            }
            Write::CallbackLeg { call_id, of } => store.link_callback_leg(&call_id, &of).await,
            Write::CallbackResult { call_id, done, result } => {
                store.callback_result(&call_id, done, &result, now_ms()).await
            }
            Write::Missed(missed) => match store.callback_for_missed(&policy, &missed).await {
                Ok(task) => {
                    info!(
                        call_id = missed.call_id,
                        task_id = task.id,
                        missed = task.missed_count,
                        "callback task for a missed call"
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            },
        };
        if let Err(e) = result {
            warn!(error = %e, "call log write failed");
        }
    }
}
