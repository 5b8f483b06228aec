//! Entry points: the called numbers that start a call flow. A flow is stored as JSON after
//! [`Flow::validate`] found nothing wrong against the queues, prompts and schedules of the same
//! transaction; every change is audit-logged with the whole flow, so the audit log holds
//! every version.

use std::collections::HashSet;

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::flow::{AnswerMode, EntryPoint, Flow, FlowProblem, Known};
use switchboard_core::new_id;

use crate::sql::Sql;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// An entry point to create, or what one becomes.
#[derive(Debug, Clone)]
pub struct NewEntryPoint {
    /// Unique name.
    pub name: String,
    /// Called numbers that start the flow.
    pub numbers: Vec<String>,
    /// "ru" or "en".
    pub language: String,
    /// How callers are answered.
    pub answer: AnswerMode,
    /// The flow.
    pub flow: Flow,
}

/// Whether a built-in prompt key exists (the store does not know the shipped audio).
pub type BuiltinCheck = fn(&str) -> bool;

fn answer_str(answer: AnswerMode) -> &'static str {
    match answer {
        AnswerMode::Early => "early",
        AnswerMode::Answer => "answer",
    }
}

impl Store {
    async fn entry_point_from_row(&self, row: &AnyRow) -> Result<EntryPoint, StoreError> {
        let id: String = row.try_get("id")?;
        let flow: String = row.try_get("flow")?;
        let flow: Flow = serde_json::from_str(&flow)
            .map_err(|e| StoreError::invalid("flow", format!("stored flow unreadable: {e}")))?;
        let mut numbers =
            Sql::new("SELECT number FROM entry_point_numbers WHERE entry_point_id = ");
        numbers.bind(id.clone()).push(" ORDER BY number");
        let numbers = numbers
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("number"))
            .collect::<Result<Vec<String>, _>>()?;
        let answer: String = row.try_get("answer")?;
        Ok(EntryPoint {
            id,
            name: row.try_get("name")?,
            numbers,
            language: row.try_get("language")?,
            answer: if answer == "early" { AnswerMode::Early } else { AnswerMode::Answer },
            flow,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// What is wrong with each flow against the queues and prompts stored now (read once
    /// for all of them).
    pub async fn flow_problems(
        &self,
        flows: &[&Flow],
        builtin: BuiltinCheck,
    ) -> Result<Vec<Vec<FlowProblem>>, StoreError> {
        let ids = |rows: Vec<AnyRow>| -> Result<HashSet<String>, StoreError> {
            rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
        };
        let queues = ids(Sql::new("SELECT id FROM queues").fetch_all(&self.pool).await?)?;
        let prompts = ids(Sql::new("SELECT id FROM prompts").fetch_all(&self.pool).await?)?;
        let schedules = ids(Sql::new("SELECT id FROM schedules").fetch_all(&self.pool).await?)?;
        let agents = ids(Sql::new("SELECT id FROM users").fetch_all(&self.pool).await?)?;
        let known = Known {
            queue: &|q| queues.contains(q),
            prompt: &|p| prompts.contains(p),
            builtin: &builtin,
            schedule: &|s| schedules.contains(s),
            agent: &|a| agents.contains(a),
        };
        Ok(flows.iter().map(|flow| flow.validate(&known)).collect())
    }

    async fn check_entry_point(
        &self,
        new: &NewEntryPoint,
        id: Option<&str>,
        builtin: BuiltinCheck,
    ) -> Result<(), StoreError> {
        if new.name.trim().is_empty() {
            return Err(StoreError::invalid("name", "must not be empty"));
        }
        if !matches!(new.language.as_str(), "ru" | "en") {
            return Err(StoreError::invalid("language", "must be ru or en"));
        }
        if new.numbers.len() > 100 {
            return Err(StoreError::invalid("numbers", "at most 100 numbers"));
        }
        for number in &new.numbers {
            if number.trim().is_empty() || number.len() > 64 {
                return Err(StoreError::invalid("numbers", format!("not a number: {number:?}")));
            }
            if let Some(queue) = self.queue_for_number(number).await?
                && queue.number.as_deref() == Some(number.as_str())
            {
                return Err(StoreError::invalid(
                    "numbers",
                    format!("{number} is the number of the queue {}", queue.name),
                ));
            }
            let mut taken = Sql::new(
                "SELECT e.name FROM entry_point_numbers n JOIN entry_points e ON e.id = n.entry_point_id WHERE n.number = ",
            );
            taken.bind(number.clone());
            if let Some(id) = id {
                taken.push(" AND e.id <> ").bind(id.to_owned());
            }
            if let Some(row) = taken.fetch_optional(&self.pool).await? {
                let name: String = row.try_get("name")?;
                return Err(StoreError::invalid(
                    "numbers",
                    format!("{number} already starts the entry point {name}"),
                ));
            }
        }
        let problems =
            self.flow_problems(&[&new.flow], builtin).await?.into_iter().next().unwrap_or_default();
        if let Some(first) = problems.first() {
            let all: Vec<String> =
                problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
            return Err(StoreError::invalid(format!("flow.{}", first.field), all.join("; ")));
        }
        Ok(())
    }

    async fn write_numbers(
        tx: &mut sqlx::AnyConnection,
        id: &str,
        numbers: &[String],
    ) -> Result<(), StoreError> {
        let mut clear = Sql::new("DELETE FROM entry_point_numbers WHERE entry_point_id = ");
        clear.bind(id.to_owned());
        clear.execute(&mut *tx).await?;
        for number in numbers {
            let mut sql =
                Sql::new("INSERT INTO entry_point_numbers (number, entry_point_id) VALUES (");
            sql.bind(number.trim().to_owned()).push(", ").bind(id.to_owned()).push(")");
            sql.execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Creates an entry point whose flow is sound (audit-logged with the flow).
    pub async fn create_entry_point(
        &self,
        actor: &Actor,
        new: NewEntryPoint,
        builtin: BuiltinCheck,
    ) -> Result<EntryPoint, StoreError> {
        self.check_entry_point(&new, None, builtin).await?;
        let name = new.name.trim().to_owned();
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM entry_points WHERE name = ");
        dup.bind(name.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: row.try_get("id")?,
            });
        }
        let id = new_id();
        let now = now_ms();
        let flow = serde_json::to_string(&new.flow)
            .map_err(|e| StoreError::invalid("flow", e.to_string()))?;
        let mut sql = Sql::new(
            "INSERT INTO entry_points (id, name, language, answer, flow, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ");
        sql.bind(new.language.clone()).push(", ").bind(answer_str(new.answer).to_owned());
        sql.push(", ").bind(flow).push(", ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&mut *tx).await?;
        Self::write_numbers(&mut tx, &id, &new.numbers).await?;
        audit::record(
            &mut tx,
            actor,
            "entry_point.create",
            "entry_point",
            Some(&id),
            json!({"name": name, "numbers": new.numbers, "language": new.language,
                   "answer": answer_str(new.answer), "flow": new.flow}),
        )
        .await?;
        tx.commit().await?;
        self.get_entry_point(&id).await
    }

    /// Replaces an entry point (audit-logged with the new flow: the log holds every version).
    pub async fn update_entry_point(
        &self,
        actor: &Actor,
        id: &str,
        new: NewEntryPoint,
        builtin: BuiltinCheck,
    ) -> Result<EntryPoint, StoreError> {
        self.get_entry_point(id).await?;
        self.check_entry_point(&new, Some(id), builtin).await?;
        let name = new.name.trim().to_owned();
        let flow = serde_json::to_string(&new.flow)
            .map_err(|e| StoreError::invalid("flow", e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE entry_points SET name = ");
        sql.bind(name.clone()).push(", language = ").bind(new.language.clone());
        sql.push(", answer = ").bind(answer_str(new.answer).to_owned());
        sql.push(", flow = ").bind(flow).push(", updated_at = ").bind(now_ms());
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(db) => crate::error::unique_violation(db, "name", &name),
            other => other,
        })?;
        Self::write_numbers(&mut tx, id, &new.numbers).await?;
        audit::record(
            &mut tx,
            actor,
            "entry_point.update",
            "entry_point",
            Some(id),
            json!({"name": name, "numbers": new.numbers, "language": new.language,
                   "answer": answer_str(new.answer), "flow": new.flow}),
        )
        .await?;
        tx.commit().await?;
        self.get_entry_point(id).await
    }

    /// An entry point by id.
    pub async fn get_entry_point(&self, id: &str) -> Result<EntryPoint, StoreError> {
        let mut sql = Sql::new("SELECT * FROM entry_points WHERE id = ");
        sql.bind(id.to_owned());
        let row =
            sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("entry point"))?;
        self.entry_point_from_row(&row).await
    }

    /// Every entry point, by name.
    pub async fn list_entry_points(&self) -> Result<Vec<EntryPoint>, StoreError> {
        let rows =
            Sql::new("SELECT * FROM entry_points ORDER BY name").fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.entry_point_from_row(row).await?);
        }
        Ok(out)
    }

    /// Deletes an entry point (audit-logged); its numbers start nothing any more.
    pub async fn delete_entry_point(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let entry = self.get_entry_point(id).await?;
        let mut tx = self.begin_write().await?;
        let mut numbers = Sql::new("DELETE FROM entry_point_numbers WHERE entry_point_id = ");
        numbers.bind(id.to_owned());
        numbers.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM entry_points WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "entry_point.delete",
            "entry_point",
            Some(id),
            json!({"name": entry.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
