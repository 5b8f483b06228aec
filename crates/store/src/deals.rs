//! Deals and the pipeline. Every change of stage or status is kept with who made it and when.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use switchboard_core::entity::{CustomValues, Deal, DealChange, DealStatus};
use switchboard_core::text::search_key;
use switchboard_core::{EntityKind, new_id};

use crate::custom_fields::push_custom_filters;
use crate::funnel;
use crate::pipelines::{StageEntry, check_probability};
use crate::sql::{Sql, flag, like_contains, parse_col};
use crate::teams::require_ref;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// A deal to create.
#[derive(Debug, Clone, Default)]
pub struct NewDeal {
    /// What is sold.
    pub title: String,
    /// The person.
    pub contact_id: Option<String>,
    /// The organisation.
    pub company_id: Option<String>,
    /// Stage; `None` is the first stage of `pipeline_id`.
    pub stage_id: Option<String>,
    /// Pipeline whose first stage a deal without `stage_id` starts in; `None` is the first.
    pub pipeline_id: Option<String>,
    /// Amount in minor units.
    pub amount_minor: Option<i64>,
    /// ISO 4217 code; `None` is RUB.
    pub currency: Option<String>,
    /// Win probability, percent; `None` takes the stage's.
    pub probability: Option<i64>,
    /// Responsible user.
    pub owner_id: Option<String>,
    /// Expected close (epoch ms).
    pub expected_close_at: Option<i64>,
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
    /// New amount (typed by a user: it stops following the line items).
    pub amount_minor: Option<Option<i64>>,
    /// True: the amount follows the line items again.
    pub amount_follows_items: bool,
    /// New currency.
    pub currency: Option<String>,
    /// New probability.
    pub probability: Option<Option<i64>>,
    /// New owner.
    pub owner_id: Option<Option<String>>,
    /// New expected close.
    pub expected_close_at: Option<Option<i64>>,
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
    /// In a stage of this pipeline.
    pub pipeline_id: Option<String>,
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
    if let Some(pipeline) = &filter.pipeline_id {
        sql.push(" AND d.stage_id IN (SELECT id FROM pipeline_stages WHERE pipeline_id = ")
            .bind(pipeline.clone())
            .push(")");
    }
    if let Some(status) = filter.status {
        sql.push(" AND d.status = ").bind(status.as_str().to_owned());
    }
    push_custom_filters(&mut sql, EntityKind::Deal, "d.id", &filter.custom);
    sql
}

const DEAL_COLUMNS: &str = "id, title, contact_id, company_id, stage_id, amount_minor, amount_manual, expected_close_at, currency, probability, status, \
    loss_reason, competitor, owner_id, closed_at, created_at, updated_at";

fn deal_from_row(row: &AnyRow) -> Result<Deal, StoreError> {
    Ok(Deal {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        contact_id: row.try_get("contact_id")?,
        company_id: row.try_get("company_id")?,
        stage_id: row.try_get("stage_id")?,
        amount_minor: row.try_get("amount_minor")?,
        amount_manual: flag(row, "amount_manual")?,
        expected_close_at: row.try_get("expected_close_at")?,
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

pub(crate) fn check_currency(currency: &str) -> Result<String, StoreError> {
    let code = currency.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(StoreError::invalid("currency", "expected a three-letter ISO 4217 code such as RUB"))
    }
}

impl Store {
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
        let stage = match (&new.stage_id, &new.pipeline_id) {
            (Some(id), _) => stages
                .iter()
                .find(|s| &s.id == id)
                .ok_or_else(|| StoreError::invalid("stage_id", format!("no such stage: {id}")))?,
            (None, Some(pipeline)) => {
                stages.iter().find(|s| &s.pipeline_id == pipeline).ok_or_else(|| {
                    StoreError::invalid("pipeline_id", format!("no such pipeline: {pipeline}"))
                })?
            }
            (None, None) => stages
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
            "INSERT INTO deals (id, title, title_key, contact_id, company_id, stage_id, amount_minor, amount_manual, currency, probability, status, owner_id, expected_close_at, created_at, updated_at) VALUES (",
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
            .bind(i64::from(new.amount_minor.is_some()))
            .push(", ")
            .bind(currency)
            .push(", ")
            .bind(probability);
        sql.push(", 'open', ")
            .bind(new.owner_id.clone())
            .push(", ")
            .bind(new.expected_close_at)
            .push(", ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
        sql.execute(&mut *tx).await?;
        self.write_custom_values(&mut tx, EntityKind::Deal, &id, &new.custom, true).await?;
        record_change(&mut tx, actor, &id, None, &stage.id, None, DealStatus::Open, None, None)
            .await?;
        funnel::set_reached(&mut tx, &id).await?;
        funnel::count_deal(&mut tx, &id, 1).await?;
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
            sql.push(", amount_minor = ").bind(amount).push(", amount_manual = 1");
        }
        if let Some(currency) = &changes.currency {
            sql.push(", currency = ").bind(check_currency(currency)?);
        }
        if let Some(probability) = changes.probability {
            sql.push(", probability = ").bind(probability);
        }
        if let Some(expected) = changes.expected_close_at {
            sql.push(", expected_close_at = ").bind(expected);
        }
        if changes.amount_follows_items && changes.amount_minor.is_none() {
            sql.push(", amount_manual = 0");
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        funnel::count_deal(&mut tx, id, -1).await?;
        sql.execute(&mut *tx).await?;
        funnel::count_deal(&mut tx, id, 1).await?;
        if changes.amount_follows_items && changes.amount_minor.is_none() {
            self.sync_deal_amount(&mut tx, id).await?;
        }
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

    /// Moves an open deal to another stage (of any pipeline), running the stage's rules.
    pub async fn move_deal(
        &self,
        actor: &Actor,
        id: &str,
        stage_id: &str,
    ) -> Result<Deal, StoreError> {
        Ok(self.enter_stage(actor, id, stage_id).await?.deal)
    }

    /// Moves an open deal to another stage (of any pipeline). The deal must first have what
    /// the stage requires (refused naming the first field it lacks); the stage's rules then
    /// create their tasks and notifications in the same transaction.
    pub async fn enter_stage(
        &self,
        actor: &Actor,
        id: &str,
        stage_id: &str,
    ) -> Result<StageEntry, StoreError> {
        let deal = self.get_deal(id).await?;
        if deal.status != DealStatus::Open {
            return Err(StoreError::Conflict(format!(
                "the deal is {}; reopen it first",
                deal.status.as_str()
            )));
        }
        let stage = self
            .stage(stage_id)
            .await
            .map_err(|_| StoreError::invalid("stage_id", format!("no such stage: {stage_id}")))?;
        if stage.id == deal.stage_id {
            return Ok(StageEntry { deal, tasks: Vec::new(), notified: Vec::new() });
        }
        if let Some(field) = self.missing_for_stage(&deal, &stage).await? {
            return Err(StoreError::invalid(field, "required before the deal enters this stage"));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        funnel::count_deal(&mut tx, id, -1).await?;
        funnel::count_stays(&mut tx, id, -1).await?;
        let mut sql = Sql::new("UPDATE deals SET stage_id = ");
        sql.bind(stage.id.clone())
            .push(", updated_at = ")
            .bind(now)
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
        funnel::set_reached(&mut tx, id).await?;
        funnel::count_deal(&mut tx, id, 1).await?;
        funnel::count_stays(&mut tx, id, 1).await?;
        audit::record(
            &mut tx,
            actor,
            "deal.stage",
            "deal",
            Some(id),
            json!({"from": deal.stage_id, "to": stage.id}),
        )
        .await?;
        let (task_ids, notified) = self.run_stage_rules(&mut tx, actor, &deal, &stage, now).await?;
        tx.commit().await?;
        let mut tasks = Vec::with_capacity(task_ids.len());
        for task in &task_ids {
            tasks.push(self.get_task(task).await?);
        }
        Ok(StageEntry { deal: self.get_deal(id).await?, tasks, notified })
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
        funnel::count_deal(&mut tx, id, -1).await?;
        sql.execute(&mut *tx).await?;
        funnel::count_deal(&mut tx, id, 1).await?;
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
        funnel::count_deal(&mut tx, id, -1).await?;
        funnel::count_stays(&mut tx, id, -1).await?;
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
