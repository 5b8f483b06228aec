//! Users, browser sessions and API tokens. Passwords and tokens arrive here already hashed.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::entity::User;
use switchboard_core::{Role, new_id};

use crate::error::unique_violation;
use crate::sql::{Sql, flag, parse_col};
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Team.
    pub team_id: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New team (`Some(None)` removes the user from their team).
    pub team_id: Option<Option<String>>,
    /// Enable or disable login.
    pub active: Option<bool>,
    /// New argon2 PHC string.
    pub password_hash: Option<String>,
    /// New skills.
    pub skills: Option<switchboard_core::acd::Skills>,
}

/// A user with their password hash, for login only.
#[derive(Debug, Clone)]
pub struct UserWithSecret {
    /// The user.
    pub user: User,
    /// Argon2 PHC string.
    pub password_hash: String,
}

/// An API token's public description (the secret is shown once, at creation, and only its
/// hash is kept).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Row id.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// What it is for.
    pub name: String,
    /// Created at.
    pub created_at: i64,
    /// Last used at.
    pub last_used_at: Option<i64>,
    /// Revoked at.
    pub revoked_at: Option<i64>,
}

const USER_COLUMNS: &str =
    "id, login, name, role, team_id, active, language, skills, created_at, password_hash";

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        name: row.try_get("name")?,
        role: parse_col(row, "role")?,
        team_id: row.try_get("team_id")?,
        active: flag(row, "active")?,
        language: row.try_get("language")?,
        skills: crate::sql::json_col(row, "skills")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Creates a user. A taken login is [`StoreError::Duplicate`] on `login`.
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User, StoreError> {
        let login = new.login.trim().to_owned();
        if login.is_empty() || login.len() > 64 || login.chars().any(char::is_whitespace) {
            return Err(StoreError::invalid("login", "1-64 characters without spaces"));
        }
        if new.name.trim().is_empty() {
            return Err(StoreError::invalid("name", "must not be empty"));
        }
        if let Some(existing) = self.user_by_login(&login).await? {
            return Err(StoreError::Duplicate {
                field: "login".into(),
                value: login,
                existing_id: existing.user.id,
            });
        }
        let mut tx = self.begin_write().await?;
        if let Some(team) = &new.team_id {
            self.require_team(&mut tx, team).await?;
        }
        let id = new_id();
        let now = now_ms();
        let mut sql = Sql::new(
            "INSERT INTO users (id, login, name, role, password_hash, team_id, active, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(login.clone())
            .push(", ")
            .bind(new.name.trim().to_owned());
        sql.push(", ").bind(new.role.as_str().to_owned()).push(", ").bind(new.password_hash);
        sql.push(", ")
            .bind(new.team_id.clone())
            .push(", 1, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(db) => unique_violation(db, "login", &login),
            other => other,
        })?;
        audit::record(&mut tx, actor, "user.create", "user", Some(&id), json!({"login": login, "name": new.name.trim(), "role": new.role, "team_id": new.team_id})).await?;
        tx.commit().await?;
        self.get_user(&id).await
    }

    /// A user by id.
    pub async fn get_user(&self, id: &str) -> Result<User, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = "));
        sql.bind(id.to_owned());
        let row = sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("user"))?;
        user_from_row(&row)
    }

    /// A user and their password hash by login, for logging in.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<UserWithSecret>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users WHERE login = "));
        sql.bind(login.trim().to_owned());
        let Some(row) = sql.fetch_optional(&self.pool).await? else { return Ok(None) };
        Ok(Some(UserWithSecret {
            user: user_from_row(&row)?,
            password_hash: row.try_get("password_hash")?,
        }))
    }

    /// Every user, by login.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY login"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist (zero on a fresh install).
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Sql::new("SELECT COUNT(*) FROM users").fetch_count(&self.pool).await
    }

    /// How many active admins exist: a store without one needs its first admin made.
    pub async fn count_active_admins(&self) -> Result<i64, StoreError> {
        Sql::new("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_count(&self.pool)
            .await
    }

    /// Changes a user. Changing the password or disabling the user ends their sessions.
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        changes: UserChanges,
    ) -> Result<User, StoreError> {
        let before = self.get_user(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE users SET updated_at = ");
        sql.bind(now_ms());
        let mut detail = serde_json::Map::new();
        if let Some(name) = &changes.name {
            if name.trim().is_empty() {
                return Err(StoreError::invalid("name", "must not be empty"));
            }
            sql.push(", name = ").bind(name.trim().to_owned());
            detail.insert("name".into(), json!(name.trim()));
        }
        if let Some(role) = changes.role {
            sql.push(", role = ").bind(role.as_str().to_owned());
            detail.insert("role".into(), json!(role));
        }
        if let Some(team) = &changes.team_id {
            if let Some(team) = team {
                self.require_team(&mut tx, team).await?;
            }
            sql.push(", team_id = ").bind(team.clone());
            detail.insert("team_id".into(), json!(team));
        }
        if let Some(active) = changes.active {
            sql.push(", active = ").bind(i64::from(active));
            detail.insert("active".into(), json!(active));
        }
        if let Some(skills) = &changes.skills {
            switchboard_core::acd::check_skills(skills)
                .map_err(|e| StoreError::invalid("skills", e))?;
            let text = serde_json::to_string(skills)
                .map_err(|e| StoreError::invalid("skills", e.to_string()))?;
            sql.push(", skills = ").bind(text);
            detail.insert("skills".into(), json!(skills));
        }
        let ends_sessions = changes.password_hash.is_some() || changes.active == Some(false);
        if let Some(hash) = changes.password_hash {
            sql.push(", password_hash = ").bind(hash);
            detail.insert("password".into(), json!("changed"));
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        if ends_sessions {
            let mut end = Sql::new("DELETE FROM sessions WHERE user_id = ");
            end.bind(id.to_owned());
            end.execute(&mut *tx).await?;
        }
        detail.insert("login".into(), json!(before.login));
        audit::record(&mut tx, actor, "user.update", "user", Some(id), detail.into()).await?;
        tx.commit().await?;
        self.get_user(id).await
    }

    /// Every user's skills, for those who have any.
    pub async fn agent_skills(
        &self,
    ) -> Result<Vec<(String, switchboard_core::acd::Skills)>, StoreError> {
        let rows = Sql::new("SELECT id, skills FROM users WHERE skills <> '{}' ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, crate::sql::json_col(r, "skills")?))).collect()
    }

    /// Stores a browser session (by the hash of its cookie value).
    pub async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (");
        sql.bind(token_hash.to_owned())
            .push(", ")
            .bind(user_id.to_owned())
            .push(", ")
            .bind(now_ms());
        sql.push(", ").bind(expires_at).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            &Actor::user(user_id),
            "session.login",
            "user",
            Some(user_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the language a user chose for the pages (`None`: follow the browser).
    pub async fn set_user_language(
        &self,
        user_id: &str,
        language: Option<&str>,
    ) -> Result<(), StoreError> {
        if language.is_some_and(|l| !matches!(l, "en" | "ru")) {
            return Err(StoreError::invalid("language", "expected en or ru"));
        }
        let mut sql = Sql::new("UPDATE users SET language = ");
        sql.bind(language.map(str::to_owned)).push(" WHERE id = ").bind(user_id.to_owned());
        if sql.execute(&self.pool).await? == 0 {
            return Err(StoreError::not_found("user"));
        }
        Ok(())
    }

    /// The active user owning an unexpired session, if any.
    pub async fn user_for_session(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let mut sql = Sql::new(
            "SELECT u.id, u.login, u.name, u.role, u.team_id, u.active, u.language, u.skills, u.created_at \
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ",
        );
        sql.bind(token_hash.to_owned())
            .push(" AND s.expires_at > ")
            .bind(now_ms())
            .push(" AND u.active = 1");
        sql.fetch_optional(&self.pool).await?.as_ref().map(user_from_row).transpose()
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut sql = Sql::new("DELETE FROM sessions WHERE token_hash = ");
        sql.bind(token_hash.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64, StoreError> {
        let mut sql = Sql::new("DELETE FROM sessions WHERE expires_at <= ");
        sql.bind(now_ms());
        sql.execute(&self.pool).await
    }

    /// Stores a new API token for `user_id` (by hash).
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        user_id: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken, StoreError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(StoreError::invalid("name", "1-100 characters"));
        }
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (");
        sql.bind(id.clone())
            .push(", ")
            .bind(user_id.to_owned())
            .push(", ")
            .bind(name.trim().to_owned());
        sql.push(", ").bind(token_hash.to_owned()).push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "api_token.create",
            "api_token",
            Some(&id),
            json!({"user_id": user_id, "name": name.trim()}),
        )
        .await?;
        tx.commit().await?;
        self.list_api_tokens(user_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or(StoreError::not_found("api_token"))
    }

    /// A user's API tokens, newest first.
    pub async fn list_api_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = ",
        );
        sql.bind(user_id.to_owned()).push(" ORDER BY created_at DESC, id DESC");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of `user_id`'s tokens.
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        user_id: &str,
        token_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE api_tokens SET revoked_at = ");
        sql.bind(now_ms()).push(" WHERE id = ").bind(token_id.to_owned());
        sql.push(" AND user_id = ").bind(user_id.to_owned()).push(" AND revoked_at IS NULL");
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::not_found("api_token"));
        }
        audit::record(
            &mut tx,
            actor,
            "api_token.revoke",
            "api_token",
            Some(token_id),
            json!({"user_id": user_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active user owning an unrevoked token, if any; marks the token used.
    pub async fn user_for_api_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        let mut sql = Sql::new(
            "SELECT u.id, u.login, u.name, u.role, u.team_id, u.active, u.language, u.skills, u.created_at, t.id AS token_id, t.last_used_at \
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ",
        );
        sql.bind(token_hash.to_owned()).push(" AND t.revoked_at IS NULL AND u.active = 1");
        let Some(row) = sql.fetch_optional(&self.pool).await? else { return Ok(None) };
        let user = user_from_row(&row)?;
        let now = now_ms();
        // Record use at most once a minute, so a busy integration does not write on every call.
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|t| now - t > 60_000) {
            let token_id: String = row.try_get("token_id")?;
            let mut touch = Sql::new("UPDATE api_tokens SET last_used_at = ");
            touch.bind(now).push(" WHERE id = ").bind(token_id);
            touch.execute(&self.pool).await?;
        }
        Ok(Some(user))
    }
}
