//! Call queues, their members, and agents' SIP phones: what the call-center core is loaded
//! with at start and whenever an admin changes them.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::acd::Strategy;
use switchboard_core::entity::Queue;
use switchboard_core::new_id;

use crate::sql::{Sql, parse_col};
use crate::teams::require_ref;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A queue to create; `None` fields take the schema's defaults.
#[derive(Debug, Clone, Default)]
pub struct NewQueue {
    /// Unique name.
    pub name: String,
    /// Number that routes calls here.
    pub number: Option<String>,
    /// Routing strategy.
    pub strategy: Option<Strategy>,
    /// Ring time per agent.
    pub ring_timeout_ms: Option<i64>,
    /// Maximum wait.
    pub max_wait_ms: Option<i64>,
    /// Wrap-up time.
    pub wrap_up_ms: Option<i64>,
    /// Record calls.
    pub record: Option<bool>,
    /// Service-level threshold.
    pub sl_answer_ms: Option<i64>,
    /// Service-level target.
    pub sl_target_pct: Option<i64>,
    /// Initial members.
    pub members: Vec<String>,
    /// What callers hear while waiting (`None`: the gateway's default).
    pub waiting_sound: Option<String>,
    /// Seconds between position announcements (0: none).
    pub announce_every_s: Option<i64>,
    /// "ru" or "en".
    pub language: Option<String>,
    /// Seconds the caller's owner rings alone first (0: no).
    pub owner_first_s: Option<i64>,
    /// The contact custom field that marks a VIP.
    pub vip_field: Option<String>,
    /// The business hours outside which callers do not wait (`None`: always open).
    pub schedule_id: Option<String>,
    /// Outside them: `voicemail` (the after-hours prompt, then a message), `callback` (an
    /// offer to call back when the queue opens) or `hangup`.
    pub after_hours: Option<String>,
    /// Offer a callback after this wait (0: not for the wait).
    pub callback_after_s: Option<i64>,
    /// Offer it at once when the typical wait is over this (0: not for it).
    pub callback_over_wait_s: Option<i64>,
    /// Calls to the customer before giving up.
    pub callback_attempts: Option<i64>,
    /// Seconds between them.
    pub callback_retry_s: Option<i64>,
    /// Skills its agents need.
    pub skills: Option<switchboard_core::acd::Skills>,
}

const QUEUE_COLUMNS: &str = "id, name, number, strategy, ring_timeout_ms, max_wait_ms, wrap_up_ms, record, sl_answer_ms, sl_target_pct, waiting_sound, announce_every_s, language, owner_first_s, vip_field, schedule_id, after_hours, callback_after_s, callback_over_wait_s, callback_attempts, callback_retry_s, skills, created_at";

fn queue_from_row(row: &AnyRow, members: Vec<String>) -> Result<Queue, StoreError> {
    Ok(Queue {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        number: row.try_get("number")?,
        strategy: parse_col(row, "strategy")?,
        ring_timeout_ms: row.try_get("ring_timeout_ms")?,
        max_wait_ms: row.try_get("max_wait_ms")?,
        wrap_up_ms: row.try_get("wrap_up_ms")?,
        record: row.try_get::<i64, _>("record")? != 0,
        sl_answer_ms: row.try_get("sl_answer_ms")?,
        sl_target_pct: row.try_get("sl_target_pct")?,
        members,
        waiting_sound: row.try_get("waiting_sound")?,
        announce_every_s: row.try_get("announce_every_s")?,
        language: row.try_get("language")?,
        owner_first_s: row.try_get("owner_first_s")?,
        vip_field: row.try_get("vip_field")?,
        schedule_id: row.try_get("schedule_id")?,
        after_hours: row.try_get("after_hours")?,
        callback_after_s: row.try_get("callback_after_s")?,
        callback_over_wait_s: row.try_get("callback_over_wait_s")?,
        callback_attempts: row.try_get("callback_attempts")?,
        callback_retry_s: row.try_get("callback_retry_s")?,
        skills: crate::sql::json_col(row, "skills")?,
        created_at: row.try_get("created_at")?,
    })
}

fn check_ms(field: &str, value: Option<i64>, min: i64, max: i64) -> Result<(), StoreError> {
    match value {
        Some(v) if v < min || v > max => {
            Err(StoreError::invalid(field, format!("must be between {min} and {max}")))
        }
        _ => Ok(()),
    }
}

fn validate(q: &NewQueue) -> Result<(), StoreError> {
    if q.name.trim().is_empty() {
        return Err(StoreError::invalid("name", "must not be empty"));
    }
    if let Some(number) = &q.number
        && (number.trim().is_empty() || number.len() > 64)
    {
        return Err(StoreError::invalid("number", "must be 1 to 64 characters"));
    }
    check_ms("ring_timeout_ms", q.ring_timeout_ms, 1_000, 600_000)?;
    check_ms("max_wait_ms", q.max_wait_ms, 1_000, 86_400_000)?;
    check_ms("wrap_up_ms", q.wrap_up_ms, 0, 3_600_000)?;
    check_ms("sl_answer_ms", q.sl_answer_ms, 0, 3_600_000)?;
    check_ms("sl_target_pct", q.sl_target_pct, 0, 100)?;
    if let Some(every) = q.announce_every_s
        && every != 0
        && !(10..=600).contains(&every)
    {
        return Err(StoreError::invalid("announce_every_s", "0 (never) or 10 to 600 seconds"));
    }
    check_ms("owner_first_s", q.owner_first_s, 0, 600)?;
    check_ms("callback_after_s", q.callback_after_s, 0, 3_600)?;
    check_ms("callback_over_wait_s", q.callback_over_wait_s, 0, 3_600)?;
    check_ms("callback_attempts", q.callback_attempts, 1, 10)?;
    check_ms("callback_retry_s", q.callback_retry_s, 10, 86_400)?;
    if let Some(skills) = &q.skills {
        switchboard_core::acd::check_skills(skills)
            .map_err(|e| StoreError::invalid("skills", e))?;
    }
    if let Some(field) = &q.vip_field
        && (field.trim().is_empty() || field.len() > 64)
    {
        return Err(StoreError::invalid("vip_field", "a custom field's key"));
    }
    if let Some(after) = &q.after_hours
        && !matches!(after.as_str(), "voicemail" | "callback" | "hangup")
    {
        return Err(StoreError::invalid("after_hours", "voicemail, callback or hangup"));
    }
    if let Some(language) = &q.language
        && !matches!(language.as_str(), "ru" | "en")
    {
        return Err(StoreError::invalid("language", "must be ru or en"));
    }
    Ok(())
}

fn skills_text(skills: Option<&switchboard_core::acd::Skills>) -> Result<String, StoreError> {
    serde_json::to_string(&skills.cloned().unwrap_or_default())
        .map_err(|e| StoreError::invalid("skills", e.to_string()))
}

/// Fails unless the waiting sound is `ringback`, `music` or a stored prompt.
async fn check_waiting_sound(
    conn: &mut sqlx::AnyConnection,
    sound: Option<&str>,
) -> Result<(), StoreError> {
    match sound {
        None | Some("ringback" | "music") => Ok(()),
        Some(id) => require_ref(conn, "prompts", "waiting_sound", id).await,
    }
}

impl Store {
    /// Creates a queue (admins).
    pub async fn create_queue(&self, actor: &Actor, new: NewQueue) -> Result<Queue, StoreError> {
        validate(&new)?;
        let name = new.name.trim().to_owned();
        let number = new.number.as_ref().map(|n| n.trim().to_owned());
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id, name, number FROM queues WHERE name = ");
        dup.bind(name.clone()).push(" OR number = ").bind(number.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            let existing_id: String = row.try_get("id")?;
            let (field, value) = if row.try_get::<String, _>("name")? == name {
                ("name", name)
            } else {
                ("number", number.unwrap_or_default())
            };
            return Err(StoreError::Duplicate { field: field.into(), value, existing_id });
        }
        for member in &new.members {
            require_ref(&mut tx, "users", "members", member).await?;
        }
        check_waiting_sound(&mut tx, new.waiting_sound.as_deref()).await?;
        if let Some(schedule) = &new.schedule_id {
            require_ref(&mut tx, "schedules", "schedule_id", schedule).await?;
        }
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO queues (id, name, number, strategy, ring_timeout_ms, max_wait_ms, wrap_up_ms, record, sl_answer_ms, sl_target_pct, waiting_sound, announce_every_s, language, owner_first_s, vip_field, schedule_id, after_hours, callback_after_s, callback_over_wait_s, callback_attempts, callback_retry_s, skills, created_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ").bind(number.clone());
        sql.push(", ").bind(new.strategy.unwrap_or_default().as_str().to_owned());
        sql.push(", ").bind(new.ring_timeout_ms.unwrap_or(20_000));
        sql.push(", ").bind(new.max_wait_ms.unwrap_or(300_000));
        sql.push(", ").bind(new.wrap_up_ms.unwrap_or(0));
        sql.push(", ").bind(i64::from(new.record.unwrap_or(true)));
        sql.push(", ").bind(new.sl_answer_ms.unwrap_or(20_000));
        sql.push(", ").bind(new.sl_target_pct.unwrap_or(80));
        sql.push(", ").bind(new.waiting_sound.clone());
        sql.push(", ").bind(new.announce_every_s.unwrap_or(0));
        sql.push(", ").bind(new.language.clone().unwrap_or_else(|| "ru".into()));
        sql.push(", ").bind(new.owner_first_s.unwrap_or(0));
        sql.push(", ").bind(new.vip_field.clone());
        sql.push(", ").bind(new.schedule_id.clone());
        sql.push(", ").bind(new.after_hours.clone().unwrap_or_else(|| "voicemail".into()));
        sql.push(", ").bind(new.callback_after_s.unwrap_or(0));
        sql.push(", ").bind(new.callback_over_wait_s.unwrap_or(0));
        sql.push(", ").bind(new.callback_attempts.unwrap_or(3));
        sql.push(", ").bind(new.callback_retry_s.unwrap_or(300));
        sql.push(", ").bind(skills_text(new.skills.as_ref())?);
        sql.push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        for member in &new.members {
            let mut m = Sql::new("INSERT INTO queue_members (queue_id, user_id) VALUES (");
            m.bind(id.clone()).push(", ").bind(member.clone()).push(")");
            m.execute(&mut *tx).await?;
        }
        audit::record(
            &mut tx,
            actor,
            "queue.create",
            "queue",
            Some(&id),
            json!({"name": name, "number": number, "members": new.members}),
        )
        .await?;
        tx.commit().await?;
        self.get_queue(&id).await
    }

    /// Changes a queue: every `Some` field of `changes` replaces the stored one (`number` may be
    /// cleared with `Some(None)`), and `members`, when given, replaces the member list.
    pub async fn update_queue(
        &self,
        actor: &Actor,
        id: &str,
        changes: QueueChanges,
    ) -> Result<Queue, StoreError> {
        let current = self.get_queue(id).await?;
        let merged = NewQueue {
            name: changes.name.clone().unwrap_or(current.name.clone()),
            number: changes.number.clone().unwrap_or(current.number.clone()),
            strategy: Some(changes.strategy.unwrap_or(current.strategy)),
            ring_timeout_ms: Some(changes.ring_timeout_ms.unwrap_or(current.ring_timeout_ms)),
            max_wait_ms: Some(changes.max_wait_ms.unwrap_or(current.max_wait_ms)),
            wrap_up_ms: Some(changes.wrap_up_ms.unwrap_or(current.wrap_up_ms)),
            record: Some(changes.record.unwrap_or(current.record)),
            sl_answer_ms: Some(changes.sl_answer_ms.unwrap_or(current.sl_answer_ms)),
            sl_target_pct: Some(changes.sl_target_pct.unwrap_or(current.sl_target_pct)),
            members: changes.members.clone().unwrap_or(current.members.clone()),
            waiting_sound: changes.waiting_sound.clone().unwrap_or(current.waiting_sound.clone()),
            announce_every_s: Some(changes.announce_every_s.unwrap_or(current.announce_every_s)),
            language: Some(changes.language.clone().unwrap_or(current.language.clone())),
            owner_first_s: Some(changes.owner_first_s.unwrap_or(current.owner_first_s)),
            vip_field: changes.vip_field.clone().unwrap_or(current.vip_field.clone()),
            schedule_id: changes.schedule_id.clone().unwrap_or(current.schedule_id.clone()),
            after_hours: Some(changes.after_hours.clone().unwrap_or(current.after_hours.clone())),
            callback_after_s: Some(changes.callback_after_s.unwrap_or(current.callback_after_s)),
            callback_over_wait_s: Some(
                changes.callback_over_wait_s.unwrap_or(current.callback_over_wait_s),
            ),
            callback_attempts: Some(changes.callback_attempts.unwrap_or(current.callback_attempts)),
            callback_retry_s: Some(changes.callback_retry_s.unwrap_or(current.callback_retry_s)),
            skills: Some(changes.skills.clone().unwrap_or(current.skills.clone())),
        };
        validate(&merged)?;
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id, name FROM queues WHERE id <> ");
        dup.bind(id.to_owned())
            .push(" AND (name = ")
            .bind(merged.name.trim().to_owned())
            .push(" OR number = ")
            .bind(merged.number.clone())
            .push(")");
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            let existing_id: String = row.try_get("id")?;
            let (field, value) = if row.try_get::<String, _>("name")? == merged.name.trim() {
                ("name", merged.name.clone())
            } else {
                ("number", merged.number.clone().unwrap_or_default())
            };
            return Err(StoreError::Duplicate { field: field.into(), value, existing_id });
        }
        let mut sql = Sql::new("UPDATE queues SET name = ");
        sql.bind(merged.name.trim().to_owned()).push(", number = ").bind(merged.number.clone());
        sql.push(", strategy = ").bind(merged.strategy.unwrap_or_default().as_str().to_owned());
        sql.push(", ring_timeout_ms = ").bind(merged.ring_timeout_ms.unwrap_or(20_000));
        sql.push(", max_wait_ms = ").bind(merged.max_wait_ms.unwrap_or(300_000));
        sql.push(", wrap_up_ms = ").bind(merged.wrap_up_ms.unwrap_or(0));
        sql.push(", record = ").bind(i64::from(merged.record.unwrap_or(true)));
        sql.push(", sl_answer_ms = ").bind(merged.sl_answer_ms.unwrap_or(20_000));
        sql.push(", sl_target_pct = ").bind(merged.sl_target_pct.unwrap_or(80));
        check_waiting_sound(&mut tx, merged.waiting_sound.as_deref()).await?;
        sql.push(", waiting_sound = ").bind(merged.waiting_sound.clone());
        sql.push(", announce_every_s = ").bind(merged.announce_every_s.unwrap_or(0));
        sql.push(", language = ").bind(merged.language.clone().unwrap_or_else(|| "ru".into()));
        sql.push(", owner_first_s = ").bind(merged.owner_first_s.unwrap_or(0));
        sql.push(", vip_field = ").bind(merged.vip_field.clone());
        if let Some(schedule) = &merged.schedule_id {
            require_ref(&mut tx, "schedules", "schedule_id", schedule).await?;
        }
        sql.push(", schedule_id = ").bind(merged.schedule_id.clone());
        sql.push(", after_hours = ").bind(merged.after_hours.clone().unwrap_or_default());
        sql.push(", callback_after_s = ").bind(merged.callback_after_s.unwrap_or(0));
        sql.push(", callback_over_wait_s = ").bind(merged.callback_over_wait_s.unwrap_or(0));
        sql.push(", callback_attempts = ").bind(merged.callback_attempts.unwrap_or(3));
        sql.push(", callback_retry_s = ").bind(merged.callback_retry_s.unwrap_or(300));
        sql.push(", skills = ").bind(skills_text(merged.skills.as_ref())?);
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        if let Some(members) = &changes.members {
            for member in members {
                require_ref(&mut tx, "users", "members", member).await?;
            }
            let mut del = Sql::new("DELETE FROM queue_members WHERE queue_id = ");
            del.bind(id.to_owned());
            del.execute(&mut *tx).await?;
            for member in members {
                let mut m = Sql::new("INSERT INTO queue_members (queue_id, user_id) VALUES (");
                m.bind(id.to_owned()).push(", ").bind(member.clone()).push(")");
                m.execute(&mut *tx).await?;
            }
        }
        audit::record(
            &mut tx,
            actor,
            "queue.update",
            "queue",
            Some(id),
            json!({"name": merged.name, "number": merged.number, "members": changes.members}),
        )
        .await?;
        tx.commit().await?;
        self.get_queue(id).await
    }

    /// A queue by id, with its members.
    pub async fn get_queue(&self, id: &str) -> Result<Queue, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = "));
        sql.bind(id.to_owned());
        let row = sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("queue"))?;
        let members = self.queue_members(id).await?;
        queue_from_row(&row, members)
    }

    /// Every queue, by name, with members.
    pub async fn list_queues(&self) -> Result<Vec<Queue>, StoreError> {
        let rows = Sql::new(&format!("SELECT {QUEUE_COLUMNS} FROM queues ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        let member_rows =
            Sql::new("SELECT queue_id, user_id FROM queue_members ORDER BY priority, user_id")
                .fetch_all(&self.pool)
                .await?;
        let mut queues = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let mut members = Vec::new();
            for m in &member_rows {
                if m.try_get::<String, _>("queue_id")? == id {
                    members.push(m.try_get("user_id")?);
                }
            }
            queues.push(queue_from_row(row, members)?);
        }
        Ok(queues)
    }

    async fn queue_members(&self, queue_id: &str) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new("SELECT user_id FROM queue_members WHERE queue_id = ");
        sql.bind(queue_id.to_owned()).push(" ORDER BY priority, user_id");
        sql.fetch_all(&self.pool).await?.iter().map(|r| Ok(r.try_get("user_id")?)).collect()
    }

    /// The queue a called number routes to: by its number, else by its name.
    pub async fn queue_for_number(&self, number: &str) -> Result<Option<Queue>, StoreError> {
        let mut sql = Sql::new("SELECT id FROM queues WHERE number = ");
        sql.bind(number.to_owned())
            .push(" OR name = ")
            .bind(number.to_owned())
            .push(" ORDER BY CASE WHEN number = ")
            .bind(number.to_owned())
            .push(" THEN 0 ELSE 1 END LIMIT 1");
        match sql.fetch_optional(&self.pool).await? {
            Some(row) => Ok(Some(self.get_queue(&row.try_get::<String, _>("id")?).await?)),
            None => Ok(None),
        }
    }

    /// Ids of the queues an agent serves.
    pub async fn queues_of_agent(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new("SELECT queue_id FROM queue_members WHERE user_id = ");
        sql.bind(user_id.to_owned()).push(" ORDER BY queue_id");
        sql.fetch_all(&self.pool).await?.iter().map(|r| Ok(r.try_get("queue_id")?)).collect()
    }

    /// Sets how the gateway reaches an agent's phone (or with `None` removes it).
    pub async fn set_sip_endpoint(
        &self,
        actor: &Actor,
        user_id: &str,
        endpoint: Option<&SipEndpoint>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        require_ref(&mut tx, "users", "user_id", user_id).await?;
        let (uri, extension, ha1) = match endpoint {
            None => (None, None, None),
            Some(SipEndpoint::Uri(uri)) => {
                let uri = uri.trim();
                if !(uri.starts_with("sip:") || uri.starts_with("sips:"))
                    || uri.len() > 256
                    || uri.contains(char::is_whitespace)
                {
                    return Err(StoreError::invalid(
                        "uri",
                        "must be a SIP URI such as sip:101@192.0.2.10:5060",
                    ));
                }
                (Some(uri.to_owned()), None, None)
            }
            Some(SipEndpoint::Extension { extension, ha1 }) => {
                if extension.is_empty()
                    || extension.len() > 32
                    || !extension
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
                {
                    return Err(StoreError::invalid(
                        "extension",
                        "1 to 32 letters, digits, '.', '_' or '-'",
                    ));
                }
                let mut dup = Sql::new("SELECT user_id FROM sip_endpoints WHERE extension = ");
                dup.bind(extension.clone()).push(" AND user_id <> ").bind(user_id.to_owned());
                if let Some(row) = dup.fetch_optional(&mut *tx).await? {
                    return Err(StoreError::Duplicate {
                        field: "extension".into(),
                        value: extension.clone(),
                        existing_id: row.try_get("user_id")?,
                    });
                }
                (None, Some(extension.clone()), Some(ha1.clone()))
            }
        };
        let mut del = Sql::new("DELETE FROM sip_endpoints WHERE user_id = ");
        del.bind(user_id.to_owned());
        del.execute(&mut *tx).await?;
        if endpoint.is_some() {
            let mut ins = Sql::new(
                "INSERT INTO sip_endpoints (user_id, uri, extension, ha1, updated_at) VALUES (",
            );
            ins.bind(user_id.to_owned())
                .push(", ")
                .bind(uri.clone())
                .push(", ")
                .bind(extension.clone())
                .push(", ")
                .bind(ha1)
                .push(", ")
                .bind(now_ms())
                .push(")");
            ins.execute(&mut *tx).await?;
        }
        // The audit entry never holds the secret.
        audit::record(
            &mut tx,
            actor,
            "user.sip_endpoint",
            "user",
            Some(user_id),
            json!({"uri": uri, "extension": extension}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How the gateway reaches an agent's phone: `(uri, extension)`, one of them set.
    pub async fn sip_endpoint(
        &self,
        user_id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        let mut sql = Sql::new("SELECT uri, extension FROM sip_endpoints WHERE user_id = ");
        sql.bind(user_id.to_owned());
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => Some((row.try_get("uri")?, row.try_get("extension")?)),
            None => None,
        })
    }

    /// Keeps a desk phone's registration (`contact` None: it unregistered).
    pub async fn save_sip_binding(
        &self,
        extension: &str,
        contact: Option<&str>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sql = match contact {
            Some(contact) => {
                let mut sql =
                    Sql::new("INSERT INTO sip_bindings (extension, contact, expires_at) VALUES (");
                sql.bind(extension.to_owned())
                    .push(", ")
                    .bind(contact.to_owned())
                    .push(", ")
                    .bind(expires_at);
                sql.push(") ON CONFLICT (extension) DO UPDATE SET contact = excluded.contact, expires_at = excluded.expires_at");
                sql
            }
            None => {
                let mut sql = Sql::new("DELETE FROM sip_bindings WHERE extension = ");
                sql.bind(extension.to_owned());
                sql
            }
        };
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Desk phones' registrations that have not expired at `now`: `(extension, contact,
    /// expires_at)`.
    pub async fn live_sip_bindings(
        &self,
        now: i64,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut sql =
            Sql::new("SELECT extension, contact, expires_at FROM sip_bindings WHERE expires_at > ");
        sql.bind(now);
        let rows = sql.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("extension")?, r.try_get("contact")?, r.try_get("expires_at")?)))
            .collect()
    }

    /// Every agent's phone, for the switch's directory: extensions with their digest
    /// secrets and fixed URIs.
    pub async fn sip_endpoints(&self) -> Result<Vec<SipEndpointRow>, StoreError> {
        let rows =
            Sql::new("SELECT user_id, uri, extension, ha1 FROM sip_endpoints ORDER BY user_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(SipEndpointRow {
                    user_id: r.try_get("user_id")?,
                    uri: r.try_get("uri")?,
                    extension: r.try_get("extension")?,
                    ha1: r.try_get("ha1")?,
                })
            })
            .collect()
    }
}

/// One agent's phone as stored: a fixed URI, or an extension with its digest secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipEndpointRow {
    /// The agent.
    pub user_id: String,
    /// A fixed SIP URI.
    pub uri: Option<String>,
    /// The extension the phone registers as.
    pub extension: Option<String>,
    /// HA1 of the extension's password.
    pub ha1: Option<String>,
}

/// How the gateway reaches an agent's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEndpoint {
    /// A fixed SIP URI (`sip:101@192.0.2.10:5060`).
    Uri(String),
    /// An extension the phone registers as, with HA1 = MD5(extension:realm:password).
    Extension {
        /// The extension (SIP user).
        extension: String,
        /// The digest secret.
        ha1: String,
    },
}

/// Changes to a queue (see [`Store::update_queue`]).
#[derive(Debug, Clone, Default)]
pub struct QueueChanges {
    /// New name.
    pub name: Option<String>,
    /// New number (`Some(None)` clears it).
    pub number: Option<Option<String>>,
    /// New strategy.
    pub strategy: Option<Strategy>,
    /// New ring time.
    pub ring_timeout_ms: Option<i64>,
    /// New maximum wait.
    pub max_wait_ms: Option<i64>,
    /// New wrap-up.
    pub wrap_up_ms: Option<i64>,
    /// Record or not.
    pub record: Option<bool>,
    /// New service-level threshold.
    pub sl_answer_ms: Option<i64>,
    /// New service-level target.
    pub sl_target_pct: Option<i64>,
    /// New member list.
    pub members: Option<Vec<String>>,
    /// New waiting sound (`Some(None)`: the gateway's default).
    pub waiting_sound: Option<Option<String>>,
    /// New announcement interval.
    pub announce_every_s: Option<i64>,
    /// New announcement language.
    pub language: Option<String>,
    /// New owner-first time.
    pub owner_first_s: Option<i64>,
    /// New VIP field (`Some(None)`: none).
    pub vip_field: Option<Option<String>>,
    /// New schedule (`Some(None)`: always open).
    pub schedule_id: Option<Option<String>>,
    /// New after-hours handling.
    pub after_hours: Option<String>,
    /// New callback offer time.
    pub callback_after_s: Option<i64>,
    /// New callback threshold.
    pub callback_over_wait_s: Option<i64>,
    /// New callback attempts.
    pub callback_attempts: Option<i64>,
    /// New time between attempts.
    pub callback_retry_s: Option<i64>,
    /// New skills its agents need.
    pub skills: Option<switchboard_core::acd::Skills>,
}
