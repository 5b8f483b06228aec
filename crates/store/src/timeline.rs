//! A contact's timeline: notes, tasks, deals, deal changes and calls, newest first.

use sqlx::Row;
use switchboard_core::entity::TimelineItem;

use crate::sql::Sql;
use crate::{Store, StoreError};

impl Store {
    /// The newest `limit` events around a contact.
    pub async fn contact_timeline(&self, contact_id: &str, limit: u32) -> Result<Vec<TimelineItem>, StoreError> {
        self.get_contact(contact_id).await?;
        let limit = i64::from(limit.clamp(1, 500));
        let mut items: Vec<TimelineItem> = Vec::new();
        let queries: [(&str, &str); 5] = [
            ("note", "SELECT id, created_at AS at, body AS summary FROM notes WHERE contact_id = "),
            ("task", "SELECT id, created_at AS at, kind || ': ' || subject || ' [' || status || ']' AS summary FROM tasks WHERE contact_id = "),
            ("deal", "SELECT id, created_at AS at, title || ' [' || status || ']' AS summary FROM deals WHERE contact_id = "),
            ("deal_change", "SELECT dc.id, dc.changed_at AS at, d.title || ': ' || COALESCE(dc.from_status, '-') || ' -> ' || dc.to_status || ' / ' || s.name AS summary \
                FROM deal_changes dc JOIN deals d ON d.id = dc.deal_id JOIN pipeline_stages s ON s.id = dc.to_stage_id WHERE d.contact_id = "),
            ("call", "SELECT id, offered_at AS at, direction || ' ' || from_e164 || ' -> ' || to_e164 || ' ' || COALESCE(end_reason, 'in progress') || COALESCE(' · ' || disposition, '') || COALESCE(' · ' || reason, '') AS summary FROM calls WHERE contact_id = "),
        ];
        for (kind, select) in queries {
            let mut sql = Sql::new(select);
            sql.bind(contact_id.to_owned()).push(" ORDER BY at DESC LIMIT ").bind(limit);
            for row in sql.fetch_all(&self.pool).await? {
                let summary: String = row.try_get("summary")?;
                items.push(TimelineItem {
                    at: row.try_get("at")?,
                    kind: kind.to_owned(),
                    id: row.try_get("id")?,
                    summary: summary.chars().take(200).collect(),
                });
            }
        }
        items.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        items.truncate(limit as usize);
        Ok(items)
    }
}
