//! The audit log: one row per write, in the same transaction as the write.

use serde_json::Value;
use sqlx::AnyConnection;
use sqlx::Row;
use switchboard_core::entity::AuditEntry;
use switchboard_core::new_id;

use crate::sql::{Sql, like_prefix};
use crate::{Actor, Page, PageRequest, Store, StoreError, now_ms};

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only changes by this user.
    pub user_id: Option<String>,
    /// Only this record kind.
    pub entity: Option<String>,
    /// Only this record.
    pub entity_id: Option<String>,
    /// Only actions starting with this (e.g. `contact.`).
    pub action_prefix: Option<String>,
}

/// Appends one audit entry. `detail` must never hold secrets (password hashes, tokens).
pub(crate) async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    detail: Value,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(
        "INSERT INTO audit_log (id, at, user_id, action, entity, entity_id, detail) VALUES (",
    );
    sql.bind(new_id()).push(", ").bind(now_ms()).push(", ").bind(actor.user_id.clone());
    sql.push(", ").bind(action.to_owned()).push(", ").bind(entity.to_owned());
    sql.push(", ").bind(entity_id.map(str::to_owned)).push(", ").bind(detail.to_string()).push(")");
    sql.execute(conn).await?;
    Ok(())
}

impl Store {
    /// Lists audit entries, newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let build = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM audit_log WHERE 1 = 1");
            if let Some(user) = &filter.user_id {
                sql.push(" AND user_id = ").bind(user.clone());
            }
            if let Some(entity) = &filter.entity {
                sql.push(" AND entity = ").bind(entity.clone());
            }
            if let Some(id) = &filter.entity_id {
                sql.push(" AND entity_id = ").bind(id.clone());
            }
            if let Some(prefix) = &filter.action_prefix {
                sql.push(" AND action LIKE ").bind(like_prefix(prefix)).push(" ESCAPE '\\'");
            }
            sql
        };
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let mut sql = build("SELECT id, at, user_id, action, entity, entity_id, detail");
        sql.push(" ORDER BY id DESC LIMIT ").bind(i64::from(page.per_page));
        sql.push(" OFFSET ").bind(page.offset());
        let rows = sql.fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|row| {
                let detail: String = row.try_get("detail")?;
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    user_id: row.try_get("user_id")?,
                    action: row.try_get("action")?,
                    entity: row.try_get("entity")?,
                    entity_id: row.try_get("entity_id")?,
                    detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }
}
