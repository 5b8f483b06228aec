//! Schedules (business hours): a week and exceptions by date in a time zone, stored as JSON
//! after [`Schedule::validate`] found nothing wrong. Every change is audit-logged. A schedule
//! a flow or a queue still uses cannot be deleted.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::hours::{Schedule, Span, Week};
use switchboard_core::new_id;

use crate::sql::Sql;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A schedule to create, or what one becomes.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    /// Unique name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Hours by day of the week.
    pub week: Week,
    /// Days with hours of their own.
    pub exceptions: BTreeMap<String, Vec<Span>>,
}

fn schedule_from_row(row: &AnyRow) -> Result<Schedule, StoreError> {
    let unreadable = |what: &str, e: serde_json::Error| {
        StoreError::invalid(what, format!("stored value unreadable: {e}"))
    };
    let week: String = row.try_get("week")?;
    let exceptions: String = row.try_get("exceptions")?;
    Ok(Schedule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        time_zone: row.try_get("time_zone")?,
        week: serde_json::from_str(&week).map_err(|e| unreadable("week", e))?,
        exceptions: serde_json::from_str(&exceptions).map_err(|e| unreadable("exceptions", e))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn check(new: &NewSchedule) -> Result<(String, String), StoreError> {
    if new.name.trim().is_empty() || new.name.chars().count() > 100 {
        return Err(StoreError::invalid("name", "1 to 100 characters"));
    }
    let probe = Schedule {
        id: String::new(),
        name: new.name.clone(),
        time_zone: new.time_zone.clone(),
        week: new.week.clone(),
        exceptions: new.exceptions.clone(),
        created_at: 0,
        updated_at: 0,
    };
    if let Some(p) = probe.validate().into_iter().next() {
        return Err(StoreError::invalid(p.field, p.message));
    }
    let json =
        |v: serde_json::Result<String>| v.map_err(|e| StoreError::invalid("week", e.to_string()));
    Ok((json(serde_json::to_string(&new.week))?, json(serde_json::to_string(&new.exceptions))?))
}

impl Store {
    /// Creates a schedule (audit-logged).
    pub async fn create_schedule(
        &self,
        actor: &Actor,
        new: NewSchedule,
    ) -> Result<Schedule, StoreError> {
        let (week, exceptions) = check(&new)?;
        let name = new.name.trim().to_owned();
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM schedules WHERE name = ");
        dup.bind(name.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: row.try_get("id")?,
            });
        }
        let (id, now) = (new_id(), now_ms());
        let mut sql = Sql::new(
            "INSERT INTO schedules (id, name, time_zone, week, exceptions, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ");
        sql.bind(new.time_zone.clone()).push(", ").bind(week).push(", ").bind(exceptions);
        sql.push(", ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&mut *tx).await?;
        let detail = json!({"name": name, "time_zone": new.time_zone, "week": new.week,
                            "exceptions": new.exceptions.len()});
        audit::record(&mut tx, actor, "schedule.create", "schedule", Some(&id), detail).await?;
        tx.commit().await?;
        self.get_schedule(&id).await
    }

    /// Replaces a schedule (audit-logged).
    pub async fn update_schedule(
        &self,
        actor: &Actor,
        id: &str,
        new: NewSchedule,
    ) -> Result<Schedule, StoreError> {
        self.get_schedule(id).await?;
        let (week, exceptions) = check(&new)?;
        let name = new.name.trim().to_owned();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE schedules SET name = ");
        sql.bind(name.clone()).push(", time_zone = ").bind(new.time_zone.clone());
        sql.push(", week = ").bind(week).push(", exceptions = ").bind(exceptions);
        sql.push(", updated_at = ").bind(now_ms()).push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(db) => crate::error::unique_violation(db, "name", &name),
            other => other,
        })?;
        let detail = json!({"name": name, "time_zone": new.time_zone, "week": new.week,
                            "exceptions": new.exceptions.len()});
        audit::record(&mut tx, actor, "schedule.update", "schedule", Some(id), detail).await?;
        tx.commit().await?;
        self.get_schedule(id).await
    }

    /// A schedule by id.
    pub async fn get_schedule(&self, id: &str) -> Result<Schedule, StoreError> {
        let mut sql = Sql::new("SELECT * FROM schedules WHERE id = ");
        sql.bind(id.to_owned());
        let row = sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("schedule"))?;
        schedule_from_row(&row)
    }

    /// Every schedule, by name.
    pub async fn list_schedules(&self) -> Result<Vec<Schedule>, StoreError> {
        let rows = Sql::new("SELECT * FROM schedules ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter().map(schedule_from_row).collect()
    }

    /// Deletes a schedule no entry point's flow uses (audit-logged); queues using it lose it.
    pub async fn delete_schedule(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let schedule = self.get_schedule(id).await?;
        for entry in self.list_entry_points().await? {
            let uses = entry.flow.nodes.values().any(|n| {
                matches!(n, switchboard_core::flow::Node::Hours { schedule_id, .. } if schedule_id == id)
            });
            if uses {
                return Err(StoreError::invalid(
                    "id",
                    format!("the voice menu {} uses this schedule", entry.name),
                ));
            }
        }
        let mut tx = self.begin_write().await?;
        let mut queues = Sql::new("UPDATE queues SET schedule_id = NULL WHERE schedule_id = ");
        queues.bind(id.to_owned());
        queues.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM schedules WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        let detail = json!({"name": schedule.name});
        audit::record(&mut tx, actor, "schedule.delete", "schedule", Some(id), detail).await?;
        tx.commit().await?;
        Ok(())
    }
}
