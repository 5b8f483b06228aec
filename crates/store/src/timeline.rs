//! Timelines of a contact and of a deal: notes, tasks, deals, deal changes and calls, newest
//! first. Calls carry their agent and, when recorded, where the recording plays (the API
//! drops the link for users who may not hear it).

use sqlx::Row;
use switchboard_core::entity::TimelineItem;

use crate::sql::Sql;
use crate::{Store, StoreError};

const CALL_ITEMS: &str = "SELECT id, offered_at AS at, agent_id, \
    CASE WHEN recording_path IS NOT NULL AND recording_purged_at IS NULL THEN 1 ELSE 0 END AS recorded, \
    direction || ' ' || from_e164 || ' -> ' || to_e164 || ' ' || COALESCE(end_reason, 'in progress') || COALESCE(' · ' || disposition, '') || COALESCE(' · ' || reason, '') AS summary, \
    from_e164 || ' → ' || to_e164 || COALESCE(' · ' || reason, '') AS text, direction, end_reason AS outcome, disposition \
    FROM calls WHERE ";

/// A stage change in one line: `Qualified → Proposal`, or just the stage when only the status
/// changed; then the reason. A stage with a catalogue key is written `{stage:<key>}`, which
/// the pages say in the reader's language.
const DEAL_CHANGE_TEXT: &str = "CASE WHEN fs.id IS NULL OR fs.id <> s.id THEN COALESCE('{stage:' || fs.key || '}', fs.name, '—') || ' → ' || COALESCE('{stage:' || s.key || '}', s.name) ELSE COALESCE('{stage:' || s.key || '}', s.name) END || COALESCE(' · ' || dc.reason, '')";
/// The same with the new status when it changed, in English: `Proposal · lost · price`.
const DEAL_CHANGE: &str = "CASE WHEN fs.id IS NULL OR fs.id <> s.id THEN COALESCE('{stage:' || fs.key || '}', fs.name, '—') || ' → ' || COALESCE('{stage:' || s.key || '}', s.name) ELSE COALESCE('{stage:' || s.key || '}', s.name) END \
    || CASE WHEN COALESCE(dc.from_status, '') <> dc.to_status THEN ' · ' || dc.to_status ELSE '' END || COALESCE(' · ' || dc.reason, '')";
/// The status a change moved to, when it changed.
const DEAL_CHANGE_STATUS: &str =
    "CASE WHEN COALESCE(dc.from_status, '') <> dc.to_status THEN dc.to_status END";
const NOTE_ITEMS: &str =
    "SELECT id, created_at AS at, body AS summary, body AS text FROM notes WHERE ";
const TASK_ITEMS: &str = "SELECT id, created_at AS at, kind || ': ' || subject || ' [' || status || ']' AS summary, subject AS text, kind AS task_kind, status FROM tasks WHERE ";

impl Store {
    /// The newest `limit` events around a contact.
    pub async fn contact_timeline(
        &self,
        contact_id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        self.get_contact(contact_id).await?;
        let calls = format!("{CALL_ITEMS}contact_id = ");
        let changes = format!(
            "SELECT dc.id, dc.changed_at AS at, d.title || ': ' || {DEAL_CHANGE} AS summary, d.title || ': ' || {DEAL_CHANGE_TEXT} AS text, {DEAL_CHANGE_STATUS} AS status \
            FROM deal_changes dc JOIN deals d ON d.id = dc.deal_id JOIN pipeline_stages s ON s.id = dc.to_stage_id \
            LEFT JOIN pipeline_stages fs ON fs.id = dc.from_stage_id WHERE d.contact_id = "
        );
        let (notes, tasks) =
            (format!("{NOTE_ITEMS}contact_id = "), format!("{TASK_ITEMS}contact_id = "));
        let queries: [(&str, &str); 5] = [
            ("note", notes.as_str()),
            ("task", tasks.as_str()),
            (
                "deal",
                "SELECT id, created_at AS at, title || ' [' || status || ']' AS summary, title AS text, status FROM deals WHERE contact_id = ",
            ),
            ("deal_change", changes.as_str()),
            ("call", calls.as_str()),
        ];
        self.timeline(&queries, contact_id, limit).await
    }

    /// The newest `limit` events around a deal: its notes, tasks, stage changes and calls.
    pub async fn deal_timeline(
        &self,
        deal_id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        self.get_deal(deal_id).await?;
        let calls = format!("{CALL_ITEMS}deal_id = ");
        let changes = format!(
            "SELECT dc.id, dc.changed_at AS at, {DEAL_CHANGE} AS summary, {DEAL_CHANGE_TEXT} AS text, {DEAL_CHANGE_STATUS} AS status \
            FROM deal_changes dc JOIN pipeline_stages s ON s.id = dc.to_stage_id \
            LEFT JOIN pipeline_stages fs ON fs.id = dc.from_stage_id WHERE dc.deal_id = "
        );
        let (notes, tasks) = (format!("{NOTE_ITEMS}deal_id = "), format!("{TASK_ITEMS}deal_id = "));
        let documents = "SELECT id, created_at AS at, title || ' № ' || number AS summary, \
            number AS text, status, kind AS doc_kind FROM documents WHERE deal_id = ";
        let queries: [(&str, &str); 5] = [
            ("note", notes.as_str()),
            ("task", tasks.as_str()),
            ("deal_change", changes.as_str()),
            ("call", calls.as_str()),
            ("document", documents),
        ];
        self.timeline(&queries, deal_id, limit).await
    }

    async fn timeline(
        &self,
        queries: &[(&str, &str)],
        id: &str,
        limit: u32,
    ) -> Result<Vec<TimelineItem>, StoreError> {
        let limit = i64::from(limit.clamp(1, 500));
        let mut items: Vec<TimelineItem> = Vec::new();
        for (kind, select) in queries {
            let mut sql = Sql::new(select);
            sql.bind(id.to_owned()).push(" ORDER BY at DESC LIMIT ").bind(limit);
            for row in sql.fetch_all(&self.pool).await? {
                let summary: String = row.try_get("summary")?;
                let id: String = row.try_get("id")?;
                let (agent_id, recording_url) = if *kind == "call" {
                    let recorded: i64 = row.try_get("recorded")?;
                    (
                        row.try_get("agent_id")?,
                        (recorded != 0).then(|| format!("/api/recordings/{id}/audio")),
                    )
                } else {
                    (None, None)
                };
                let text: String = row.try_get("text")?;
                // Columns a kind's query does not select read as absent.
                let word = |column: &str| row.try_get::<Option<String>, _>(column).ok().flatten();
                items.push(TimelineItem {
                    at: row.try_get("at")?,
                    kind: (*kind).to_owned(),
                    id,
                    summary: summary.chars().take(200).collect(),
                    text: text.chars().take(200).collect(),
                    direction: word("direction"),
                    outcome: word("outcome"),
                    disposition: word("disposition"),
                    task_kind: word("task_kind"),
                    doc_kind: word("doc_kind"),
                    status: word("status"),
                    agent_id,
                    recording_url,
                });
            }
        }
        items.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        items.truncate(limit as usize);
        Ok(items)
    }
}
