//! `/api/tasks`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_core::entity::{Task, TaskKind, TaskStatus};
use switchboard_store::{NewTask, Page, TaskChanges, TaskFilter};
use utoipa::ToSchema;

use super::{Paging, nullable};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tasks", get(list).post(create))
        .route("/api/tasks/{id}", get(read).patch(update).delete(remove))
        .route("/api/tasks/{id}/complete", post(complete))
}

/// A new task. Times are epoch milliseconds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTask {
    #[serde(default = "default_kind")]
    kind: TaskKind,
    subject: String,
    description: Option<String>,
    due_at: Option<i64>,
    /// Defaults to the creator.
    assignee_id: Option<String>,
    contact_id: Option<String>,
    deal_id: Option<String>,
    /// Schedules a callback to this number (any spelling; kind becomes `call`): due at
    /// `due_at`, escalated to the team's supervisor when not done in time.
    callback_phone: Option<String>,
}

fn default_kind() -> TaskKind {
    TaskKind::Todo
}

/// Task changes; `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateTask {
    kind: Option<TaskKind>,
    subject: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    due_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    deal_id: Option<Option<String>>,
}

/// Completing: done with a result, or cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteTask {
    #[serde(default = "default_done")]
    status: TaskStatus,
    result: Option<String>,
}

fn default_done() -> TaskStatus {
    TaskStatus::Done
}

/// List filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `me` for the caller.
    assignee_id: Option<String>,
    status: Option<TaskStatus>,
    contact_id: Option<String>,
    deal_id: Option<String>,
    /// Epoch ms.
    due_before: Option<i64>,
    /// Due at or after (epoch ms).
    due_after: Option<i64>,
    /// Assigned to a member of this team.
    team_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Lists tasks: open ones by due time, then the rest.
#[utoipa::path(get, path = "/api/tasks", params(ListQuery), tag = "tasks", responses((status = 200, body = Page<Task>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Page<Task>>> {
    user.require(Action::ReadCrm)?;
    let assignee_id = q.assignee_id.map(|a| if a == "me" { user.id().to_owned() } else { a });
    let filter = TaskFilter {
        assignee_id,
        status: q.status,
        contact_id: q.contact_id,
        deal_id: q.deal_id,
        due_before: q.due_before,
        due_after: q.due_after,
        team_id: q.team_id,
    };
    Ok(Json(
        state
            .store()
            .list_tasks(&filter, Paging { page: q.page, per_page: q.per_page }.request())
            .await?,
    ))
}

/// Creates a task. Operators may only assign tasks to themselves.
#[utoipa::path(post, path = "/api/tasks", request_body = CreateTask, tag = "tasks", responses((status = 201, body = Task), (status = 403), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateTask>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    user.require(Action::CreateCrm)?;
    let assignee_id = user.owner_for_new(b.assignee_id)?;
    let callback_e164 = match b.callback_phone.as_deref() {
        Some(text) => {
            Some(super::parse_phone_param(&state, "callback_phone", text)?.e164().to_owned())
        }
        None => None,
    };
    if callback_e164.is_some() && b.due_at.is_none() {
        return Err(ApiError::invalid("due_at", "a callback needs a due time"));
    }
    let kind = if callback_e164.is_some() { TaskKind::Call } else { b.kind };
    let new = NewTask {
        kind,
        subject: b.subject,
        description: b.description,
        due_at: b.due_at,
        assignee_id,
        contact_id: b.contact_id,
        deal_id: b.deal_id,
        callback_e164,
    };
    let task = state.store().create_task(&user.actor(), new).await?;
    super::webhooks::emit(&state, "task.created", &task);
    Ok((StatusCode::CREATED, Json(task)))
}

/// One task.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks", responses((status = 200, body = Task), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Task>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().get_task(&id).await?))
}

async fn editable(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<Task> {
    let task = state.store().get_task(id).await?;
    // A task for a queue (a callback nobody owns) is everyone's in that queue.
    if task.assignee_id.is_none()
        && let Some(queue) = &task.queue_id
        && state.store().queues_of_agent(user.id()).await?.contains(queue)
    {
        return Ok(task);
    }
    user.require_edit(task.created_by.as_deref(), task.assignee_id.as_deref())?;
    Ok(task)
}

/// Changes a task (its creator or assignee, or supervisor and above).
#[utoipa::path(patch, path = "/api/tasks/{id}", request_body = UpdateTask, tag = "tasks", responses((status = 200, body = Task), (status = 403)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateTask>,
) -> ApiResult<Json<Task>> {
    let before = editable(&state, &user, &id).await?;
    if let Some(assignee) = &b.assignee_id
        && assignee.as_deref() != before.assignee_id.as_deref()
        && assignee.as_deref() != Some(user.id())
    {
        user.require(Action::EditAnyCrm)?;
    }
    let changes = TaskChanges {
        subject: b.subject,
        description: b.description,
        due_at: b.due_at,
        assignee_id: b.assignee_id,
        contact_id: b.contact_id,
        deal_id: b.deal_id,
        kind: b.kind,
    };
    Ok(Json(state.store().update_task(&user.actor(), &id, changes).await?))
}

/// Completes a task with its result (or cancels it).
#[utoipa::path(post, path = "/api/tasks/{id}/complete", request_body = CompleteTask, tag = "tasks", responses((status = 200, body = Task), (status = 409)))]
pub(crate) async fn complete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CompleteTask>,
) -> ApiResult<Json<Task>> {
    editable(&state, &user, &id).await?;
    if b.status == TaskStatus::Open {
        return Err(ApiError::invalid("status", "expected done or cancelled"));
    }
    Ok(Json(state.store().complete_task(&user.actor(), &id, b.status, b.result).await?))
}

/// Deletes a task (manager, admin).
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::DeleteCrm)?;
    state.store().delete_task(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
