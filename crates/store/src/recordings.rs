//! Call recordings in the call log: where each file is (a path relative to the recordings
//! root, never shown to users), its length, retention and legal hold, the search behind the
//! supervisors' recordings page, and the audit entries of every listen.

use serde_json::{Value, json};
use sqlx::Row;
use switchboard_core::call::CallEventKind;
use switchboard_core::entity::Call;

use crate::calls::{CALL_COLUMNS, call_from_row};
use crate::sql::Sql;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit};

/// Which recorded calls to list. Times are epoch ms; durations are the recording's.
#[derive(Debug, Clone, Default)]
pub struct RecordingFilter {
    /// Offered at or after.
    pub from: Option<i64>,
    /// Offered before.
    pub to: Option<i64>,
    /// Taken or placed by this agent.
    pub agent_id: Option<String>,
    /// In this queue.
    pub queue_id: Option<String>,
    /// From or to this number (E.164).
    pub number: Option<String>,
    /// Linked to this contact.
    pub contact_id: Option<String>,
    /// With this disposition.
    pub disposition: Option<String>,
    /// At least this long.
    pub min_duration_ms: Option<i64>,
    /// At most this long.
    pub max_duration_ms: Option<i64>,
    /// Only calls of these agents (the caller's permission scope); `None`: every call.
    pub agents_in_scope: Option<Vec<String>>,
}

/// A recording file due for deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecording {
    /// The call.
    pub call_id: String,
    /// Path under the recordings root.
    pub path: String,
}

impl Store {
    /// A call's recording has started into `path` (relative to the recordings root). Written
    /// at once, so a crash leaves the call pointing at its file for the repair at start-up.
    pub async fn recording_started(
        &self,
        call_id: &str,
        path: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE calls SET recording_path = ");
        sql.bind(path.to_owned())
            .push(", recording_duration_ms = NULL, recording_size = NULL WHERE id = ")
            .bind(call_id.to_owned());
        sql.execute(&self.pool).await?;
        self.add_call_event(call_id, at, CallEventKind::RecordingStarted, None, json!({})).await
    }

    /// A call's recording is complete (or was repaired after a crash).
    pub async fn recording_finished(
        &self,
        call_id: &str,
        duration_ms: i64,
        size: i64,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("UPDATE calls SET recording_duration_ms = ");
        sql.bind(duration_ms)
            .push(", recording_size = ")
            .bind(size)
            .push(" WHERE id = ")
            .bind(call_id.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// A call's recording could not be written: the call no longer claims one.
    pub async fn recording_failed(
        &self,
        call_id: &str,
        at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new(
            "UPDATE calls SET recording_path = NULL, recording_duration_ms = NULL, recording_size = NULL WHERE id = ",
        );
        sql.bind(call_id.to_owned());
        sql.execute(&self.pool).await?;
        let detail = json!({"error": error});
        self.add_call_event(call_id, at, CallEventKind::RecordingFailed, None, detail).await
    }

    /// Recordings whose length was never written: the process stopped while they were open.
    pub async fn unfinished_recordings(&self) -> Result<Vec<StoredRecording>, StoreError> {
        let sql = Sql::new(
            "SELECT id, recording_path FROM calls WHERE recording_path IS NOT NULL AND recording_duration_ms IS NULL AND recording_purged_at IS NULL",
        );
        sql.fetch_all(&self.pool).await?.iter().map(stored_recording).collect()
    }

    /// Up to `limit` recordings of calls offered before `cutoff`, not purged and not on legal
    /// hold, oldest first.
    pub async fn expired_recordings(
        &self,
        cutoff: i64,
        limit: u32,
    ) -> Result<Vec<StoredRecording>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, recording_path FROM calls WHERE recording_path IS NOT NULL AND recording_purged_at IS NULL AND offered_at < ",
        );
        sql.bind(cutoff)
            .push(" AND legal_hold = 0 ORDER BY offered_at LIMIT ")
            .bind(i64::from(limit));
        sql.fetch_all(&self.pool).await?.iter().map(stored_recording).collect()
    }

    /// Marks a call's recording as deleted by retention (audited as the system). False when the
    /// call was put on legal hold meanwhile (the file must then stay).
    pub async fn recording_purged(
        &self,
        call_id: &str,
        at: i64,
        detail: Value,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE calls SET recording_purged_at = ");
        sql.bind(at)
            .push(" WHERE id = ")
            .bind(call_id.to_owned())
            .push(" AND legal_hold = 0 AND recording_purged_at IS NULL");
        if sql.execute(&mut *tx).await? == 0 {
            return Ok(false);
        }
        audit::record(&mut tx, &Actor::system(), "recording.purge", "call", Some(call_id), detail)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Puts a call's recording on legal hold (kept past retention) or takes it off. Audited.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        call_id: &str,
        on: bool,
    ) -> Result<Call, StoreError> {
        self.get_call(call_id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE calls SET legal_hold = ");
        sql.bind(i64::from(on)).push(" WHERE id = ").bind(call_id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            if on { "recording.legal_hold" } else { "recording.legal_hold_off" },
            "call",
            Some(call_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.get_call(call_id).await
    }

    /// The recording file of a call (relative path), if it has one that was not purged.
    pub async fn recording_path(&self, call_id: &str) -> Result<Option<String>, StoreError> {
        let mut sql = Sql::new(
            "SELECT recording_path FROM calls WHERE recording_purged_at IS NULL AND id = ",
        );
        sql.bind(call_id.to_owned());
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => row.try_get("recording_path")?,
            None => None,
        })
    }

    /// Who a voicemail message is for: the assignee of the callback task it left and the
    /// agents of the task's queue (empty when the call left no message).
    pub async fn voicemail_audience(&self, call_id: &str) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new(
            "SELECT assignee_id AS user_id FROM tasks WHERE assignee_id IS NOT NULL AND voicemail_call_id = ",
        );
        sql.bind(call_id.to_owned()).push(
            " UNION SELECT qm.user_id FROM tasks t JOIN queue_members qm ON qm.queue_id = t.queue_id WHERE t.voicemail_call_id = ",
        );
        sql.bind(call_id.to_owned());
        sql.fetch_all(&self.pool).await?.iter().map(|r| Ok(r.try_get("user_id")?)).collect()
    }

    /// Records that `actor` heard a call: its recording (`recording.play`,
    /// `recording.download`) or the call itself, live (`call.listen`, `call.whisper`,
    /// `call.barge`, `call.listen_stop`).
    pub async fn audit_call_access(
        &self,
        actor: &Actor,
        call_id: &str,
        action: &str,
        detail: Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit::record(&mut tx, actor, action, "call", Some(call_id), detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Calls with a recording on disk, newest first.
    pub async fn search_recordings(
        &self,
        filter: &RecordingFilter,
        page: PageRequest,
    ) -> Result<Page<Call>, StoreError> {
        if filter.agents_in_scope.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                page: page.page,
                per_page: page.per_page,
                total: 0,
            });
        }
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(
                " FROM calls WHERE recording_path IS NOT NULL AND recording_purged_at IS NULL",
            );
            if let Some(from) = filter.from {
                sql.push(" AND offered_at >= ").bind(from);
            }
            if let Some(to) = filter.to {
                sql.push(" AND offered_at < ").bind(to);
            }
            for (column, value) in [
                ("agent_id", &filter.agent_id),
                ("queue_id", &filter.queue_id),
                ("contact_id", &filter.contact_id),
                ("disposition", &filter.disposition),
            ] {
                if let Some(value) = value {
                    sql.push(&format!(" AND {column} = ")).bind(value.clone());
                }
            }
            if let Some(number) = &filter.number {
                sql.push(" AND (from_e164 = ")
                    .bind(number.clone())
                    .push(" OR to_e164 = ")
                    .bind(number.clone())
                    .push(")");
            }
            if let Some(min) = filter.min_duration_ms {
                sql.push(" AND recording_duration_ms >= ").bind(min);
            }
            if let Some(max) = filter.max_duration_ms {
                sql.push(" AND recording_duration_ms <= ").bind(max);
            }
            if let Some(agents) = &filter.agents_in_scope {
                sql.push(" AND agent_id IN ").bind_list(agents.iter().cloned());
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build(&format!("SELECT {CALL_COLUMNS}"));
        sql.push(" ORDER BY offered_at DESC, id DESC LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let items = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(call_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// The agents in the teams `supervisor_id` supervises, and the supervisor.
    pub async fn supervised_agents(&self, supervisor_id: &str) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new(
            "SELECT u.id FROM users u JOIN teams t ON t.id = u.team_id WHERE t.supervisor_id = ",
        );
        sql.bind(supervisor_id.to_owned());
        let mut ids: Vec<String> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        if !ids.iter().any(|id| id == supervisor_id) {
            ids.push(supervisor_id.to_owned());
        }
        Ok(ids)
    }

    /// Records the after-call work time of a call.
    pub async fn set_call_wrapup(&self, call_id: &str, wrapup_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let before = crate::stats::call_fact(&mut tx, call_id).await?;
        let mut sql = Sql::new("UPDATE calls SET wrapup_ms = ");
        sql.bind(wrapup_ms.max(0)).push(" WHERE id = ").bind(call_id.to_owned());
        sql.execute(&mut *tx).await?;
        let after = crate::stats::call_fact(&mut tx, call_id).await?;
        self.apply_stats(&mut tx, before.as_ref(), after.as_ref()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A `(id, recording_path)` row.
fn stored_recording(row: &sqlx::any::AnyRow) -> Result<StoredRecording, StoreError> {
    Ok(StoredRecording { call_id: row.try_get("id")?, path: row.try_get("recording_path")? })
}
