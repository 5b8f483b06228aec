//! Prompts: audio played to callers, kept as G.711 μ-law at 8 kHz. The list never carries
//! the audio; it is read by id, or all at once by the switch, which plays from memory.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::entity::Prompt;
use switchboard_core::new_id;

use crate::sql::Sql;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A prompt to store.
#[derive(Debug, Clone)]
pub struct NewPrompt {
    /// Unique name.
    pub name: String,
    /// "ru" or "en".
    pub language: String,
    /// `upload` or `speech`.
    pub source: String,
    /// The text spoken (speech).
    pub text: Option<String>,
    /// The uploaded file's name (upload).
    pub file_name: Option<String>,
    /// μ-law at 8 kHz.
    pub audio: Vec<u8>,
}

const COLUMNS: &str =
    "id, name, language, source, text, file_name, duration_ms, created_by, created_at";

fn prompt_from_row(row: &AnyRow) -> Result<Prompt, StoreError> {
    Ok(Prompt {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        language: row.try_get("language")?,
        source: row.try_get("source")?,
        text: row.try_get("text")?,
        file_name: row.try_get("file_name")?,
        duration_ms: row.try_get("duration_ms")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a prompt (audit-logged, without its audio).
    pub async fn create_prompt(&self, actor: &Actor, new: NewPrompt) -> Result<Prompt, StoreError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() {
            return Err(StoreError::invalid("name", "must not be empty"));
        }
        if name.chars().count() > 100 {
            return Err(StoreError::invalid("name", "at most 100 characters"));
        }
        if !matches!(new.language.as_str(), "ru" | "en") {
            return Err(StoreError::invalid("language", "must be ru or en"));
        }
        if new.audio.is_empty() {
            return Err(StoreError::invalid("audio", "must not be empty"));
        }
        let mut tx = self.begin_write().await?;
        let mut dup = Sql::new("SELECT id FROM prompts WHERE name = ");
        dup.bind(name.clone());
        if let Some(row) = dup.fetch_optional(&mut *tx).await? {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: row.try_get("id")?,
            });
        }
        let id = new_id();
        let duration_ms = i64::try_from(new.audio.len() / 8).unwrap_or(i64::MAX);
        let mut sql = Sql::new(&format!("INSERT INTO prompts ({COLUMNS}, audio) VALUES ("));
        sql.bind(id.clone()).push(", ").bind(name.clone()).push(", ");
        sql.bind(new.language.clone()).push(", ").bind(new.source.clone()).push(", ");
        sql.bind(new.text.clone()).push(", ").bind(new.file_name.clone()).push(", ");
        sql.bind(duration_ms).push(", ").bind(actor.user_id.clone()).push(", ");
        sql.bind(now_ms()).push(", ").bind(new.audio).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "prompt.create",
            "prompt",
            Some(&id),
            json!({"name": name, "language": new.language, "source": new.source,
                   "text": new.text, "file_name": new.file_name, "duration_ms": duration_ms}),
        )
        .await?;
        tx.commit().await?;
        self.get_prompt(&id).await
    }

    /// A prompt by id, without its audio.
    pub async fn get_prompt(&self, id: &str) -> Result<Prompt, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM prompts WHERE id = "));
        sql.bind(id.to_owned());
        prompt_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("prompt"))?,
        )
    }

    /// Every prompt, by name, without audio.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, StoreError> {
        let rows = Sql::new(&format!("SELECT {COLUMNS} FROM prompts ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(prompt_from_row).collect()
    }

    /// A prompt's audio (μ-law, 8 kHz).
    pub async fn prompt_audio(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let mut sql = Sql::new("SELECT audio FROM prompts WHERE id = ");
        sql.bind(id.to_owned());
        let row = sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("prompt"))?;
        Ok(row.try_get("audio")?)
    }

    /// Every prompt's id and audio: what the switch plays from memory.
    pub async fn all_prompt_audio(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let rows = Sql::new("SELECT id, audio FROM prompts").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("audio")?))).collect()
    }

    /// Deletes a prompt (audit-logged).
    pub async fn delete_prompt(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let prompt = self.get_prompt(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM prompts WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "prompt.delete",
            "prompt",
            Some(id),
            json!({"name": prompt.name}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
