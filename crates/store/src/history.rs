//! Loading generated history in bulk (the demo data, the statistics and funnel benchmarks): rows for
//! the tables the generator fills, inserted many per statement in one transaction per call.
//! Nothing here checks the rows: the generator is trusted to make consistent ones, and its
//! rollup rows are its calls' contributions (the tests compare them with a recount).

use crate::sql::Sql;
use crate::{Store, StoreError};

/// A value of a generated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// Integer.
    Int(i64),
    /// NULL.
    Null,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

/// Tables generated history may be loaded into, with their columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryTable {
    /// `calls`.
    Calls,
    /// `call_events`.
    CallEvents,
    /// `call_stats` (the calls' contributions, summed).
    CallStats,
    /// `agent_state_log`.
    AgentStates,
    /// `tasks` (callbacks).
    Tasks,
    /// `deals` (count the funnel with [`Store::rebuild_funnel`] after loading).
    Deals,
    /// `deal_changes`.
    DealChanges,
}

impl HistoryTable {
    /// The table's name and the columns a row gives, in order.
    pub fn columns(self) -> (&'static str, &'static [&'static str]) {
        match self {
            HistoryTable::Calls => (
                "calls",
                &[
                    "id",
                    "direction",
                    "from_e164",
                    "to_e164",
                    "queue_id",
                    "agent_id",
                    "contact_id",
                    "deal_id",
                    "task_id",
                    "offered_at",
                    "answered_at",
                    "ended_at",
                    "wait_ms",
                    "talk_ms",
                    "hold_ms",
                    "wrapup_ms",
                    "end_reason",
                    "disposition",
                    "recording_path",
                    "recording_duration_ms",
                    "recording_size",
                    "origin",
                ],
            ),
            HistoryTable::CallEvents => {
                ("call_events", &["id", "call_id", "at", "kind", "agent_id", "detail"])
            }
            HistoryTable::CallStats => (
                "call_stats",
                &[
                    "slot",
                    "queue_id",
                    "agent_id",
                    "disposition",
                    "offered",
                    "answered",
                    "abandoned",
                    "short_abandoned",
                    "timed_out",
                    "answered_in_sl",
                    "answer_wait_ms",
                    "handled",
                    "talk_ms",
                    "hold_ms",
                    "wrapup_ms",
                    "missed_offers",
                    "outbound_attempts",
                    "outbound_connected",
                    "outbound_talk_ms",
                    "blocked",
                ],
            ),
            HistoryTable::AgentStates => {
                ("agent_state_log", &["id", "user_id", "state", "reason", "started_at", "ended_at"])
            }
            HistoryTable::Deals => (
                "deals",
                &[
                    "id",
                    "title",
                    "title_key",
                    "stage_id",
                    "amount_minor",
                    "amount_manual",
                    "currency",
                    "status",
                    "loss_reason",
                    "closed_at",
                    "expected_close_at",
                    "created_at",
                    "updated_at",
                ],
            ),
            HistoryTable::DealChanges => (
                "deal_changes",
                &[
                    "id",
                    "deal_id",
                    "from_stage_id",
                    "to_stage_id",
                    "from_status",
                    "to_status",
                    "changed_at",
                ],
            ),
            HistoryTable::Tasks => (
                "tasks",
                &[
                    "id",
                    "kind",
                    "subject",
                    "due_at",
                    "assignee_id",
                    "queue_id",
                    "contact_id",
                    "call_id",
                    "phone_e164",
                    "callback",
                    "missed_count",
                    "status",
                    "result",
                    "completed_at",
                    "escalated_at",
                    "created_at",
                    "updated_at",
                ],
            ),
        }
    }
}

impl Store {
    /// Inserts generated `rows` (each in [`HistoryTable::columns`] order) in one transaction.
    pub async fn load_history(
        &self,
        table: HistoryTable,
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        let (name, columns) = table.columns();
        if rows.iter().any(|r| r.len() != columns.len()) {
            return Err(StoreError::invalid("rows", "a row does not have the table's columns"));
        }
        // Stay under SQLite's 32,766 parameters per statement.
        let per_statement = (30_000 / columns.len()).max(1);
        let mut tx = self.begin_write().await?;
        for chunk in rows.chunks(per_statement) {
            let mut sql = Sql::bulk(
                self.backend,
                &format!("INSERT INTO {name} ({}) VALUES ", columns.join(", ")),
            );
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(");
                for (j, cell) in row.iter().enumerate() {
                    if j > 0 {
                        sql.push(", ");
                    }
                    match cell {
                        Cell::Text(s) => sql.bind(s.clone()),
                        Cell::Int(v) => sql.bind(*v),
                        Cell::Null => sql.push("NULL"),
                    };
                }
                sql.push(")");
            }
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
