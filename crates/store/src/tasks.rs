//! Tasks: calls to make, meetings, emails and to-dos, with a due time and an assignee.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::{Task, TaskKind, TaskStatus};
use switchboard_core::new_id;

use crate::sql::{Sql, opt_text, parse_col};
use crate::teams::require_ref;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// A task to create.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// What kind.
    pub kind: TaskKind,
    /// One line.
    pub subject: String,
    /// Details.
    pub description: Option<String>,
    /// Due at (epoch ms).
    pub due_at: Option<i64>,
    /// Who does it.
    pub assignee_id: Option<String>,
    /// About whom.
    pub contact_id: Option<String>,
    /// About which deal.
    pub deal_id: Option<String>,
    /// A callback to this number (escalated when overdue).
    pub callback_e164: Option<String>,
}

/// Changes to a task.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    /// New subject.
    pub subject: Option<String>,
    /// New description.
    pub description: Option<Option<String>>,
    /// New due time.
    pub due_at: Option<Option<i64>>,
    /// New assignee.
    pub assignee_id: Option<Option<String>>,
    /// New contact.
    pub contact_id: Option<Option<String>>,
    /// New deal.
    pub deal_id: Option<Option<String>>,
    /// New kind.
    pub kind: Option<TaskKind>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Assigned to.
    pub assignee_id: Option<String>,
    /// With this status.
    pub status: Option<TaskStatus>,
    /// About this contact.
    pub contact_id: Option<String>,
    /// About this deal.
    pub deal_id: Option<String>,
    /// Due before (epoch ms).
    pub due_before: Option<i64>,
    /// Due at or after (epoch ms).
    pub due_after: Option<i64>,
    /// Assigned to a member of this team.
    pub team_id: Option<String>,
}

pub(crate) const TASK_COLUMNS: &str = "id, kind, subject, description, due_at, assignee_id, contact_id, deal_id, queue_id, phone_e164, \
    call_id, callback, voicemail_call_id, missed_count, status, result, completed_at, escalated_at, escalated_to, created_by, created_at, updated_at";

pub(crate) fn task_from_row(row: &AnyRow) -> Result<Task, StoreError> {
    Ok(Task {
        id: row.try_get("id")?,
        kind: parse_col(row, "kind")?,
        subject: row.try_get("subject")?,
        description: opt_text(row, "description")?,
        due_at: row.try_get("due_at")?,
        assignee_id: row.try_get("assignee_id")?,
        contact_id: row.try_get("contact_id")?,
        deal_id: row.try_get("deal_id")?,
        queue_id: row.try_get("queue_id")?,
        phone_e164: row.try_get("phone_e164")?,
        call_id: row.try_get("call_id")?,
        callback: row.try_get::<i64, _>("callback")? != 0,
        voicemail_call_id: row.try_get("voicemail_call_id")?,
        missed_count: row.try_get("missed_count")?,
        status: parse_col(row, "status")?,
        result: row.try_get("result")?,
        completed_at: row.try_get("completed_at")?,
        escalated_at: row.try_get("escalated_at")?,
        escalated_to: row.try_get("escalated_to")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn check_task_refs(
    conn: &mut AnyConnection,
    assignee: Option<&str>,
    contact: Option<&str>,
    deal: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(id) = assignee {
        require_ref(&mut *conn, "users", "assignee_id", id).await?;
    }
    if let Some(id) = contact {
        require_ref(&mut *conn, "contacts", "contact_id", id).await?;
    }
    if let Some(id) = deal {
        require_ref(&mut *conn, "deals", "deal_id", id).await?;
    }
    Ok(())
}

fn check_subject(subject: &str) -> Result<String, StoreError> {
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 300 {
        return Err(StoreError::invalid("subject", "1-300 characters"));
    }
    Ok(subject.to_owned())
}

/// Inserts a task with its `task.create` audit entry in the caller's transaction (`rule`: the
/// stage rule that made it). References must be checked already.
pub(crate) async fn insert_task(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewTask,
    rule: Option<&str>,
) -> Result<String, StoreError> {
    let subject = check_subject(&new.subject)?;
    let id = new_id();
    let now = now_ms();
    let mut sql = Sql::new(
        "INSERT INTO tasks (id, kind, subject, description, due_at, assignee_id, contact_id, deal_id, phone_e164, callback, status, created_by, created_at, updated_at) VALUES (",
    );
    sql.bind(id.clone())
        .push(", ")
        .bind(new.kind.as_str().to_owned())
        .push(", ")
        .bind(subject.clone());
    sql.push(", ")
        .bind(new.description.clone())
        .push(", ")
        .bind(new.due_at)
        .push(", ")
        .bind(new.assignee_id.clone());
    sql.push(", ")
        .bind(new.contact_id.clone())
        .push(", ")
        .bind(new.deal_id.clone())
        .push(", ")
        .bind(new.callback_e164.clone());
    sql.push(", ")
        .bind(i64::from(new.callback_e164.is_some()))
        .push(", 'open', ")
        .bind(actor.user_id.clone());
    sql.push(", ").bind(now).push(", ").bind(now).push(")");
    sql.execute(&mut *conn).await?;
    audit::record(
        conn,
        actor,
        "task.create",
        "task",
        Some(&id),
        json!({
            "kind": new.kind, "subject": subject, "due_at": new.due_at, "assignee_id": new.assignee_id,
            "contact_id": new.contact_id, "deal_id": new.deal_id, "callback_e164": new.callback_e164, "rule": rule,
        }),
    )
    .await?;
    Ok(id)
}

impl Store {
    /// Creates a task.
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<Task, StoreError> {
        check_subject(&new.subject)?;
        let mut tx = self.begin_write().await?;
        check_task_refs(
            &mut tx,
            new.assignee_id.as_deref(),
            new.contact_id.as_deref(),
            new.deal_id.as_deref(),
        )
        .await?;
        let id = insert_task(&mut tx, actor, &new, None).await?;
        tx.commit().await?;
        self.get_task(&id).await
    }

    /// A task by id.
    pub async fn get_task(&self, id: &str) -> Result<Task, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = "));
        sql.bind(id.to_owned());
        task_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("task"))?)
    }

    /// Lists tasks: open ones by due time first, then the rest, newest first.
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM tasks WHERE 1 = 1");
            for (column, value) in [
                ("assignee_id", &filter.assignee_id),
                ("contact_id", &filter.contact_id),
                ("deal_id", &filter.deal_id),
            ] {
                if let Some(value) = value {
                    sql.push(&format!(" AND {column} = ")).bind(value.clone());
                }
            }
            if let Some(status) = filter.status {
                sql.push(" AND status = ").bind(status.as_str().to_owned());
            }
            if let Some(before) = filter.due_before {
                sql.push(" AND due_at < ").bind(before);
            }
            if let Some(after) = filter.due_after {
                sql.push(" AND due_at >= ").bind(after);
            }
            if let Some(team) = &filter.team_id {
                sql.push(" AND assignee_id IN (SELECT id FROM users WHERE team_id = ")
                    .bind(team.clone())
                    .push(")");
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build(&format!("SELECT {TASK_COLUMNS}"));
        sql.push(" ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, created_at DESC, id LIMIT ");
        sql.bind(i64::from(page.per_page)).push(" OFFSET ").bind(page.offset());
        let items =
            sql.fetch_all(&self.pool).await?.iter().map(task_from_row).collect::<Result<_, _>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// Changes a task.
    pub async fn update_task(
        &self,
        actor: &Actor,
        id: &str,
        changes: TaskChanges,
    ) -> Result<Task, StoreError> {
        self.get_task(id).await?;
        let mut tx = self.begin_write().await?;
        check_task_refs(
            &mut tx,
            changes.assignee_id.as_ref().and_then(|v| v.as_deref()),
            changes.contact_id.as_ref().and_then(|v| v.as_deref()),
            changes.deal_id.as_ref().and_then(|v| v.as_deref()),
        )
        .await?;
        let mut sql = Sql::new("UPDATE tasks SET updated_at = ");
        sql.bind(now_ms());
        if let Some(subject) = &changes.subject {
            sql.push(", subject = ").bind(check_subject(subject)?);
        }
        if let Some(kind) = changes.kind {
            sql.push(", kind = ").bind(kind.as_str().to_owned());
        }
        if let Some(description) = &changes.description {
            sql.push(", description = ").bind(description.clone());
        }
        if let Some(due) = changes.due_at {
            sql.push(", due_at = ").bind(due);
        }
        for (column, value) in [
            ("assignee_id", &changes.assignee_id),
            ("contact_id", &changes.contact_id),
            ("deal_id", &changes.deal_id),
        ] {
            if let Some(value) = value {
                sql.push(&format!(", {column} = ")).bind(value.clone());
            }
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "task.update",
            "task",
            Some(id),
            json!({
                "subject": changes.subject, "due_at": changes.due_at, "assignee_id": changes.assignee_id,
                "contact_id": changes.contact_id, "deal_id": changes.deal_id,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_task(id).await
    }

    /// Marks an open task done (with its result) or cancelled.
    pub async fn complete_task(
        &self,
        actor: &Actor,
        id: &str,
        status: TaskStatus,
        result: Option<String>,
    ) -> Result<Task, StoreError> {
        let task = self.get_task(id).await?;
        if task.status != TaskStatus::Open {
            return Err(StoreError::Conflict(format!(
                "the task is already {}",
                task.status.as_str()
            )));
        }
        if status == TaskStatus::Open {
            return Err(StoreError::invalid("status", "expected done or cancelled"));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE tasks SET status = ");
        sql.bind(status.as_str().to_owned())
            .push(", result = ")
            .bind(result.clone())
            .push(", completed_at = ")
            .bind(now);
        sql.push(", updated_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND status = 'open'");
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::Conflict("the task was completed meanwhile".into()));
        }
        audit::record(
            &mut tx,
            actor,
            &format!("task.{}", status.as_str()),
            "task",
            Some(id),
            json!({"result": result}),
        )
        .await?;
        tx.commit().await?;
        self.get_task(id).await
    }

    /// Deletes a task.
    pub async fn delete_task(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let task = self.get_task(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM tasks WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "task.delete",
            "task",
            Some(id),
            json!({"subject": task.subject}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
