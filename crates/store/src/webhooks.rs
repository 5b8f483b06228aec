//! Webhooks: subscriptions to events (`lead.created`, `deal.stage_changed` ...) and each
//! delivery as a row, so a receiver that is down costs a row and a retry later, never a
//! request's time. [`Store::enqueue_event`] writes a pending delivery per subscribed webhook;
//! the server's delivery loop sends what is due ([`Store::due_deliveries`]) and records the
//! outcome ([`Store::delivery_done`]).

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::new_id;

use crate::sql::Sql;
use crate::{Actor, Page, PageRequest, Store, StoreError, audit, now_ms};

/// The events a webhook may subscribe to.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "lead.created",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "document.approved",
    "call.ringing",
    "call.answered",
    "call.ended",
    "recording.ready",
    "task.created",
    "task.overdue",
];

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    /// Row id.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// The key each delivery is signed with (HMAC-SHA256); shown to admins only.
    pub secret: String,
    /// The events it gets (`*` for all).
    pub events: Vec<String>,
    /// Whether it gets anything.
    pub active: bool,
    /// Created at.
    pub created_at: i64,
}

/// A subscription to create, or what one becomes.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Events from [`WEBHOOK_EVENTS`], or `*`.
    pub events: Vec<String>,
    /// Gets events.
    pub active: bool,
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Row id (also the receiver's idempotency key).
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The event's name.
    pub event: String,
    /// The JSON body posted.
    pub payload: String,
    /// `pending`, `delivered` or `failed` (given up after the last attempt).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending ones).
    pub next_at: i64,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Created at.
    pub created_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
}

/// A due delivery with where it goes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The delivery.
    pub delivery: Delivery,
    /// The webhook's URL.
    pub url: String,
    /// The webhook's signing key.
    pub secret: String,
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event, d.payload, d.status, d.attempts, d.next_at, d.last_status, d.last_error, d.created_at, d.delivered_at";

fn webhook_from_row(row: &AnyRow) -> Result<Webhook, StoreError> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event: row.try_get("event")?,
        payload: row.try_get("payload")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_at: row.try_get("next_at")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

fn check(new: &NewWebhook) -> Result<(), StoreError> {
    let url = new.url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > 2000 || url.contains(char::is_whitespace) {
        return Err(StoreError::invalid("url", "expected an http:// or https:// URL"));
    }
    if new.events.is_empty() {
        return Err(StoreError::invalid("events", "must not be empty"));
    }
    for (i, event) in new.events.iter().enumerate() {
        if event != "*" && !WEBHOOK_EVENTS.contains(&event.as_str()) {
            return Err(StoreError::invalid(
                format!("events[{i}]"),
                format!("expected {} or *", WEBHOOK_EVENTS.join(", ")),
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Creates a webhook signed with `secret` (a fresh random key from the caller).
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        new: NewWebhook,
        secret: String,
    ) -> Result<Webhook, StoreError> {
        check(&new)?;
        let (id, now) = (new_id(), now_ms());
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new(
            "INSERT INTO webhooks (id, url, secret, events, active, created_at, updated_at) VALUES (",
        );
        sql.bind(id.clone()).push(", ").bind(new.url.trim().to_owned()).push(", ").bind(secret);
        sql.push(", ").bind(json!(new.events).to_string()).push(", ");
        sql.bind(i64::from(new.active)).push(", ").bind(now).push(", ").bind(now).push(")");
        sql.execute(&mut *tx).await?;
        let detail = json!({"url": new.url, "events": new.events, "active": new.active});
        audit::record(&mut tx, actor, "webhook.create", "webhook", Some(&id), detail).await?;
        tx.commit().await?;
        self.get_webhook(&id).await
    }

    /// Changes a webhook's URL, events or switch (its key stays).
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: &str,
        new: NewWebhook,
    ) -> Result<Webhook, StoreError> {
        self.get_webhook(id).await?;
        check(&new)?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE webhooks SET url = ");
        sql.bind(new.url.trim().to_owned()).push(", events = ").bind(json!(new.events).to_string());
        sql.push(", active = ").bind(i64::from(new.active)).push(", updated_at = ").bind(now_ms());
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        let detail = json!({"url": new.url, "events": new.events, "active": new.active});
        audit::record(&mut tx, actor, "webhook.update", "webhook", Some(id), detail).await?;
        tx.commit().await?;
        self.get_webhook(id).await
    }

    /// Deletes a webhook with its deliveries.
    pub async fn delete_webhook(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        self.get_webhook(id).await?;
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("DELETE FROM webhook_deliveries WHERE webhook_id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        let mut sql = Sql::new("DELETE FROM webhooks WHERE id = ");
        sql.bind(id.to_owned());
        sql.execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "webhook.delete", "webhook", Some(id), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A webhook by id.
    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, url, secret, events, active, created_at FROM webhooks WHERE id = ",
        );
        sql.bind(id.to_owned());
        webhook_from_row(
            &sql.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("webhook"))?,
        )
    }

    /// Every webhook.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let rows = Sql::new(
            "SELECT id, url, secret, events, active, created_at FROM webhooks ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// Queues `event` with `data` for every active webhook subscribed to it; returns how many
    /// deliveries were queued. The body is `{"event", "delivery_id", "at", "data"}`.
    pub async fn enqueue_event(&self, event: &str, data: Value) -> Result<usize, StoreError> {
        let hooks: Vec<Webhook> = self
            .list_webhooks()
            .await?
            .into_iter()
            .filter(|w| w.active && w.events.iter().any(|e| e == "*" || e == event))
            .collect();
        if hooks.is_empty() {
            return Ok(0);
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for hook in &hooks {
            let id = new_id();
            let payload = json!({"event": event, "delivery_id": id, "at": now, "data": data});
            let mut sql = Sql::new(
                "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, next_at, created_at) VALUES (",
            );
            sql.bind(id).push(", ").bind(hook.id.clone()).push(", ").bind(event.to_owned());
            sql.push(", ").bind(payload.to_string()).push(", 'pending', 0, ").bind(now);
            sql.push(", ").bind(now).push(")");
            sql.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(hooks.len())
    }

    /// Pending deliveries due at `now`, oldest first, at most `limit`.
    pub async fn due_deliveries(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {DELIVERY_COLUMNS}, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.status = 'pending' AND d.next_at <= "
        ));
        sql.bind(now).push(" ORDER BY d.next_at, d.id LIMIT ").bind(limit);
        sql.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok(DueDelivery {
                    delivery: delivery_from_row(row)?,
                    url: row.try_get("url")?,
                    secret: row.try_get("secret")?,
                })
            })
            .collect()
    }

    /// Records an attempt: delivered, or failed with `next_at` for the next try (None: given up).
    pub async fn delivery_done(
        &self,
        id: &str,
        delivered: bool,
        status: Option<i64>,
        error: Option<String>,
        next_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let state = match (delivered, next_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let mut sql = Sql::new("UPDATE webhook_deliveries SET attempts = attempts + 1, status = ");
        sql.bind(state.to_owned()).push(", last_status = ").bind(status);
        sql.push(", last_error = ").bind(error).push(", next_at = ").bind(next_at.unwrap_or(now));
        sql.push(", delivered_at = ").bind(delivered.then_some(now));
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&self.pool).await?;
        Ok(())
    }

    /// Forgets finished deliveries (delivered or given up) created before `before`; returns
    /// how many. Pending ones stay whatever their age.
    pub async fn prune_deliveries(&self, before: i64) -> Result<u64, StoreError> {
        let mut sql = Sql::new(
            "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < ",
        );
        sql.bind(before);
        sql.execute(&self.pool).await
    }

    /// A webhook's deliveries, newest first.
    pub async fn list_deliveries(
        &self,
        webhook_id: &str,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ");
        count.bind(webhook_id.to_owned());
        let total = count.fetch_count(&self.pool).await?;
        let mut sql = Sql::new(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = "
        ));
        sql.bind(webhook_id.to_owned());
        sql.push(" ORDER BY d.created_at DESC, d.id DESC LIMIT ").bind(i64::from(page.per_page));
        sql.push(" OFFSET ").bind(page.offset());
        let items = sql
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(delivery_from_row)
            .collect::<Result<_, _>>()?;
        Ok(Page { items, page: page.page, per_page: page.per_page, total })
    }

    /// Sends a delivery again, now (audit-logged).
    pub async fn redeliver(&self, actor: &Actor, id: &str) -> Result<Delivery, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE webhook_deliveries SET status = 'pending', next_at = ");
        sql.bind(now_ms()).push(" WHERE id = ").bind(id.to_owned());
        if sql.execute(&mut *tx).await? == 0 {
            return Err(StoreError::not_found("delivery"));
        }
        audit::record(&mut tx, actor, "webhook.redeliver", "delivery", Some(id), json!({})).await?;
        tx.commit().await?;
        let mut read =
            Sql::new(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = "));
        read.bind(id.to_owned());
        delivery_from_row(
            &read.fetch_optional(&self.pool).await?.ok_or(StoreError::not_found("delivery"))?,
        )
    }
}
