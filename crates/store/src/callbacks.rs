//! Callback tasks for missed calls, their escalation when overdue, and the notifications that
//! tell supervisors. The rules are [`switchboard_core::callback`]'s; this applies them in
//! transactions, so a missed call updates the number's open callback instead of adding one.

use serde_json::json;
use sqlx::Row;
use switchboard_core::call::EndReason;
use switchboard_core::callback::{
    self, Assignee, CallbackPolicy, DueCallback, MissedPlan, OpenCallback,
};
use switchboard_core::entity::{Notification, Task};
use switchboard_core::new_id;

use crate::sql::{Sql, flag};
use crate::tasks::{TASK_COLUMNS, task_from_row};
use crate::{Actor, Store, StoreError, audit};

/// A call nobody answered.
#[derive(Debug, Clone)]
pub struct MissedCall {
    /// The call.
    pub call_id: String,
    /// The caller's number (E.164).
    pub e164: String,
    /// The queue it came to.
    pub queue_id: Option<String>,
    /// When it ended.
    pub at: i64,
    /// Why (abandoned, the maximum wait, blocked, a message left).
    pub reason: switchboard_core::call::EndReason,
    /// Not due before then (a callback asked for after hours: when the queue opens).
    pub not_before: Option<i64>,
}

/// An escalated task and who was told.
#[derive(Debug, Clone)]
pub struct Escalated {
    /// The task as it is now.
    pub task: Task,
    /// Users notified.
    pub notified: Vec<String>,
}

impl Store {
    /// Creates the callback task for a missed call, or updates the number's open one.
    pub async fn callback_for_missed(
        &self,
        policy: &CallbackPolicy,
        missed: &MissedCall,
    ) -> Result<Task, StoreError> {
        // Reads that need no lock, before the write transaction takes it.
        let contacts = self.find_contacts_by_phone(&missed.e164).await?;
        let contact = match contacts.as_slice() {
            [only] => Some(only),
            _ => None,
        };
        let owner = match contact.and_then(|c| c.owner_id.as_deref()) {
            Some(owner) => {
                Some((owner.to_owned(), self.get_user(owner).await.is_ok_and(|u| u.active)))
            }
            None => None,
        };
        let assignee = callback::assign(
            owner.as_ref().map(|(id, active)| (id.as_str(), *active)),
            missed.queue_id.as_deref(),
        );
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "SELECT id, due_at, missed_count FROM tasks WHERE callback = 1 AND status = 'open' AND phone_e164 = ",
        );
        sql.bind(missed.e164.clone()).push(" ORDER BY missed_count DESC, created_at LIMIT 1");
        let open = match sql.fetch_optional(&mut *tx).await? {
            Some(row) => Some(OpenCallback {
                task_id: row.try_get("id")?,
                due_at: row.try_get("due_at")?,
                missed_count: row.try_get("missed_count")?,
            }),
            None => None,
        };
        let plan = match callback::on_missed(policy, open.as_ref(), missed.at) {
            MissedPlan::Create { due_at } => {
                MissedPlan::Create { due_at: due_at.max(missed.not_before.unwrap_or(0)) }
            }
            MissedPlan::Update { task_id, due_at, missed_count } => MissedPlan::Update {
                task_id,
                due_at: due_at.max(missed.not_before.unwrap_or(0)),
                missed_count,
            },
        };
        let task_id = match plan {
            MissedPlan::Create { due_at } => {
                let id = new_id();
                let (assignee_id, queue_id) = match &assignee {
                    Some(Assignee::User(u)) => (Some(u.clone()), None),
                    Some(Assignee::Queue(q)) => (None, Some(q.clone())),
                    None => (None, None),
                };
                // No subject in any one language: the pages say "call back <number>" in the
                // reader's words (`taskSubject` in web/card.js).
                let subject = String::new();
                let mut sql = Sql::new(
                    "INSERT INTO tasks (id, kind, subject, due_at, assignee_id, queue_id, contact_id, call_id, phone_e164, callback, missed_count, status, created_at, updated_at) VALUES (",
                );
                sql.bind(id.clone())
                    .push(", 'call', ")
                    .bind(subject)
                    .push(", ")
                    .bind(due_at)
                    .push(", ")
                    .bind(assignee_id.clone());
                sql.push(", ")
                    .bind(queue_id.clone())
                    .push(", ")
                    .bind(contact.map(|c| c.id.clone()))
                    .push(", ")
                    .bind(missed.call_id.clone());
                sql.push(", ")
                    .bind(missed.e164.clone())
                    .push(", 1, 1, 'open', ")
                    .bind(missed.at)
                    .push(", ")
                    .bind(missed.at)
                    .push(")");
                sql.execute(&mut *tx).await?;
                let detail = json!({"callback": missed.e164, "call_id": missed.call_id, "reason": missed.reason.as_str(), "due_at": due_at, "assignee_id": assignee_id, "queue_id": queue_id});
                audit::record(&mut tx, &Actor::system(), "task.create", "task", Some(&id), detail)
                    .await?;
                id
            }
            MissedPlan::Update { task_id, due_at, missed_count } => {
                let mut sql = Sql::new("UPDATE tasks SET due_at = ");
                sql.bind(due_at)
                    .push(", missed_count = ")
                    .bind(missed_count)
                    .push(", call_id = ")
                    .bind(missed.call_id.clone());
                sql.push(", updated_at = ")
                    .bind(missed.at)
                    .push(" WHERE id = ")
                    .bind(task_id.clone());
                sql.execute(&mut *tx).await?;
                let detail = json!({"call_id": missed.call_id, "reason": missed.reason.as_str(), "missed_count": missed_count, "due_at": due_at});
                audit::record(
                    &mut tx,
                    &Actor::system(),
                    "task.missed_again",
                    "task",
                    Some(&task_id),
                    detail,
                )
                .await?;
                task_id
            }
        };
        let mut sql = Sql::new("UPDATE calls SET task_id = ");
        sql.bind(task_id.clone()).push(" WHERE id = ").bind(missed.call_id.clone());
        sql.execute(&mut *tx).await?;
        if missed.reason == EndReason::Voicemail {
            // The message is the newest thing to hear on the task, whatever came before it.
            let mut sql = Sql::new("UPDATE tasks SET voicemail_call_id = ");
            sql.bind(missed.call_id.clone()).push(" WHERE id = ").bind(task_id.clone());
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.get_task(&task_id).await
    }

    /// A queue callback's outbound call takes the task and the contact of the queued call it
    /// is for.
    pub async fn link_callback_leg(&self, call_id: &str, of: &str) -> Result<(), StoreError> {
        let mut sql =
            Sql::new("UPDATE calls SET task_id = (SELECT o.task_id FROM calls o WHERE o.id = ");
        sql.bind(of.to_owned())
            .push("), contact_id = COALESCE(contact_id, (SELECT o.contact_id FROM calls o WHERE o.id = ")
            .bind(of.to_owned())
            .push(")) WHERE id = ")
            .bind(call_id.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// What came of a queue callback, written on the task of the queued call (audited as the
    /// system); `done` completes the task.
    pub async fn callback_result(
        &self,
        call_id: &str,
        done: bool,
        result: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut find = Sql::new("SELECT task_id FROM calls WHERE id = ");
        find.bind(call_id.to_owned());
        let Some(row) = find.fetch_optional(&self.pool).await? else { return Ok(()) };
        let Some(task_id): Option<String> = row.try_get("task_id")? else { return Ok(()) };
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE tasks SET result = ");
        sql.bind(result.to_owned()).push(", updated_at = ").bind(at);
        if done {
            sql.push(", status = 'done', completed_at = ").bind(at);
        }
        sql.push(" WHERE status = 'open' AND id = ").bind(task_id.clone());
        sql.execute(&mut *tx).await?;
        let detail = json!({"call_id": call_id, "result": result, "done": done});
        audit::record(&mut tx, &Actor::system(), "task.callback", "task", Some(&task_id), detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Open callbacks due at or before `due_by` that were never escalated, with the supervisor
    /// each would go to.
    pub async fn callbacks_to_escalate(&self, due_by: i64) -> Result<Vec<DueCallback>, StoreError> {
        let mut sql = Sql::new(
            "SELECT t.id, t.due_at, t.escalated_at, t.assignee_id, \
             COALESCE((SELECT tm.supervisor_id FROM users u JOIN teams tm ON tm.id = u.team_id WHERE u.id = t.assignee_id), \
                      (SELECT tm.supervisor_id FROM queue_members qm JOIN users u ON u.id = qm.user_id JOIN teams tm ON tm.id = u.team_id \
                       WHERE qm.queue_id = t.queue_id AND tm.supervisor_id IS NOT NULL ORDER BY tm.name LIMIT 1)) AS supervisor_id \
             FROM tasks t WHERE t.callback = 1 AND t.status = 'open' AND t.escalated_at IS NULL AND t.due_at <= ",
        );
        sql.bind(due_by).push(" ORDER BY t.due_at LIMIT 500");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(DueCallback {
                    task_id: r.try_get("id")?,
                    due_at: r.try_get("due_at")?,
                    escalated_at: r.try_get("escalated_at")?,
                    assignee_id: r.try_get("assignee_id")?,
                    supervisor_id: r.try_get("supervisor_id")?,
                })
            })
            .collect()
    }

    /// Escalates an open task to `to` (once: `None` when another server did it first or it was
    /// completed meanwhile) and notifies `notify`. Audited as the system.
    pub async fn escalate_task(
        &self,
        task_id: &str,
        to: Option<&str>,
        notify: &[String],
        at: i64,
    ) -> Result<Option<Escalated>, StoreError> {
        let task = self.get_task(task_id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE tasks SET escalated_at = ");
        sql.bind(at)
            .push(", escalated_to = ")
            .bind(to.map(str::to_owned))
            .push(", updated_at = ")
            .bind(at);
        sql.push(" WHERE id = ")
            .bind(task_id.to_owned())
            .push(" AND escalated_at IS NULL AND status = 'open'");
        if sql.execute(&mut *tx).await? == 0 {
            return Ok(None);
        }
        // The kind says what happened; the body names the task without words of a language.
        let body = if task.subject.is_empty() {
            task.phone_e164.clone().unwrap_or_default()
        } else {
            task.subject.clone()
        };
        for user in notify {
            let mut sql = Sql::new(
                "INSERT INTO notifications (id, user_id, kind, task_id, body, created_at) VALUES (",
            );
            sql.bind(new_id())
                .push(", ")
                .bind(user.clone())
                .push(", 'task_escalated', ")
                .bind(task_id.to_owned());
            sql.push(", ").bind(body.clone()).push(", ").bind(at).push(")");
            sql.execute(&mut *tx).await?;
        }
        audit::record(
            &mut tx,
            &Actor::system(),
            "task.escalate",
            "task",
            Some(task_id),
            json!({"to": to, "notified": notify, "due_at": task.due_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(Escalated { task: self.get_task(task_id).await?, notified: notify.to_vec() }))
    }

    /// Active users with one of `roles` (who hear of escalations nobody supervises).
    pub async fn active_users_with_roles(&self, roles: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new("SELECT id FROM users WHERE active = 1 AND role IN ");
        sql.bind_list(roles.iter().map(|r| (*r).to_owned())).push(" ORDER BY login");
        sql.fetch_all(&self.pool).await?.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// A user's notifications, newest first (unread only when asked).
    pub async fn notifications(
        &self,
        user_id: &str,
        unread_only: bool,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, user_id, kind, task_id, deal_id, body, created_at, read_at FROM notifications WHERE user_id = ",
        );
        sql.bind(user_id.to_owned());
        if unread_only {
            sql.push(" AND read_at IS NULL");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ").bind(i64::from(limit));
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    kind: r.try_get("kind")?,
                    task_id: r.try_get("task_id")?,
                    deal_id: r.try_get("deal_id")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                    read_at: r.try_get("read_at")?,
                })
            })
            .collect()
    }

    /// Marks one of a user's notifications read; false when it is not theirs or unknown.
    pub async fn mark_notification_read(
        &self,
        user_id: &str,
        id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let mut sql = Sql::new("UPDATE notifications SET read_at = ");
        sql.bind(at)
            .push(" WHERE read_at IS NULL AND id = ")
            .bind(id.to_owned())
            .push(" AND user_id = ")
            .bind(user_id.to_owned());
        Ok(sql.execute(&self.pool).await? > 0)
    }

    /// Open tasks that are `user_id`'s (assigned to them, or to a queue they serve and to
    /// nobody in particular) and either due by `now` or made by a lead (a new lead is shown at
    /// once, not when its "call back within N minutes" runs out), soonest first; each with
    /// whether a lead made it.
    pub async fn due_tasks_for(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<(Task, bool)>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {TASK_COLUMNS}, CAST(CASE WHEN EXISTS (SELECT 1 FROM leads l WHERE l.task_id = tasks.id) THEN 1 ELSE 0 END AS BIGINT) AS lead \
             FROM tasks WHERE status = 'open' AND (due_at <= "
        ));
        sql.bind(now).push(" OR EXISTS (SELECT 1 FROM leads l WHERE l.task_id = tasks.id))");
        sql.push(" AND (assignee_id = ").bind(user_id.to_owned());
        sql.push(" OR (assignee_id IS NULL AND queue_id IN (SELECT queue_id FROM queue_members WHERE user_id = ").bind(user_id.to_owned());
        sql.push("))) ORDER BY due_at LIMIT 100");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| Ok((task_from_row(row)?, flag(row, "lead")?)))
            .collect()
    }

    /// Open callbacks past their due time.
    pub async fn overdue_callbacks(&self, now: i64) -> Result<i64, StoreError> {
        let mut sql = Sql::new(
            "SELECT COUNT(*) FROM tasks WHERE callback = 1 AND status = 'open' AND due_at < ",
        );
        sql.bind(now);
        sql.fetch_count(&self.pool).await
    }

    /// Open callback tasks for a number (the card shows them; click-to-call links to them).
    pub async fn open_callbacks(&self, e164: &str) -> Result<Vec<Task>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE callback = 1 AND status = 'open' AND phone_e164 = "
        ));
        sql.bind(e164.to_owned()).push(" ORDER BY due_at");
        sql.fetch_all(&self.pool).await?.iter().map(task_from_row).collect()
    }
}
