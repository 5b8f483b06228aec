//! Document templates and the documents made from them: numbered per kind and year, kept as
//! the PDF that rendered, approved when the settings say so, and every e-mail of them logged.
//! Rendering is the caller's (the API renders with `switchboard-docs` before it stores), so a
//! document that fails to render is never written.

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::new_id;
use switchboard_core::sales::{DocKind, DocStatus, Document, DocumentSend, DocumentTemplate};

use crate::sql::{Sql, flag, parse_col};
use crate::{Actor, Store, StoreError, audit, now_ms};

/// A document to store, rendered already.
#[derive(Debug, Clone)]
pub struct NewDocument {
    /// The deal.
    pub deal_id: String,
    /// The template.
    pub template_id: String,
    /// What it is.
    pub kind: DocKind,
    /// Its title.
    pub title: String,
    /// The year of its number.
    pub year: i64,
    /// The number it was rendered with (see [`Store::next_document_number`]).
    pub seq: i64,
    /// What the client pays.
    pub total_minor: i64,
    /// Currency.
    pub currency: String,
    /// The largest line discount.
    pub max_discount: i64,
    /// Why it needs approval (`None`: it is ready).
    pub approval_reason: Option<String>,
    /// The PDF.
    pub pdf: Vec<u8>,
}

const TEMPLATE_COLUMNS: &str = "id, kind, name, key, source, active, created_at, updated_at";

fn template_from_row(row: &AnyRow) -> Result<DocumentTemplate, StoreError> {
    Ok(DocumentTemplate {
        id: row.try_get("id")?,
        kind: parse_col(row, "kind")?,
        name: row.try_get("name")?,
        key: row.try_get("key")?,
        source: row.try_get("source")?,
        active: flag(row, "active")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const DOCUMENT_COLUMNS: &str = "id, deal_id, template_id, kind, title, number, year, total_minor, currency, max_discount, status, \
    approval_reason, decided_by, decided_at, decision_comment, pdf_size, created_by, created_at";

fn document_from_row(row: &AnyRow) -> Result<Document, StoreError> {
    Ok(Document {
        id: row.try_get("id")?,
        deal_id: row.try_get("deal_id")?,
        template_id: row.try_get("template_id")?,
        kind: parse_col(row, "kind")?,
        title: row.try_get("title")?,
        number: row.try_get("number")?,
        year: row.try_get("year")?,
        total_minor: row.try_get("total_minor")?,
        currency: row.try_get("currency")?,
        max_discount: row.try_get("max_discount")?,
        status: parse_col(row, "status")?,
        approval_reason: row.try_get("approval_reason")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        decision_comment: row.try_get("decision_comment")?,
        pdf_size: row.try_get("pdf_size")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        sends: Vec::new(),
    })
}

fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::invalid("name", "1-200 characters"));
    }
    Ok(name.to_owned())
}

impl Store {
    /// Adds `defaults` (kind, name, source) when there are no templates at all.
    pub async fn seed_document_templates(
        &self,
        defaults: &[(&str, &str, &str)],
    ) -> Result<(), StoreError> {
        if Sql::new("SELECT COUNT(*) FROM document_templates").fetch_count(&self.pool).await? > 0 {
            return Ok(());
        }
        for (kind, name, source) in defaults {
            let kind: DocKind =
                kind.parse().map_err(|_| StoreError::invalid("kind", "unknown value"))?;
            let made = self.create_document_template(&Actor::system(), kind, name, source).await?;
            let mut key = Sql::new("UPDATE document_templates SET key = ");
            key.bind(kind.as_str().to_owned()).push(" WHERE id = ").bind(made.id);
            key.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Every template, by kind and name.
    pub async fn document_templates(&self) -> Result<Vec<DocumentTemplate>, StoreError> {
        let sql = Sql::new(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM document_templates ORDER BY kind, name"
        ));
        sql.fetch_all(&self.pool).await?.iter().map(template_from_row).collect()
    }

    /// One template.
    pub async fn document_template(&self, id: &str) -> Result<DocumentTemplate, StoreError> {
        let mut sql =
            Sql::new(&format!("SELECT {TEMPLATE_COLUMNS} FROM document_templates WHERE id = "));
        sql.bind(id.to_owned());
        template_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("template"))?,
        )
    }

    async fn check_template_name(&self, name: &str, id: Option<&str>) -> Result<(), StoreError> {
        let mut sql = Sql::new("SELECT id FROM document_templates WHERE name = ");
        sql.bind(name.to_owned());
        if let Some(row) = sql.fetch_optional(&self.pool).await? {
            let other: String = row.try_get("id")?;
            if Some(other.as_str()) != id {
                return Err(StoreError::Duplicate {
                    field: "name".into(),
                    value: name.to_owned(),
                    existing_id: other,
                });
            }
        }
        Ok(())
    }

    /// Adds a template (its source checked by the caller).
    pub async fn create_document_template(
        &self,
        actor: &Actor,
        kind: DocKind,
        name: &str,
        source: &str,
    ) -> Result<DocumentTemplate, StoreError> {
        let name = check_name(name)?;
        self.check_template_name(&name, None).await?;
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new(&format!("INSERT INTO document_templates ({TEMPLATE_COLUMNS}) VALUES ("));
        sql.bind(id.clone())
            .push(", ")
            .bind(kind.as_str().to_owned())
            .push(", ")
            .bind(name.clone());
        sql.push(", NULL, ")
            .bind(source.to_owned())
            .push(", 1, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "template.create",
            "template",
            Some(&id),
            json!({"kind": kind, "name": name}),
        )
        .await?;
        tx.commit().await?;
        self.document_template(&id).await
    }

    /// Changes a template (its source checked by the caller).
    pub async fn update_document_template(
        &self,
        actor: &Actor,
        id: &str,
        name: Option<&str>,
        source: Option<&str>,
        active: Option<bool>,
    ) -> Result<DocumentTemplate, StoreError> {
        self.document_template(id).await?;
        let mut sql = Sql::new("UPDATE document_templates SET updated_at = ");
        sql.bind(now_ms());
        if let Some(name) = name {
            let name = check_name(name)?;
            self.check_template_name(&name, Some(id)).await?;
            if name != self.document_template(id).await?.name {
                // A name of the administrator's own replaces the catalogue's words.
                sql.push(", name = ").bind(name).push(", key = NULL");
            }
        }
        if let Some(source) = source {
            sql.push(", source = ").bind(source.to_owned());
        }
        if let Some(active) = active {
            sql.push(", active = ").bind(i64::from(active));
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "template.update",
            "template",
            Some(id),
            json!({"name": name, "source_changed": source.is_some(), "active": active}),
        )
        .await?;
        tx.commit().await?;
        self.document_template(id).await
    }

    /// The number the next document of `kind` in `year` will get.
    pub async fn next_document_number(&self, kind: DocKind, year: i64) -> Result<i64, StoreError> {
        let mut sql = Sql::new("SELECT last FROM document_numbers WHERE kind = ");
        sql.bind(kind.as_str().to_owned()).push(" AND year = ").bind(year);
        Ok(match sql.fetch_optional(&self.pool).await? {
            Some(row) => row.try_get::<i64, _>("last")? + 1,
            None => 1,
        })
    }

    /// Stores a rendered document, taking its number. `Ok(None)` when another document took
    /// that number meanwhile: render again with the next one.
    pub async fn insert_document(
        &self,
        actor: &Actor,
        new: NewDocument,
    ) -> Result<Option<Document>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut take = Sql::new("INSERT INTO document_numbers (kind, year, last) VALUES (");
        take.bind(new.kind.as_str().to_owned()).push(", ").bind(new.year).push(", 1)");
        take.push(" ON CONFLICT (kind, year) DO UPDATE SET last = document_numbers.last + 1");
        take.execute(&mut *tx).await?;
        let mut read = Sql::new("SELECT last FROM document_numbers WHERE kind = ");
        read.bind(new.kind.as_str().to_owned()).push(" AND year = ").bind(new.year);
        let seq: i64 = read
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::not_found("number"))?
            .try_get("last")?;
        if seq != new.seq {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = new_id();
        let status =
            if new.approval_reason.is_some() { DocStatus::Pending } else { DocStatus::Ready };
        let mut sql = Sql::new(
            "INSERT INTO documents (id, deal_id, template_id, kind, title, number, year, seq, total_minor, currency, max_discount, status, approval_reason, pdf, pdf_size, created_by, created_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(new.deal_id.clone())
            .push(", ")
            .bind(new.template_id.clone());
        sql.push(", ").bind(new.kind.as_str().to_owned()).push(", ").bind(new.title.clone());
        sql.push(", ").bind(seq.to_string()).push(", ").bind(new.year).push(", ").bind(seq);
        sql.push(", ").bind(new.total_minor).push(", ").bind(new.currency.clone());
        sql.push(", ").bind(new.max_discount).push(", ").bind(status.as_str().to_owned());
        sql.push(", ").bind(new.approval_reason.clone());
        sql.push(", ").bind(new.pdf.clone()).push(", ").bind(new.pdf.len() as i64);
        sql.push(", ").bind(actor.user_id.clone()).push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "document.create",
            "deal",
            Some(&new.deal_id),
            json!({"document_id": id, "kind": new.kind, "number": seq, "year": new.year, "total_minor": new.total_minor,
                   "status": status, "approval_reason": new.approval_reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(self.document(&id).await?))
    }

    /// One document with its e-mails.
    pub async fn document(&self, id: &str) -> Result<Document, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = "));
        sql.bind(id.to_owned());
        let mut doc = document_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("document"))?,
        )?;
        doc.sends = self.document_sends(id).await?;
        Ok(doc)
    }

    /// A deal's documents, newest first, with their e-mails.
    pub async fn deal_documents(&self, deal_id: &str) -> Result<Vec<Document>, StoreError> {
        let mut sql =
            Sql::new(&format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE deal_id = "));
        sql.bind(deal_id.to_owned()).push(" ORDER BY created_at DESC, id DESC");
        let mut docs: Vec<Document> = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(document_from_row)
            .collect::<Result<_, _>>()?;
        for doc in &mut docs {
            doc.sends = self.document_sends(&doc.id).await?;
        }
        Ok(docs)
    }

    /// Documents waiting for approval, oldest first.
    pub async fn pending_documents(&self) -> Result<Vec<Document>, StoreError> {
        let sql = Sql::new(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE status = 'pending' ORDER BY created_at, id LIMIT 500"
        ));
        sql.fetch_all(&self.pool).await?.iter().map(document_from_row).collect()
    }

    /// A document's PDF.
    pub async fn document_pdf(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let mut sql = Sql::new("SELECT pdf FROM documents WHERE id = ");
        sql.bind(id.to_owned());
        Ok(sql
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::not_found("document"))?
            .try_get("pdf")?)
    }

    /// Approves or rejects a pending document, with the approver's comment.
    pub async fn decide_document(
        &self,
        actor: &Actor,
        id: &str,
        approve: bool,
        comment: Option<String>,
    ) -> Result<Document, StoreError> {
        let doc = self.document(id).await?;
        if doc.status != DocStatus::Pending {
            return Err(StoreError::Conflict(format!(
                "the document is {}, not pending",
                doc.status
            )));
        }
        let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if !approve && comment.is_none() {
            return Err(StoreError::invalid("comment", "a rejection needs a comment"));
        }
        let status = if approve { DocStatus::Approved } else { DocStatus::Rejected };
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE documents SET status = ");
        sql.bind(status.as_str().to_owned()).push(", decided_by = ").bind(actor.user_id.clone());
        sql.push(", decided_at = ")
            .bind(now_ms())
            .push(", decision_comment = ")
            .bind(comment.clone());
        sql.push(" WHERE status = 'pending' AND id = ").bind(id.to_owned());
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::Conflict("the document was decided meanwhile".into()));
        }
        audit::record(
            &mut tx,
            actor,
            if approve { "document.approve" } else { "document.reject" },
            "deal",
            Some(&doc.deal_id),
            json!({"document_id": id, "number": doc.number, "comment": comment}),
        )
        .await?;
        tx.commit().await?;
        self.document(id).await
    }

    /// A document's e-mails, oldest first.
    pub async fn document_sends(&self, id: &str) -> Result<Vec<DocumentSend>, StoreError> {
        let mut sql = Sql::new(
            "SELECT to_address, sent_by, sent_at, error FROM document_sends WHERE document_id = ",
        );
        sql.bind(id.to_owned()).push(" ORDER BY sent_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(DocumentSend {
                    to_address: row.try_get("to_address")?,
                    sent_by: row.try_get("sent_by")?,
                    sent_at: row.try_get("sent_at")?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    /// Logs an e-mail of a document (`error`: what the mail server said when it refused).
    pub async fn record_document_send(
        &self,
        actor: &Actor,
        id: &str,
        to: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let doc = self.document(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO document_sends (id, document_id, to_address, sent_by, sent_at, error) VALUES (",
        );
        sql.bind(new_id()).push(", ").bind(id.to_owned()).push(", ").bind(to.to_owned());
        sql.push(", ").bind(actor.user_id.clone()).push(", ").bind(now_ms());
        sql.push(", ").bind(error.map(str::to_owned)).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "document.send",
            "deal",
            Some(&doc.deal_id),
            json!({"document_id": id, "number": doc.number, "to": to, "error": error}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tells `users` in the app (`kind`: `approval`, `document_approved`, ...), about a deal.
    pub async fn notify_users(
        &self,
        users: &[String],
        kind: &str,
        deal_id: Option<&str>,
        body: &str,
    ) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for user in users {
            let mut sql = Sql::new(
                "INSERT INTO notifications (id, user_id, kind, deal_id, body, created_at) VALUES (",
            );
            sql.bind(new_id()).push(", ").bind(user.clone()).push(", ").bind(kind.to_owned());
            sql.push(", ").bind(deal_id.map(str::to_owned)).push(", ").bind(body.to_owned());
            sql.push(", ").bind(now_ms()).push(")");
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
