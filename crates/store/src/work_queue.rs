//! The callbacks work queue: missed calls, voicemails and callback requests as one list an
//! operator works and a supervisor distributes, with what each needs at a glance (how long
//! the caller has waited, how many times they were called back, the contact, the queue, who
//! has it), and assignment in bulk.

use serde_json::json;
use sqlx::Row;
use switchboard_core::entity::{Task, TaskStatus};

use crate::sql::Sql;
use crate::tasks::{TASK_COLUMNS, task_from_row};
use crate::{Actor, Page, PageRequest, Store, StoreError, audit};

/// Whose callbacks a list holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackScope {
    /// An operator's: assigned to them, or to a queue they serve.
    Agent(String),
    /// A supervisor's (their id): assigned to them or to a member of a team they supervise,
    /// or to nobody yet.
    Supervisor(String),
    /// Every callback (managers, administrators).
    All,
}

/// How a callbacks list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallbackSort {
    /// Soonest due first.
    #[default]
    Due,
    /// Waiting longest first (the first missed call).
    Waiting,
    /// Called back most often first.
    Attempts,
    /// Most missed calls first.
    Missed,
}

/// What a callback stands for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CallbackSource {
    /// The caller left a message.
    Voicemail,
    /// The caller asked to be called back (pressed the key in the queue, or after hours).
    Request,
    /// A call nobody answered.
    Missed,
    /// Scheduled by an agent from the card.
    Scheduled,
}

/// Filters of the callbacks list.
#[derive(Debug, Clone)]
pub struct CallbackFilter {
    /// Whose.
    pub scope: CallbackScope,
    /// Open, done or cancelled (all when `None`).
    pub status: Option<TaskStatus>,
    /// Only those due before this time (epoch ms): the overdue ones, given now.
    pub due_before: Option<i64>,
    /// For this queue.
    pub queue_id: Option<String>,
    /// Assigned to this user; `Some(None)` for nobody.
    pub assignee_id: Option<Option<String>>,
    /// Standing for this.
    pub source: Option<CallbackSource>,
    /// The order.
    pub sort: CallbackSort,
}

/// One callback in the work queue.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CallbackItem {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// What it stands for.
    pub source: CallbackSource,
    /// Calls placed to the number for it so far.
    pub attempts: i64,
    /// When the last of them was placed (epoch ms).
    pub last_attempt_at: Option<i64>,
    /// The contact's name, when the number is a contact's.
    pub contact_name: Option<String>,
    /// The queue's name.
    pub queue_name: Option<String>,
    /// The assignee's name.
    pub assignee_name: Option<String>,
}

/// The source of a callback, as SQL over the task `t`.
const SOURCE: &str = "CASE WHEN t.voicemail_call_id IS NOT NULL THEN 'voicemail' \
     WHEN (SELECT c.end_reason FROM calls c WHERE c.id = t.call_id) = 'callback_requested' THEN 'request' \
     WHEN t.call_id IS NOT NULL THEN 'missed' ELSE 'scheduled' END";

/// How many ids one bulk assignment takes.
pub const MAX_BULK: usize = 500;

impl Store {
    /// The callbacks in `filter`'s scope, in its order.
    pub async fn list_callbacks(
        &self,
        filter: &CallbackFilter,
        page: PageRequest,
    ) -> Result<Page<CallbackItem>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM tasks t WHERE t.callback = 1");
            match &filter.scope {
                CallbackScope::Agent(user) => {
                    sql.push(" AND (t.assignee_id = ").bind(user.clone());
                    sql.push(
                        " OR t.queue_id IN (SELECT queue_id FROM queue_members WHERE user_id = ",
                    )
                    .bind(user.clone())
                    .push("))");
                }
                CallbackScope::Supervisor(me) => {
                    sql.push(" AND (t.assignee_id IS NULL OR t.assignee_id = ").bind(me.clone());
                    sql.push(" OR t.assignee_id IN (SELECT u.id FROM users u JOIN teams tm ON tm.id = u.team_id WHERE tm.supervisor_id = ")
                        .bind(me.clone())
                        .push("))");
                }
                CallbackScope::All => {}
            }
            if let Some(status) = filter.status {
                sql.push(" AND t.status = ").bind(status.as_str().to_owned());
            }
            if let Some(before) = filter.due_before {
                sql.push(" AND t.due_at < ").bind(before);
            }
            if let Some(queue) = &filter.queue_id {
                sql.push(" AND t.queue_id = ").bind(queue.clone());
            }
            match &filter.assignee_id {
                Some(Some(user)) => {
                    sql.push(" AND t.assignee_id = ").bind(user.clone());
                }
                Some(None) => {
                    sql.push(" AND t.assignee_id IS NULL");
                }
                None => {}
            }
            if let Some(source) = filter.source {
                let name = match source {
                    CallbackSource::Voicemail => "voicemail",
                    CallbackSource::Request => "request",
                    CallbackSource::Missed => "missed",
                    CallbackSource::Scheduled => "scheduled",
                };
                sql.push(&format!(" AND ({SOURCE}) = ")).bind(name.to_owned());
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let columns: String = TASK_COLUMNS
            .split(", ")
            .map(|c| format!("t.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = build(&format!(
            "SELECT {columns}, {SOURCE} AS source, \
             (SELECT COUNT(*) FROM calls c WHERE c.task_id = t.id AND c.direction = 'outbound') AS attempts, \
             (SELECT MAX(c.offered_at) FROM calls c WHERE c.task_id = t.id AND c.direction = 'outbound') AS last_attempt_at, \
             (SELECT TRIM(COALESCE(k.last_name, '') || ' ' || COALESCE(k.first_name, '')) FROM contacts k WHERE k.id = t.contact_id) AS contact_name, \
             (SELECT q.name FROM queues q WHERE q.id = t.queue_id) AS queue_name, \
             (SELECT u.name FROM users u WHERE u.id = t.assignee_id) AS assignee_name"
        ));
        let order = match filter.sort {
            CallbackSort::Due => "t.due_at, t.created_at",
            CallbackSort::Waiting => "t.created_at, t.due_at",
            CallbackSort::Attempts => "attempts DESC, t.due_at",
            CallbackSort::Missed => "t.missed_count DESC, t.due_at",
        };
        // Open ones first whatever the order: they are the work.
        sql.push(&format!(
            " ORDER BY CASE WHEN t.status = 'open' THEN 0 ELSE 1 END, {order}, t.id LIMIT "
        ));
        sql.bind(i64::from(page.per_page)).push(" OFFSET ").bind(page.offset());
        let items = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let source: String = row.try_get("source")?;
                Ok(CallbackItem {
                    task: task_from_row(row)?,
                    source: match source.as_str() {
                        "voicemail" => CallbackSource::Voicemail,
                        "request" => CallbackSource::Request,
                        "missed" => CallbackSource::Missed,
                        _ => CallbackSource::Scheduled,
                    },
                    attempts: row.try_get("attempts")?,
                    last_attempt_at: row.try_get("last_attempt_at")?,
                    contact_name: row
                        .try_get::<Option<String>, _>("contact_name")?
                        .filter(|n| !n.is_empty()),
                    queue_name: row.try_get("queue_name")?,
                    assignee_name: row.try_get("assignee_name")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// Assigns open callbacks to `assignee` (or to nobody: back to their queue) in one
    /// transaction, each audited. Refused whole when one id is not an open callback, or the
    /// assignee is not an active user.
    pub async fn assign_callbacks(
        &self,
        actor: &Actor,
        task_ids: &[String],
        assignee: Option<&str>,
    ) -> Result<Vec<Task>, StoreError> {
        if task_ids.is_empty() || task_ids.len() > MAX_BULK {
            return Err(StoreError::invalid(
                "task_ids",
                format!("between 1 and {MAX_BULK} callbacks"),
            ));
        }
        if let Some(user) = assignee
            && !self.get_user(user).await.is_ok_and(|u| u.active)
        {
            return Err(StoreError::invalid("assignee_id", "no active user has this id"));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::now_ms();
        for (i, id) in task_ids.iter().enumerate() {
            let mut sql = Sql::new(
                "SELECT assignee_id FROM tasks WHERE callback = 1 AND status = 'open' AND id = ",
            );
            sql.bind(id.clone());
            let Some(row) = sql.fetch_optional(&mut *tx).await? else {
                return Err(StoreError::invalid(format!("task_ids[{i}]"), "not an open callback"));
            };
            let before: Option<String> = row.try_get("assignee_id")?;
            let mut update = Sql::new("UPDATE tasks SET assignee_id = ");
            update
                .bind(assignee.map(str::to_owned))
                .push(", updated_at = ")
                .bind(now)
                .push(" WHERE id = ")
                .bind(id.clone());
            update.execute(&mut *tx).await?;
            let detail = json!({"from": before, "to": assignee, "bulk": task_ids.len()});
            audit::record(&mut tx, actor, "task.assign", "task", Some(id), detail).await?;
        }
        tx.commit().await?;
        let mut tasks = Vec::with_capacity(task_ids.len());
        for id in task_ids {
            tasks.push(self.get_task(id).await?);
        }
        Ok(tasks)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_source_names_match_the_enum() {
        for name in ["voicemail", "request", "missed", "scheduled"] {
            assert!(super::SOURCE.contains(&format!("'{name}'")), "{name}");
            let parsed: super::CallbackSource =
                serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(serde_json::to_value(parsed).unwrap(), name);
        }
    }
}
