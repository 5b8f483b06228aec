//! Notes on contacts, companies and deals.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::entity::Note;
use switchboard_core::new_id;

use crate::sql::Sql;
use crate::teams::require_ref;
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A note to write; at least one of the record ids must be given.
#[derive(Debug, Clone, Default)]
pub struct NewNote {
    /// The text.
    pub body: String,
    /// On this contact.
    pub contact_id: Option<String>,
    /// On this company.
    pub company_id: Option<String>,
    /// On this deal.
    pub deal_id: Option<String>,
}

fn note_from_row(row: &AnyRow) -> Result<Note, StoreError> {
    Ok(Note {
        id: row.try_get("id")?,
        body: row.try_get("body")?,
        contact_id: row.try_get("contact_id")?,
        company_id: row.try_get("company_id")?,
        deal_id: row.try_get("deal_id")?,
        author_id: row.try_get("author_id")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Writes a note.
    pub async fn create_note(&self, actor: &Actor, new: NewNote) -> Result<Note, StoreError> {
        let body = new.body.trim().to_owned();
        if body.is_empty() || body.chars().count() > 20_000 {
            return Err(StoreError::invalid("body", "1-20000 characters"));
        }
        if new.contact_id.is_none() && new.company_id.is_none() && new.deal_id.is_none() {
            return Err(StoreError::invalid(
                "contact_id",
                "a note belongs to a contact, a company or a deal",
            ));
        }
        let mut tx = self.begin_write().await?;
        for (table, field, id) in [
            ("contacts", "contact_id", &new.contact_id),
            ("companies", "company_id", &new.company_id),
            ("deals", "deal_id", &new.deal_id),
        ] {
            if let Some(id) = id {
                require_ref(&mut tx, table, field, id).await?;
            }
        }
        let id = new_id();
        let mut sql = Sql::new(
            "INSERT INTO notes (id, body, contact_id, company_id, deal_id, author_id, created_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(body)
            .push(", ")
            .bind(new.contact_id.clone())
            .push(", ")
            .bind(new.company_id.clone());
        sql.push(", ")
            .bind(new.deal_id.clone())
            .push(", ")
            .bind(actor.user_id.clone())
            .push(", ")
            .bind(now_ms())
            .push(")");
        sql.execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "note.create", "note", Some(&id), json!({"contact_id": new.contact_id, "company_id": new.company_id, "deal_id": new.deal_id})).await?;
        tx.commit().await?;
        self.get_note(&id).await
    }

    /// A note by id.
    pub async fn get_note(&self, id: &str) -> Result<Note, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, body, contact_id, company_id, deal_id, author_id, created_at FROM notes WHERE id = ",
        );
        sql.bind(id.to_owned());
        note_from_row(&sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("note"))?)
    }

    /// Notes on a record, newest first. `column` is one of contact_id, company_id, deal_id.
    pub async fn list_notes(
        &self,
        contact_id: Option<&str>,
        company_id: Option<&str>,
        deal_id: Option<&str>,
    ) -> Result<Vec<Note>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, body, contact_id, company_id, deal_id, author_id, created_at FROM notes WHERE 1 = 1",
        );
        for (column, value) in
            [("contact_id", contact_id), ("company_id", company_id), ("deal_id", deal_id)]
        {
            if let Some(value) = value {
                sql.push(&format!(" AND {column} = ")).bind(value.to_owned());
            }
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT 500");
        sql.fetch_all(&self.pool).await?.iter().map(note_from_row).collect()
    }

    /// Deletes a note.
    pub async fn delete_note(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        self.get_note(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM notes WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "note.delete", "note", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}
