//! Deals and the pipeline. Every change of stage or status is kept with who made it and when.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::{CustomValues, Deal, DealChange, DealStatus, PipelineStage};
use switchboard_core::text::search_key;
use switchboard_core::{EntityKind, new_id};

use crate::custom_fields::push_custom_filters;
use crate::sql::{Sql, like_contains, parse_col};
use crate::teams::require_ref;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// A pipeline stage to create.
#[derive(Debug, Clone)]
pub struct NewStage {
    /// Unique name.
    pub name: String,
    /// Order on the board; `None` puts it last.
    pub position: Option<i64>,
    /// Default win probability, percent.
    pub probability: i64,
    /// The catalogue key of a stage the system made (`new`: the pages say `stage_new`).
    pub key: Option<String>,
}

/// Changes to a stage.
#[derive(Debug, Clone, Default)]
pub struct StageChanges {
    /// New name.
    pub name: Option<String>,
    /// New position.
    pub position: Option<i64>,
    /// New probability.
    pub probability: Option<i64>,
}

/// A deal to create.
#[derive(Debug, Clone, Default)]
pub struct NewDeal {
    /// What is sold.
    pub title: String,
    /// The person.
    pub contact_id: Option<String>,
    /// The organisation.
    pub company_id: Option<String>,
    /// Stage; `None` is the first stage of the pipeline.
    pub stage_id: Option<String>,
    /// Amount in minor units.
    pub amount_minor: Option<i64>,
    /// ISO 4217 code; `None` is RUB.
    pub currency: Option<String>,
    /// Win probability, percent; `None` takes the stage's.
    pub probability: Option<i64>,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Custom field values.
    pub custom: CustomValues,
}

/// Changes to a deal's fields (stage and status change through their own calls).
#[derive(Debug, Clone, Default)]
pub struct DealChanges {
    /// New title.
    pub title: Option<String>,
    /// New contact.
    pub contact_id: Option<Option<String>>,
    /// New company.
    pub company_id: Option<Option<String>>,
    /// New amount.
    pub amount_minor: Option<Option<i64>>,
    /// New currency.
    pub currency: Option<String>,
    /// New probability.
    pub probability: Option<Option<i64>>,
    /// New owner.
    pub owner_id: Option<Option<String>>,
    /// Custom values to set or clear.
    pub custom: CustomValues,
}

/// Which deals to list.
#[derive(Debug, Clone, Default)]
pub struct DealFilter {
    /// Text in the title.
    pub q: Option<String>,
    /// Owned by.
    pub owner_id: Option<String>,
    /// In this stage.
    pub stage_id: Option<String>,
    /// With this status.
    pub status: Option<DealStatus>,
    /// Of this contact.
    pub contact_id: Option<String>,
    /// Of this company.
    pub company_id: Option<String>,
    /// Custom field equals value.
    pub custom: Vec<(String, String)>,
}

/// How many deals, and their sum, in one stage, status and currency.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DealTotal {
    /// The stage.
    pub stage_id: String,
    /// Open, won or lost.
    pub status: DealStatus,
    /// ISO currency.
    pub currency: String,
    /// Number of deals.
    pub deals: i64,
    /// Sum of their amounts, minor units (deals without an amount count as 0).
    pub amount_minor: i64,
}

/// `select` over the deals matching `filter` (the table is `d`).
fn deal_query(select: &str, filter: &DealFilter) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM deals d WHERE 1 = 1");
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        sql.push(" AND d.title_key LIKE ")
            .bind(like_contains(&search_key(&[q])))
            .push(" ESCAPE '\\'");
    }
    for (column, value) in [
        ("owner_id", &filter.owner_id),
        ("stage_id", &filter.stage_id),
        ("contact_id", &filter.contact_id),
        ("company_id", &filter.company_id),
    ] {
        if let Some(value) = value {
            sql.push(&format!(" AND d.{column} = ")).bind(value.clone());
        }
    }
    if let Some(status) = filter.status {
        sql.push(" AND d.status = ").bind(status.as_str().to_owned());
    }
    push_custom_filters(&mut sql, EntityKind::Deal, "d.id", &filter.custom);
    sql
}

const DEAL_COLUMNS: &str = "id, title, contact_id, company_id, stage_id, amount_minor, currency, probability, status, \
    loss_reason, competitor, owner_id, closed_at, created_at, updated_at";

fn deal_from_row(row: &AnyRow) -> Result<Deal, StoreError> {
    Ok(Deal {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        contact_id: row.try_get("contact_id")?,
        company_id: row.try_get("company_id")?,
        stage_id: row.try_get("stage_id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        probability: row.try_get("probability")?,
        status: parse_col(row, "status")?,
        loss_reason: row.try_get("loss_reason")?,
        competitor: row.try_get("competitor")?,
        owner_id: row.try_get("owner_id")?,
        closed_at: row.try_get("closed_at")?,
        custom: CustomValues::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn stage_from_row(row: &AnyRow) -> Result<PipelineStage, StoreError> {
    Ok(PipelineStage {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        key: row.try_get("key")?,
        position: row.try_get("position")?,
        probability: row.try_get("probability")?,
        created_at: row.try_get("created_at")?,
    })
}

fn check_probability(field: &str, p: Option<i64>) -> Result<(), StoreError> {
    match p {
        Some(p) if !(0..=100).contains(&p) => Err(StoreError::invalid(field, "must be 0-100")),
        _ => Ok(()),
    }
}

fn check_currency(currency: &str) -> Result<String, StoreError> {
    let code = currency.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(StoreError::invalid("currency", "expected a three-letter ISO 4217 code such as RUB"))
    }
}

/// The pipeline a fresh install starts with: (key, name, probability). The pages show each in
/// the reader's language by its key until an administrator renames it.
const DEFAULT_STAGES: &[(&str, &str, i64)] = &[
    ("new", "New", 10),
    ("qualified", "Qualified", 30),
    ("proposal", "Proposal", 50),
    ("negotiation", "Negotiation", 70),
];

impl Store {
    /// Creates the default pipeline when there is none. Idempotent.
    pub async fn seed_defaults(&self) -> Result<(), StoreError> {
        if Sql::new("SELECT COUNT(*) FROM pipeline_stages").fetch_count(&self.pool).await? > 0 {
            return Ok(());
        }
        for (i, (key, name, probability)) in DEFAULT_STAGES.iter().enumerate() {
            self.create_stage(
                &Actor::system(),
                NewStage {
                    name: (*name).to_owned(),
                    position: Some(i as i64 + 1),
                    probability: *probability,
                    key: Some((*key).to_owned()),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The pipeline, in board order.
    pub async fn list_stages(&self) -> Result<Vec<PipelineStage>, StoreError> {
        let rows = Sql::new("SELECT id, name, key, position, probability, created_at FROM pipeline_stages ORDER BY position, name").fetch_all(&self.pool).await?;
        rows.iter().map(stage_from_row).collect()
    }

    /// Adds a stage.
    pub async fn create_stage(
        &self,
        actor: &Actor,
        new: NewStage,
    ) -> Result<PipelineStage, StoreError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() {
            return Err(StoreError::invalid("name", "must not be empty"));
        }
        check_probability("probability", Some(new.probability))?;
        let stages = self.list_stages().await?;
        if let Some(existing) = stages.iter().find(|s| s.name == name) {
            return Err(StoreError::Duplicate {
                field: "name".into(),
                value: name,
                existing_id: existing.id.clone(),
            });
        }
        let position = new
            .position
            .unwrap_or_else(|| stages.iter().map(|s| s.position).max().unwrap_or(0) + 1);
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO pipeline_stages (id, name, key, position, probability, created_at) VALUES (",
        );
        sql.bind(id.clone())
            .push(", ")
            .bind(name.clone())
            .push(", ")
            .bind(new.key.clone())
            .push(", ")
            .bind(position)
            .push(", ")
            .bind(new.probability);
        sql.push(", ").bind(now_ms()).push(")");
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "stage.create",
            "stage",
            Some(&id),
            json!({"name": name, "position": position}),
        )
        .await?;
        tx.commit().await?;
        self.list_stages()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::not_found("stage"))
    }

    /// Changes a stage.
    pub async fn update_stage(
        &self,
        actor: &Actor,
        id: &str,
        changes: StageChanges,
    ) -> Result<PipelineStage, StoreError> {
        let stages = self.list_stages().await?;
        let current = stages.iter().find(|s| s.id == id).ok_or(StoreError::not_found("stage"))?;
        check_probability("probability", changes.probability)?;
        let mut sql = Sql::new("UPDATE pipeline_stages SET id = id");
        if let Some(name) = &changes.name {
            let name = name.trim();
            if name.is_empty() {
                return Err(StoreError::invalid("name", "must not be empty"));
            }
            if let Some(other) = stages.iter().find(|s| s.name == name && s.id != id) {
                return Err(StoreError::Duplicate {
                    field: "name".into(),
                    value: name.to_owned(),
                    existing_id: other.id.clone(),
                });
            }
            if name != current.name {
                // A name of the administrator's own replaces the catalogue's words.
                sql.push(", name = ").bind(name.to_owned()).push(", key = NULL");
            }
        }
        if let Some(position) = changes.position {
            sql.push(", position = ").bind(position);
        }
        if let Some(probability) = changes.probability {
            sql.push(", probability = ").bind(probability);
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        let mut tx = self.begin_write().await?;
        sql.execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "stage.update", "stage", Some(id), json!({"name": changes.name, "position": changes.position, "probability": changes.probability})).await?;
        tx.commit().await?;
        self.list_stages()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::not_found("stage"))
    }

    /// Removes a stage that no deal is in.
    pub async fn delete_stage(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut used = Sql::new("SELECT COUNT(*) FROM deals WHERE stage_id = ");
        used.bind(id.to_owned());
        let deals = used.fetch_count(&mut *tx).await?;
        if deals > 0 {
            return Err(StoreError::Conflict(format!(
                "{deals} deals are in this stage; move them first"
            )));
        }
        let mut sql = Sql::new("DELETE FROM pipeline_stages WHERE id = ");
        sql.bind(id.to_owned());
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::not_found("stage"));
        }
        audit::record(&mut tx, actor, "stage.delete", "stage", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_deal_refs(
        &self,
        conn: &mut AnyConnection,
        contact: Option<&str>,
        company: Option<&str>,
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        if let Some(id) = contact {
            require_ref(&mut *conn, "contacts", "contact_id", id).await?;
        }
        if let Some(id) = company {
            require_ref(&mut *conn, "companies", "company_id", id).await?;
        }
        if let Some(id) = owner {
            require_ref(&mut *conn, "users", "owner_id", id).await?;
        }
        Ok(())
    }

    /// Creates a deal in the given stage (or the first).
    pub async fn create_deal(&self, actor: &Actor, new: NewDeal) -> Result<Deal, StoreError> {
        let title = new.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(StoreError::invalid("title", "1-300 characters"));
        }
        check_probability("probability", new.probability)?;
        if new.amount_minor.is_some_and(|a| a < 0) {
            return Err(StoreError::invalid("amount", "must not be negative"));
        }
        let currency = check_currency(new.currency.as_deref().unwrap_or("RUB"))?;
        let stages = self.list_stages().await?;
        let stage = match &new.stage_id {
            Some(id) => stages
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| StoreError::invalid("stage_id", format!("no such stage: {id}")))?,
            None => stages
                .first()
                .ok_or_else(|| StoreError::invalid("stage_id", "the pipeline has no stages"))?,
        };
        let mut tx = self.begin_write().await?;
        self.check_deal_refs(
            &mut tx,
            new.contact_id.as_deref(),
            new.company_id.as_deref(),
            new.owner_id.as_deref(),
        )
        .await?;
        let id = new_id();
        let now = now_ms();
        let probability = new.probability.unwrap_or(stage.probability);
        let mut sql = Sql::new(
            "INSERT INTO deals (id, title, title_key, contact_id, company_id, stage_id, amount_minor, currency, probability, status, owner_id, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(title.clone()).push(", ").bind(search_key(&[&title]));
        sql.push(", ")
            .bind(new.contact_id.clone())
            .push(", ")
            .bind(new.company_id.clone())
            .push(", ")
            .bind(stage.id.clone());
        sql.push(", ")
            .bind(new.amount_minor)
            .push(", ")
            .bind(currency)
            .push(", ")
            .bind(probability);
        sql.push(", 'open', ")
            .bind(new.owner_id.clone())
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        self.write_custom_values(&mut tx, EntityKind::Deal, &id, &new.custom, true).await?;
        record_change(&mut tx, actor, &id, None, &stage.id, None, DealStatus::Open, None, None)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "deal.create",
            "deal",
            Some(&id),
            json!({
                "title": title, "stage_id": stage.id, "amount_minor": new.amount_minor, "contact_id": new.contact_id, "owner_id": new.owner_id,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_deal(&id).await
    }

    /// A deal by id.
    pub async fn get_deal(&self, id: &str) -> Result<Deal, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {DEAL_COLUMNS} FROM deals WHERE id = "));
        sql.bind(id.to_owned());
        let mut deal = deal_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("deal"))?,
        )?;
        deal.custom = self
            .load_custom_values(EntityKind::Deal, &[id.to_owned()])
            .await?
            .remove(id)
            .unwrap_or_default();
        Ok(deal)
    }

    /// Lists deals, newest first.
    pub async fn list_deals(
        &self,
        filter: &DealFilter,
        page: PageRequest,
    ) -> Result<Page<Deal>, StoreError> {
        let build = |select: &str| deal_query(select, filter);
        let total = build("SELECT COUNT(*)").fetch_count(&self.pool).await?;
        let columns: Vec<String> =
            DEAL_COLUMNS.split(", ").map(|c| format!("d.{}", c.trim())).collect();
        let mut sql = build(&format!("SELECT {}", columns.join(", ")));
        sql.push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let mut items: Vec<Deal> =
            sql.fetch_all(&self.pool).await?.iter().map(deal_from_row).collect::<Result<_, _>>()?;
        let ids: Vec<String> = items.iter().map(|d| d.id.clone()).collect();
        let mut custom = self.load_custom_values(EntityKind::Deal, &ids).await?;
        for d in &mut items {
            d.custom = custom.remove(&d.id).unwrap_or_default();
        }
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// Deals matching `filter` counted and summed per stage, status and currency: the pipeline
    /// board's column totals, whatever number of cards it shows.
    pub async fn deal_totals(&self, filter: &DealFilter) -> Result<Vec<DealTotal>, StoreError> {
        let mut sql = deal_query(
            "SELECT d.stage_id, d.status, d.currency, COUNT(*) AS deals, COALESCE(SUM(d.amount_minor), 0) AS amount_minor",
            filter,
        );
        sql.push(
            " GROUP BY d.stage_id, d.status, d.currency ORDER BY d.stage_id, d.status, d.currency",
        );
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(DealTotal {
                    stage_id: row.try_get("stage_id")?,
                    status: parse_col(row, "status")?,
                    currency: row.try_get("currency")?,
                    deals: row.try_get("deals")?,
                    amount_minor: row.try_get("amount_minor")?,
                })
            })
            .collect()
    }

    /// Changes a deal's fields.
    pub async fn update_deal(
        &self,
        actor: &Actor,
        id: &str,
        changes: DealChanges,
    ) -> Result<Deal, StoreError> {
        self.get_deal(id).await?;
        if let Some(Some(p)) = changes.probability {
            check_probability("probability", Some(p))?;
        }
        let mut tx = self.begin_write().await?;
        self.check_deal_refs(
            &mut tx,
            changes.contact_id.as_ref().and_then(|c| c.as_deref()),
            changes.company_id.as_ref().and_then(|c| c.as_deref()),
            changes.owner_id.as_ref().and_then(|c| c.as_deref()),
        )
        .await?;
        let mut sql = Sql::new("UPDATE deals SET updated_at = ");
        sql.bind(now_ms());
        if let Some(title) = &changes.title {
            let title = title.trim();
            if title.is_empty() || title.chars().count() > 300 {
                return Err(StoreError::invalid("title", "1-300 characters"));
            }
            sql.push(", title = ")
                .bind(title.to_owned())
                .push(", title_key = ")
                .bind(search_key(&[title]));
        }
        for (column, value) in [
            ("contact_id", &changes.contact_id),
            ("company_id", &changes.company_id),
            ("owner_id", &changes.owner_id),
        ] {
            if let Some(value) = value {
                sql.push(&format!(", {column} = ")).bind(value.clone());
            }
        }
        if let Some(amount) = changes.amount_minor {
            if amount.is_some_and(|a| a < 0) {
                return Err(StoreError::invalid("amount", "must not be negative"));
            }
            sql.push(", amount_minor = ").bind(amount);
        }
        if let Some(currency) = &changes.currency {
            sql.push(", currency = ").bind(check_currency(currency)?);
        }
        if let Some(probability) = changes.probability {
            sql.push(", probability = ").bind(probability);
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        self.write_custom_values(&mut tx, EntityKind::Deal, id, &changes.custom, false).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.update",
            "deal",
            Some(id),
            json!({
                "title": changes.title, "contact_id": changes.contact_id, "company_id": changes.company_id,
                "amount_minor": changes.amount_minor, "currency": changes.currency, "probability": changes.probability,
                "owner_id": changes.owner_id, "custom": changes.custom,
            }),
        )
        .await?;
        tx.commit().await?;
        self.get_deal(id).await
    }

    /// Moves an open deal to another stage.
    pub async fn move_deal(
        &self,
        actor: &Actor,
        id: &str,
        stage_id: &str,
    ) -> Result<Deal, StoreError> {
        let deal = self.get_deal(id).await?;
        if deal.status != DealStatus::Open {
            return Err(StoreError::Conflict(format!(
                "the deal is {}; reopen it first",
                deal.status.as_str()
            )));
        }
        let stages = self.list_stages().await?;
        let stage = stages
            .iter()
            .find(|s| s.id == stage_id)
            .ok_or_else(|| StoreError::invalid("stage_id", format!("no such stage: {stage_id}")))?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE deals SET stage_id = ");
        sql.bind(stage.id.clone())
            .push(", updated_at = ")
            .bind(now_ms())
            .push(" WHERE id = ")
            .bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        record_change(
            &mut tx,
            actor,
            id,
            Some(&deal.stage_id),
            &stage.id,
            Some(deal.status),
            DealStatus::Open,
            None,
            None,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            "deal.stage",
            "deal",
            Some(id),
            json!({"from": deal.stage_id, "to": stage.id}),
        )
        .await?;
        tx.commit().await?;
        self.get_deal(id).await
    }

    /// Closes a deal as won or lost (lost needs a reason), or reopens it (`DealStatus::Open`).
    pub async fn set_deal_status(
        &self,
        actor: &Actor,
        id: &str,
        status: DealStatus,
        reason: Option<String>,
        competitor: Option<String>,
    ) -> Result<Deal, StoreError> {
        let deal = self.get_deal(id).await?;
        if deal.status == status {
            return Err(StoreError::Conflict(format!("the deal is already {}", status.as_str())));
        }
        let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        let competitor = competitor.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if status == DealStatus::Lost && reason.is_none() {
            return Err(StoreError::invalid("reason", "a lost deal needs a reason"));
        }
        let now = now_ms();
        let closed_at = (status != DealStatus::Open).then_some(now);
        let (loss_reason, lost_to) = if status == DealStatus::Lost {
            (reason.clone(), competitor.clone())
        } else {
            (None, None)
        };
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE deals SET status = ");
        sql.bind(status.as_str().to_owned()).push(", closed_at = ").bind(closed_at);
        sql.push(", loss_reason = ").bind(loss_reason).push(", competitor = ").bind(lost_to);
        if status == DealStatus::Won {
            sql.push(", probability = 100");
        } else if status == DealStatus::Lost {
            sql.push(", probability = 0");
        }
        sql.push(", updated_at = ").bind(now).push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        record_change(
            &mut tx,
            actor,
            id,
            Some(&deal.stage_id),
            &deal.stage_id,
            Some(deal.status),
            status,
            reason.clone(),
            competitor.clone(),
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            &format!("deal.{}", status.as_str()),
            "deal",
            Some(id),
            json!({"from": deal.status, "reason": reason, "competitor": competitor}),
        )
        .await?;
        tx.commit().await?;
        self.get_deal(id).await
    }

    /// A deal's stage and status changes, oldest first.
    pub async fn deal_history(&self, id: &str) -> Result<Vec<DealChange>, StoreError> {
        self.get_deal(id).await?;
        let mut sql = Sql::new(
            "SELECT id, deal_id, from_stage_id, to_stage_id, from_status, to_status, reason, competitor, changed_by, changed_at FROM deal_changes WHERE deal_id = ",
        );
        sql.bind(id.to_owned()).push(" ORDER BY changed_at, id");
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let from_status: Option<String> = row.try_get("from_status")?;
                Ok(DealChange {
                    id: row.try_get("id")?,
                    deal_id: row.try_get("deal_id")?,
                    from_stage_id: row.try_get("from_stage_id")?,
                    to_stage_id: row.try_get("to_stage_id")?,
                    from_status: from_status.and_then(|s| s.parse().ok()),
                    to_status: parse_col(row, "to_status")?,
                    reason: row.try_get("reason")?,
                    competitor: row.try_get("competitor")?,
                    changed_by: row.try_get("changed_by")?,
                    changed_at: row.try_get("changed_at")?,
                })
            })
            .collect()
    }

    /// Deletes a deal and its history.
    pub async fn delete_deal(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let deal = self.get_deal(id).await?;
        let mut tx = self.begin_write().await?;
        let mut values =
            Sql::new("DELETE FROM custom_field_values WHERE entity = 'deal' AND entity_id = ");
        values.bind(id.to_owned());
        values.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM deals WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.delete",
            "deal",
            Some(id),
            json!({"title": deal.title}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn record_change(
    conn: &mut AnyConnection,
    actor: &Actor,
    deal_id: &str,
    from_stage: Option<&str>,
    to_stage: &str,
    from_status: Option<DealStatus>,
    to_status: DealStatus,
    reason: Option<String>,
    competitor: Option<String>,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(
        "INSERT INTO deal_changes (id, deal_id, from_stage_id, to_stage_id, from_status, to_status, reason, competitor, changed_by, changed_at) VALUES (",
    );
    sql.bind(new_id())
        .push(", ")
        .bind(deal_id.to_owned())
        .push(", ")
        .bind(from_stage.map(str::to_owned));
    sql.push(", ")
        .bind(to_stage.to_owned())
        .push(", ")
        .bind(from_status.map(|s| s.as_str().to_owned()));
    sql.push(", ")
        .bind(to_status.as_str().to_owned())
        .push(", ")
        .bind(reason)
        .push(", ")
        .bind(competitor);
    sql.push(", ").bind(actor.user_id.clone()).push(", ").bind(now_ms()).push(")");
    sql.execute(conn).await?;
    Ok(())
}
