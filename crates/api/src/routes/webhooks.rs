//! `/api/webhooks`: subscriptions to events (admin), their delivery log and sending one again.
//! [`emit`] is how handlers raise an event: it queues a row per subscriber on a task of its
//! own, so a request never waits for a receiver (the server's delivery loop sends them).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::Action;
use switchboard_store::webhooks::{Delivery, NewWebhook, WEBHOOK_EVENTS, Webhook};
use switchboard_store::{Page, PageRequest};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks", get(list).post(create))
        .route("/api/webhooks/events", get(events))
        .route("/api/webhooks/{id}", patch(update).delete(remove))
        .route("/api/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/webhook-deliveries/{id}/redeliver", post(redeliver))
}

/// Raises `event` with `data` for the webhooks subscribed to it, without waiting.
pub(crate) fn emit(state: &AppState, event: &'static str, data: impl serde::Serialize) {
    let data = serde_json::to_value(data).unwrap_or(Value::Null);
    let store = state.store().clone();
    tokio::spawn(async move {
        if let Err(e) = store.enqueue_event(event, data).await {
            tracing::warn!(error = %e, event, "cannot queue a webhook event");
        }
    });
}

/// A subscription to create, or what one becomes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    /// Where events are posted (`http://` or `https://`).
    url: String,
    /// Events to get (see `/api/webhooks/events`), or `*`.
    events: Vec<String>,
    /// Gets events (default true).
    active: Option<bool>,
}

impl From<WebhookBody> for NewWebhook {
    fn from(b: WebhookBody) -> NewWebhook {
        NewWebhook { url: b.url, events: b.events, active: b.active.unwrap_or(true) }
    }
}

/// The webhooks, with their keys (admin).
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks", responses((status = 200, body = [Webhook]), (status = 403)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Webhook>>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(state.store().list_webhooks().await?))
}

/// The events one may subscribe to.
#[utoipa::path(get, path = "/api/webhooks/events", tag = "webhooks", responses((status = 200, body = [String])))]
pub(crate) async fn events(user: CurrentUser) -> ApiResult<Json<Vec<&'static str>>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(WEBHOOK_EVENTS.to_vec()))
}

/// Subscribes a URL to events; the answer holds the key deliveries are signed with (admin).
#[utoipa::path(post, path = "/api/webhooks", request_body = WebhookBody, tag = "webhooks", responses((status = 201, body = Webhook), (status = 403), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<WebhookBody>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    user.require(Action::ManageSettings)?;
    let secret = format!("whsec_{}", crate::auth::new_password());
    let hook = state.store().create_webhook(&user.actor(), body.into(), secret).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// Changes a webhook's URL, events or switch (admin).
#[utoipa::path(patch, path = "/api/webhooks/{id}", request_body = WebhookBody, tag = "webhooks", responses((status = 200, body = Webhook), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WebhookBody>,
) -> ApiResult<Json<Webhook>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(state.store().update_webhook(&user.actor(), &id, body.into()).await?))
}

/// Deletes a webhook and its delivery log (admin).
#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks", responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageSettings)?;
    state.store().delete_webhook(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?page=&per_page=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    page: Option<u32>,
    per_page: Option<u32>,
}

/// A webhook's deliveries, newest first: status, attempts, the receiver's last answer (admin).
#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", params(DeliveryQuery), tag = "webhooks", responses((status = 200, body = Page<Delivery>), (status = 403), (status = 404)))]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<DeliveryQuery>,
) -> ApiResult<Json<Page<Delivery>>> {
    user.require(Action::ManageSettings)?;
    state.store().get_webhook(&id).await?;
    Ok(Json(state.store().list_deliveries(&id, PageRequest::new(q.page, q.per_page)).await?))
}

/// Sends a delivery again, now (admin; audit-logged).
#[utoipa::path(post, path = "/api/webhook-deliveries/{id}/redeliver", tag = "webhooks", responses((status = 200, body = Delivery), (status = 403), (status = 404)))]
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(state.store().redeliver(&user.actor(), &id).await?))
}
