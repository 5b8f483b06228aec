//! `/api/deals` and the board's totals (`/api/pipeline/totals`).

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::Action;
use switchboard_core::entity::{Deal, DealChange, DealStatus, TimelineItem};
use switchboard_store::{DealChanges, DealFilter, DealTotal, NewDeal, Page};
use utoipa::ToSchema;

use super::{Paging, amount_to_minor, custom_filters, nullable};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/pipeline/totals", get(totals))
        .route("/api/deals", get(list).post(create))
        .route("/api/deals/{id}", get(read).patch(update).delete(remove))
        .route("/api/deals/{id}/stage", post(move_stage))
        .route("/api/deals/{id}/won", post(won))
        .route("/api/deals/{id}/lost", post(lost))
        .route("/api/deals/{id}/reopen", post(reopen))
        .route("/api/deals/{id}/history", get(history))
        .route("/api/deals/{id}/timeline", get(timeline))
}

/// A new deal. `amount` is in major units (roubles), e.g. 1500.50.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDeal {
    title: String,
    contact_id: Option<String>,
    company_id: Option<String>,
    /// Defaults to the first stage of `pipeline_id`.
    stage_id: Option<String>,
    /// Defaults to the first pipeline.
    pipeline_id: Option<String>,
    amount: Option<f64>,
    /// ISO 4217, default RUB.
    currency: Option<String>,
    probability: Option<i64>,
    /// Defaults to the creator.
    owner_id: Option<String>,
    /// Expected close, epoch ms (the forecast's month).
    expected_close_at: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
}

/// Deal changes; `null` clears. Stage and status change through their own endpoints.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateDeal {
    title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<f64>)]
    amount: Option<Option<f64>>,
    /// True: the amount follows the line items again (instead of a typed one).
    #[serde(default)]
    amount_follows_items: bool,
    currency: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    probability: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    expected_close_at: Option<Option<i64>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
}

/// Move to a stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MoveStage {
    stage_id: String,
}

/// Close as lost: a reason is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LostRequest {
    reason: String,
    competitor: Option<String>,
}

/// List filters (plus `cf.<key>=<value>`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    q: Option<String>,
    owner_id: Option<String>,
    stage_id: Option<String>,
    pipeline_id: Option<String>,
    status: Option<DealStatus>,
    contact_id: Option<String>,
    company_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Lists deals, newest first.
#[utoipa::path(get, path = "/api/deals", params(ListQuery), tag = "deals", responses((status = 200, body = Page<Deal>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Page<Deal>>> {
    user.require(Action::ReadCrm)?;
    let paging = Paging { page: q.page, per_page: q.per_page };
    Ok(Json(state.store().list_deals(&q.filter(raw.as_deref()), paging.request()).await?))
}

impl ListQuery {
    /// The store filter these parameters (and the raw query's `cf.<key>=`) ask for.
    pub(crate) fn filter(self, raw: Option<&str>) -> DealFilter {
        DealFilter {
            q: self.q,
            owner_id: self.owner_id,
            stage_id: self.stage_id,
            pipeline_id: self.pipeline_id,
            status: self.status,
            contact_id: self.contact_id,
            company_id: self.company_id,
            custom: custom_filters(raw),
        }
    }
}

/// Creates a deal.
/// Deals counted and summed per stage, status and currency (the board's column totals), with
/// the list's filters.
#[utoipa::path(get, path = "/api/pipeline/totals", params(ListQuery), tag = "deals", responses((status = 200, body = [DealTotal])))]
pub(crate) async fn totals(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Vec<DealTotal>>> {
    user.require(Action::ReadCrm)?;
    let filter = q.filter(raw.as_deref());
    Ok(Json(state.store().deal_totals(&filter).await?))
}

#[utoipa::path(post, path = "/api/deals", request_body = CreateDeal, tag = "deals", responses((status = 201, body = Deal), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateDeal>,
) -> ApiResult<(StatusCode, Json<Deal>)> {
    user.require(Action::CreateCrm)?;
    let owner_id = user.owner_for_new(b.owner_id)?;
    let new = NewDeal {
        title: b.title,
        contact_id: b.contact_id,
        company_id: b.company_id,
        stage_id: b.stage_id,
        pipeline_id: b.pipeline_id,
        amount_minor: b.amount.map(|a| amount_to_minor("amount", a)).transpose()?,
        currency: b.currency,
        probability: b.probability,
        owner_id,
        expected_close_at: b.expected_close_at,
        custom: b.custom,
    };
    Ok((StatusCode::CREATED, Json(state.store().create_deal(&user.actor(), new).await?)))
}

/// One deal.
#[utoipa::path(get, path = "/api/deals/{id}", tag = "deals", responses((status = 200, body = Deal), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Deal>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().get_deal(&id).await?))
}

async fn editable(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<Deal> {
    let deal = state.store().get_deal(id).await?;
    user.require_edit(deal.owner_id.as_deref(), None)?;
    Ok(deal)
}

/// Changes a deal's fields (owner, or supervisor and above).
#[utoipa::path(patch, path = "/api/deals/{id}", request_body = UpdateDeal, tag = "deals", responses((status = 200, body = Deal), (status = 403)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateDeal>,
) -> ApiResult<Json<Deal>> {
    let before = editable(&state, &user, &id).await?;
    user.check_owner_change(&b.owner_id, before.owner_id.as_deref())?;
    let changes = DealChanges {
        title: b.title,
        contact_id: b.contact_id,
        company_id: b.company_id,
        amount_minor: b
            .amount
            .map(|a| a.map(|a| amount_to_minor("amount", a)).transpose())
            .transpose()?,
        amount_follows_items: b.amount_follows_items,
        currency: b.currency,
        probability: b.probability,
        owner_id: b.owner_id,
        expected_close_at: b.expected_close_at,
        custom: b.custom,
    };
    Ok(Json(state.store().update_deal(&user.actor(), &id, changes).await?))
}

/// Moves an open deal to another stage (of any pipeline); the change is recorded with time
/// and user. A stage's required fields are checked first (422 names the first one missing);
/// its rules then create their tasks and notifications.
#[utoipa::path(post, path = "/api/deals/{id}/stage", request_body = MoveStage, tag = "deals", responses((status = 200, body = Deal), (status = 409), (status = 422)))]
pub(crate) async fn move_stage(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MoveStage>,
) -> ApiResult<Json<Deal>> {
    editable(&state, &user, &id).await?;
    let entry = state.store().enter_stage(&user.actor(), &id, &b.stage_id).await?;
    super::webhooks::emit(&state, "deal.stage_changed", &entry.deal);
    for task in &entry.tasks {
        super::webhooks::emit(&state, "task.created", task);
    }
    Ok(Json(entry.deal))
}

/// Closes a deal as won.
#[utoipa::path(post, path = "/api/deals/{id}/won", tag = "deals", responses((status = 200, body = Deal), (status = 409)))]
pub(crate) async fn won(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Deal>> {
    editable(&state, &user, &id).await?;
    let deal =
        state.store().set_deal_status(&user.actor(), &id, DealStatus::Won, None, None).await?;
    super::webhooks::emit(&state, "deal.won", &deal);
    Ok(Json(deal))
}

/// Closes a deal as lost, with a reason and optionally the competitor who won it.
#[utoipa::path(post, path = "/api/deals/{id}/lost", request_body = LostRequest, tag = "deals", responses((status = 200, body = Deal), (status = 409), (status = 422)))]
pub(crate) async fn lost(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<LostRequest>,
) -> ApiResult<Json<Deal>> {
    editable(&state, &user, &id).await?;
    let deal = state
        .store()
        .set_deal_status(&user.actor(), &id, DealStatus::Lost, Some(b.reason), b.competitor)
        .await?;
    super::webhooks::emit(&state, "deal.lost", &deal);
    Ok(Json(deal))
}

/// Reopens a closed deal.
#[utoipa::path(post, path = "/api/deals/{id}/reopen", tag = "deals", responses((status = 200, body = Deal), (status = 409)))]
pub(crate) async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Deal>> {
    editable(&state, &user, &id).await?;
    Ok(Json(state.store().set_deal_status(&user.actor(), &id, DealStatus::Open, None, None).await?))
}

/// A deal's stage and status changes, oldest first.
#[utoipa::path(get, path = "/api/deals/{id}/history", tag = "deals", responses((status = 200, body = [DealChange])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<DealChange>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().deal_history(&id).await?))
}

/// Deletes a deal (manager, admin).
#[utoipa::path(delete, path = "/api/deals/{id}", tag = "deals", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::DeleteCrm)?;
    state.store().delete_deal(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A deal's notes, tasks, stage changes and calls, newest first. Recorded calls the user may
/// hear carry `recording_url`.
#[utoipa::path(get, path = "/api/deals/{id}/timeline", params(super::contacts::TimelineQuery), tag = "deals", responses((status = 200, body = [TimelineItem]), (status = 404)))]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<super::contacts::TimelineQuery>,
) -> ApiResult<Json<Vec<TimelineItem>>> {
    user.require(Action::ReadCrm)?;
    let mut items = state.store().deal_timeline(&id, q.limit.unwrap_or(100)).await?;
    super::recordings::hide_unheard(&state, &user, &mut items).await?;
    Ok(Json(items))
}
