//! Teams: groups of users, each led by a supervisor.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::Team;
use switchboard_core::{Role, new_id};

use crate::sql::Sql;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A team to create.
#[derive(Debug, Clone)]
pub struct NewTeam {
    /// Unique name.
    pub name: String,
    /// The supervisor's user id.
    pub supervisor_id: Option<String>,
}

/// Changes to a team.
#[derive(Debug, Clone, Default)]
pub struct TeamChanges {
    /// New name.
    pub name: Option<String>,
    /// New supervisor (`Some(None)` removes them).
    pub supervisor_id: Option<Option<String>>,
}

fn team_from_row(row: &AnyRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        supervisor_id: row.try_get("supervisor_id")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Fails with [`StoreError::Invalid`] on `field` unless `table` has a row with `id`.
pub(crate) async fn require_ref(
    conn: &mut AnyConnection,
    table: &'static str,
    field: &str,
    id: &str,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(&format!("SELECT COUNT(*) FROM {table} WHERE id = "));
    sql.bind(id.to_owned());
    if sql.fetch_count(conn).await? == 0 {
        return Err(StoreError::invalid(field, format!("no such record: {id}")));
    }
    Ok(())
}

impl Store {
    pub(crate) async fn require_team(
        &self,
        conn: &mut AnyConnection,
        team_id: &str,
    ) -> Result<(), StoreError> {
        require_ref(conn, "teams", "team_id", team_id).await
    }

    async fn require_supervisor(
        &self,
        conn: &mut AnyConnection,
        user_id: &str,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("SELECT role FROM users WHERE id = ");
        sql.bind(user_id.to_owned());
        let row = sql.fetch_optional(conn).await?;
        let role: Option<Role> = match row {
            Some(row) => row.try_get::<String, _>("role")?.parse().ok(),
            None => {
                return Err(StoreError::invalid(
                    "supervisor_id",
                    format!("no such user: {user_id}"),
                ));
            }
        };
        if role == Some(Role::Operator) {
            return Err(StoreError::invalid(
                "supervisor_id",
                "an operator cannot supervise a team",
            ));
        }
        Ok(())
    }

    /// Creates a team.
    pub async fn create_team(&self, actor: &Actor, new: NewTeam) -> Result<Team, StoreError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() {
            return Err(StoreError::invalid("name", "must not be empty"));
        }
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM teams WHERE name = ");
        dup.bind(name.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: row.try_get("id")?,
            });
        }
        if let Some(sup) = &new.supervisor_id {
            self.require_supervisor(&mut tx, sup).await?;
        }
        let id = new_id();
        let mut sql = Sql::new("INSERT INTO teams (id, name, supervisor_id, created_at) VALUES (");
        sql.bind(id.clone())
            .push(", ")
            .bind(name.clone())
            .push(", ")
            .bind(new.supervisor_id.clone());
        sql.push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "team.create",
            "team",
            Some(&id),
            json!({"name": name, "supervisor_id": new.supervisor_id}),
        )
        .await?;
        tx.commit().await?;
        self.get_team(&id).await
    }

    /// A team by id.
    pub async fn get_team(&self, id: &str) -> Result<Team, StoreError> {
        let mut sql = Sql::new("SELECT id, name, supervisor_id, created_at FROM teams WHERE id = ");
        sql.bind(id.to_owned());
        team_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("team"))?)
    }

    /// Every team, by name.
    pub async fn list_teams(&self) -> Result<Vec<Team>, StoreError> {
        let rows = Sql::new("SELECT id, name, supervisor_id, created_at FROM teams ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(team_from_row).collect()
    }

    /// Changes a team.
    pub async fn update_team(
        &self,
        actor: &Actor,
        id: &str,
        changes: TeamChanges,
    ) -> Result<Team, StoreError> {
        self.get_team(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE teams SET id = id");
        if let Some(name) = &changes.name {
            if name.trim().is_empty() {
                return Err(StoreError::invalid("name", "must not be empty"));
            }
            sql.push(", name = ").bind(name.trim().to_owned());
        }
        if let Some(sup) = &changes.supervisor_id {
            if let Some(sup) = sup {
                self.require_supervisor(&mut tx, sup).await?;
            }
            sql.push(", supervisor_id = ").bind(sup.clone());
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(db) => {
                crate::error::unique_violation(db, "name", changes.name.as_deref().unwrap_or(""))
            }
            other => other,
        })?;
        audit::record(
            &mut tx,
            actor,
            "team.update",
            "team",
            Some(id),
            json!({"name": changes.name, "supervisor_id": changes.supervisor_id}),
        )
        .await?;
        tx.commit().await?;
        self.get_team(id).await
    }

    /// The supervisor of a user's team, if the user has a team with a supervisor.
    pub async fn supervisor_of(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let mut sql = Sql::new(
            "SELECT t.supervisor_id FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = ",
        );
        sql.bind(user_id.to_owned());
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => row.try_get("supervisor_id")?,
            None => None,
        })
    }
}
