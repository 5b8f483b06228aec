//! Settings an admin changes in the browser (dispositions, recording retention). Each is a
//! JSON value under a key; a key that was never set falls back to the configuration file,
//! which is the caller's business.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::Row;

use crate::sql::Sql;

/// The call outcomes agents choose from (a JSON array of keys).
pub const DISPOSITIONS: &str = "calls.dispositions";
/// Days recordings are kept (a JSON number; 0 keeps them forever).
pub const RETENTION_DAYS: &str = "recordings.retention_days";
/// Why deals are lost, the list a user picks from (a JSON array of labels or keys).
pub const LOSS_REASONS: &str = "deals.loss_reasons";
/// The loss reasons until an administrator sets their own: keys the pages say in the
/// reader's language (`loss_price`, ...).
pub const DEFAULT_LOSS_REASONS: &[&str] =
    &["price", "competitor", "no_budget", "no_decision", "no_contact"];
use crate::{Actor, Store, StoreError, audit, now_ms};

impl Store {
    /// Every setting that was changed in the browser.
    pub async fn settings(&self) -> Result<BTreeMap<String, Value>, StoreError> {
        let rows = Sql::new("SELECT key, value FROM settings").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let text: String = row.try_get("value")?;
                Ok((
                    row.try_get("key")?,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                ))
            })
            .collect()
    }

    /// One setting, if it was ever set.
    pub async fn setting(&self, key: &str) -> Result<Option<Value>, StoreError> {
        let mut sql = Sql::new("SELECT value FROM settings WHERE key = ");
        sql.bind(key.to_owned());
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => {
                let text: String = row.try_get("value")?;
                Some(serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            None => None,
        })
    }

    /// Sets a setting, with a `setting.update` audit entry holding the old and new values.
    pub async fn set_setting(
        &self,
        actor: &Actor,
        key: &str,
        value: &Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        write_setting(&mut tx, actor, key, value).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// [`Store::set_setting`] in a transaction of the caller's.
pub(crate) async fn write_setting(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    key: &str,
    value: &Value,
) -> Result<(), StoreError> {
    let mut read = Sql::new("SELECT value FROM settings WHERE key = ");
    read.bind(key.to_owned());
    let before: Option<Value> = match read.fetch_optional(&mut *tx).await? {
        Some(row) => {
            row.try_get::<String, _>("value").ok().and_then(|t| serde_json::from_str(&t).ok())
        }
        None => None,
    };
    let mut sql = Sql::new("INSERT INTO settings (key, value, updated_at) VALUES (");
    sql.bind(key.to_owned()).push(", ").bind(value.to_string()).push(", ").bind(now_ms());
    sql.push(") ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
    sql.execute(&mut *tx).await?;
    audit::record(
        &mut *tx,
        actor,
        "setting.update",
        "setting",
        Some(key),
        serde_json::json!({"before": before, "after": value}),
    )
    .await?;
    Ok(())
}

impl Store {
    /// The retention in days: the admin's setting, else `configured`.
    pub async fn retention_days(&self, configured: u32) -> Result<u32, StoreError> {
        Ok(self
            .setting(RETENTION_DAYS)
            .await?
            .and_then(|v| v.as_u64())
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(configured))
    }

    /// The dispositions: the admin's list, else `configured`.
    pub async fn dispositions(&self, configured: &[String]) -> Result<Vec<String>, StoreError> {
        Ok(match self.setting(DISPOSITIONS).await? {
            Some(Value::Array(items)) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            _ => configured.to_vec(),
        })
    }

    /// The loss reasons: the admin's list, else [`DEFAULT_LOSS_REASONS`].
    pub async fn loss_reasons(&self) -> Result<Vec<String>, StoreError> {
        Ok(match self.setting(LOSS_REASONS).await? {
            Some(Value::Array(items)) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            _ => DEFAULT_LOSS_REASONS.iter().map(|r| (*r).to_owned()).collect(),
        })
    }

    /// Writes one audit entry for an event that changes no row (an export, an import run's
    /// summary). `detail` must never hold secrets.
    pub async fn audit_event(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        entity_id: Option<&str>,
        detail: Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit::record(&mut tx, actor, action, entity, entity_id, detail).await?;
        tx.commit().await?;
        Ok(())
    }
}
