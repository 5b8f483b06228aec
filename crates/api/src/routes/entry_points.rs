//! `/api/entry-points`: the called numbers that start a call flow, and the flow itself
//! (prompts, menus, queues). A flow is checked before it is stored: no dangling branch, no
//! unknown queue or prompt, no loop the caller cannot leave by a key; every version is in the
//! audit log (`/api/entry-points/{id}/versions`). A link that breaks later (a prompt deleted)
//! is listed with the entry point as a problem.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::entity::AuditEntry;
use switchboard_core::flow::{AnswerMode, EntryPoint, Flow, FlowProblem};
use switchboard_store::{AuditFilter, NewEntryPoint, PageRequest};
use utoipa::ToSchema;

use super::telephony::reload;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/entry-points", get(list_entry_points).post(create_entry_point))
        .route(
            "/api/entry-points/{id}",
            get(read_entry_point).put(update_entry_point).delete(delete_entry_point),
        )
        .route("/api/entry-points/{id}/versions", get(entry_point_versions))
}

fn builtin(key: &str) -> bool {
    switchboard_switch::prompts::is_built_in(key)
}

/// An entry point as created or replaced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryPointBody {
    /// Unique name.
    name: String,
    /// Called numbers that start the flow.
    #[serde(default)]
    numbers: Vec<String>,
    /// "ru" or "en": the language of the built-in prompts.
    #[serde(default = "default_language")]
    language: String,
    /// `answer` (default) or `early`.
    #[serde(default)]
    answer: AnswerMode,
    /// The call flow.
    flow: Flow,
}

fn default_language() -> String {
    "ru".into()
}

impl From<EntryPointBody> for NewEntryPoint {
    fn from(b: EntryPointBody) -> NewEntryPoint {
        NewEntryPoint {
            name: b.name,
            numbers: b.numbers,
            language: b.language,
            answer: b.answer,
            flow: b.flow,
        }
    }
}

/// An entry point with what is wrong with its flow now (a queue or prompt gone since).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryPointView {
    /// The entry point.
    #[serde(flatten)]
    entry: EntryPoint,
    /// Broken links, empty when the flow is sound.
    problems: Vec<FlowProblem>,
}

/// Entry points with their problems, the queues and prompts read once for all of them.
async fn views(state: &AppState, entries: Vec<EntryPoint>) -> ApiResult<Vec<EntryPointView>> {
    let flows: Vec<&Flow> = entries.iter().map(|e| &e.flow).collect();
    let problems = state.store().flow_problems(&flows, builtin).await?;
    Ok(entries
        .into_iter()
        .zip(problems)
        .map(|(entry, problems)| EntryPointView { entry, problems })
        .collect())
}

async fn view(state: &AppState, entry: EntryPoint) -> ApiResult<EntryPointView> {
    let mut one = views(state, vec![entry]).await?;
    one.pop().ok_or_else(|| crate::error::ApiError::Internal("no view".into()))
}

/// Every entry point (admin).
#[utoipa::path(get, path = "/api/entry-points", tag = "telephony", responses((status = 200, body = [EntryPointView]), (status = 403)))]
pub(crate) async fn list_entry_points(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<EntryPointView>>> {
    user.require(Action::ManageTelephony)?;
    Ok(Json(views(&state, state.store().list_entry_points().await?).await?))
}

/// Creates an entry point (admin); a flow with problems is refused with the first one's
/// field and all of them in the message.
#[utoipa::path(post, path = "/api/entry-points", request_body = EntryPointBody, tag = "telephony", responses((status = 201, body = EntryPointView), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn create_entry_point(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<EntryPointBody>,
) -> ApiResult<(StatusCode, Json<EntryPointView>)> {
    user.require(Action::ManageTelephony)?;
    let entry = state.store().create_entry_point(&user.actor(), b.into(), builtin).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(view(&state, entry).await?)))
}

/// One entry point (admin).
#[utoipa::path(get, path = "/api/entry-points/{id}", tag = "telephony", responses((status = 200, body = EntryPointView), (status = 403), (status = 404)))]
pub(crate) async fn read_entry_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<EntryPointView>> {
    user.require(Action::ManageTelephony)?;
    let entry = state.store().get_entry_point(&id).await?;
    Ok(Json(view(&state, entry).await?))
}

/// Replaces an entry point (admin): a new version.
#[utoipa::path(put, path = "/api/entry-points/{id}", request_body = EntryPointBody, tag = "telephony", responses((status = 200, body = EntryPointView), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update_entry_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<EntryPointBody>,
) -> ApiResult<Json<EntryPointView>> {
    user.require(Action::ManageTelephony)?;
    let entry = state.store().update_entry_point(&user.actor(), &id, b.into(), builtin).await?;
    reload(&state).await;
    Ok(Json(view(&state, entry).await?))
}

/// Deletes an entry point (admin); its numbers start nothing any more.
#[utoipa::path(delete, path = "/api/entry-points/{id}", tag = "telephony", responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn delete_entry_point(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageTelephony)?;
    state.store().delete_entry_point(&user.actor(), &id).await?;
    reload(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Every version of an entry point, newest first: the audit log's entries of it, each with
/// the whole flow it had (admin).
#[utoipa::path(get, path = "/api/entry-points/{id}/versions", tag = "telephony", responses((status = 200, body = [AuditEntry]), (status = 403)))]
pub(crate) async fn entry_point_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    user.require(Action::ManageTelephony)?;
    let filter = AuditFilter {
        entity: Some("entry_point".into()),
        entity_id: Some(id),
        ..Default::default()
    };
    let page = state.store().list_audit(&filter, PageRequest::new(None, Some(500))).await?;
    Ok(Json(page.items))
}
