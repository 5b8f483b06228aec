//! The escalation job: callbacks still open past their due time (plus the configured grace)
//! are escalated once to the supervisor of the assignee's team: the task records it, the
//! supervisor gets a notification (and a message on their console if it is open), and the
//! audit log has the event. With nobody supervising, managers and admins are told.

use std::time::Duration;

use switchboard_core::callback::{self, CallbackPolicy};
use switchboard_store::{Escalated, Store};
use switchboard_switch::protocol::{AgentMessage, Notify, TelephonyHandle, TelephonyRequest};
use tracing::{info, warn};

use switchboard_store::now_ms;

/// Escalates every callback overdue at `now`; returns what was escalated.
pub async fn escalate_overdue(
    store: &Store,
    policy: &CallbackPolicy,
    now: i64,
) -> anyhow::Result<Vec<Escalated>> {
    let due =
        store.callbacks_to_escalate(now.saturating_sub(policy.escalate_after_ms.max(0))).await?;
    let mut done = Vec::new();
    for escalation in callback::escalations(policy, &due, now) {
        let notify = match &escalation.to {
            Some(supervisor) => vec![supervisor.clone()],
            None => store.active_users_with_roles(&["manager", "admin"]).await?,
        };
        if let Some(escalated) =
            store.escalate_task(&escalation.task_id, escalation.to.as_deref(), &notify, now).await?
        {
            info!(task_id = escalation.task_id, to = ?escalation.to, notified = notify.len(), "overdue callback escalated");
            let data = serde_json::to_value(&escalated.task).unwrap_or_default();
            if let Err(e) = store.enqueue_event("task.overdue", data).await {
                tracing::warn!(error = %e, "cannot queue the task.overdue webhook event");
            }
            done.push(escalated);
        }
    }
    Ok(done)
}

/// Runs [`escalate_overdue`] every `every`, telling the notified users' consoles.
pub async fn escalation_loop(
    store: Store,
    policy: CallbackPolicy,
    every: Duration,
    telephony: Option<TelephonyHandle>,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(200)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match escalate_overdue(&store, &policy, now_ms()).await {
            Ok(done) => {
                if let Some(t) = &telephony {
                    for e in done {
                        for user_id in &e.notified {
                            let message =
                                AgentMessage::TaskEscalated { task: Box::new(e.task.clone()) };
                            let _ = t.send(TelephonyRequest::Notify(Notify {
                                user_id: user_id.clone(),
                                message,
                            }));
                        }
                    }
                }
            }
            Err(e) => warn!(error = %e, "callback escalation failed"),
        }
    }
}
