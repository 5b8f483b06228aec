//! `/api/callbacks`: the callbacks work queue (missed calls, voicemails, callback requests).
//! Operators see theirs and their queues'; supervisors their teams' and those nobody has yet;
//! managers and administrators all. Calling back goes through click-to-call with the task
//! (`POST /api/calls/dial`), closing through `POST /api/tasks/{id}/complete`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Role;
use switchboard_core::entity::{Task, TaskStatus};
use switchboard_store::{
    CallbackFilter, CallbackItem, CallbackScope, CallbackSort, CallbackSource, Page,
};
use utoipa::ToSchema;

use super::Paging;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/callbacks", get(list)).route("/api/callbacks/assign", post(assign))
}

/// List filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `open` (the default), `done`, `cancelled` or `all`.
    status: Option<String>,
    /// Only those past their due time.
    #[serde(default)]
    overdue: bool,
    queue_id: Option<String>,
    /// A user id, `me`, or `none` for those nobody has.
    assignee_id: Option<String>,
    source: Option<CallbackSource>,
    sort: Option<CallbackSort>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The scope a user's role gives them.
fn scope(user: &CurrentUser) -> CallbackScope {
    match user.0.role {
        Role::Operator => CallbackScope::Agent(user.id().to_owned()),
        Role::Supervisor => CallbackScope::Supervisor(user.id().to_owned()),
        Role::Manager | Role::Admin => CallbackScope::All,
    }
}

/// The callbacks in the user's scope: open ones first, in the order asked.
#[utoipa::path(get, path = "/api/callbacks", params(ListQuery), tag = "tasks", responses((status = 200, body = Page<CallbackItem>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Page<CallbackItem>>> {
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => Some(TaskStatus::Open),
        "done" => Some(TaskStatus::Done),
        "cancelled" => Some(TaskStatus::Cancelled),
        "all" => None,
        _ => return Err(ApiError::invalid("status", "expected open, done, cancelled or all")),
    };
    let assignee_id = match q.assignee_id.as_deref() {
        None => None,
        Some("none") => Some(None),
        Some("me") => Some(Some(user.id().to_owned())),
        Some(id) => Some(Some(id.to_owned())),
    };
    let filter = CallbackFilter {
        scope: scope(&user),
        status,
        due_before: q.overdue.then(switchboard_store::now_ms),
        queue_id: q.queue_id,
        assignee_id,
        source: q.source,
        sort: q.sort.unwrap_or_default(),
    };
    let page = Paging { page: q.page, per_page: q.per_page }.request();
    Ok(Json(state.store().list_callbacks(&filter, page).await?))
}

/// Callbacks to hand to someone, or back to their queue (`assignee_id: null`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Assign {
    /// Up to 500 open callbacks.
    task_ids: Vec<String>,
    /// The user to take them; `null` returns them to their queue.
    assignee_id: Option<String>,
}

/// Assigns callbacks in bulk, each audited. Supervisors and above assign within their scope
/// (a supervisor: to and from their team); an operator may only take callbacks of their own
/// queues for themselves.
#[utoipa::path(post, path = "/api/callbacks/assign", request_body = Assign, tag = "tasks", responses((status = 200, body = Vec<Task>), (status = 403), (status = 422)))]
pub(crate) async fn assign(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<Assign>,
) -> ApiResult<Json<Vec<Task>>> {
    if b.task_ids.is_empty() || b.task_ids.len() > switchboard_store::MAX_BULK {
        return Err(ApiError::invalid("task_ids", "between 1 and 500 callbacks"));
    }
    let store = state.store();
    let scope = scope(&user);
    // Each callback must be in the user's scope (what their list shows).
    match &scope {
        CallbackScope::Agent(me) => {
            if b.assignee_id.as_deref() != Some(me.as_str()) {
                return Err(ApiError::Forbidden("you may only take callbacks for yourself"));
            }
            let queues = store.queues_of_agent(me).await?;
            for (i, id) in b.task_ids.iter().enumerate() {
                let task = task_or_invalid(&state, i, id).await?;
                let mine = task.assignee_id.as_deref() == Some(me.as_str());
                let free_in_my_queue = task.assignee_id.is_none()
                    && task.queue_id.as_ref().is_some_and(|q| queues.contains(q));
                if !mine && !free_in_my_queue {
                    return Err(ApiError::Forbidden(
                        "you may only take callbacks nobody has in your queues",
                    ));
                }
            }
        }
        CallbackScope::Supervisor(me) => {
            let team = store.supervised_agents(me).await?;
            if let Some(to) = &b.assignee_id
                && !team.contains(to)
            {
                return Err(ApiError::Forbidden("you may only assign callbacks within your team"));
            }
            for (i, id) in b.task_ids.iter().enumerate() {
                let task = task_or_invalid(&state, i, id).await?;
                if let Some(from) = &task.assignee_id
                    && !team.contains(from)
                {
                    return Err(ApiError::Forbidden(
                        "you may only reassign callbacks within your team",
                    ));
                }
            }
        }
        CallbackScope::All => {}
    }
    let tasks =
        store.assign_callbacks(&user.actor(), &b.task_ids, b.assignee_id.as_deref()).await?;
    Ok(Json(tasks))
}

/// The task, or a 422 naming its place in the list.
async fn task_or_invalid(state: &AppState, i: usize, id: &str) -> ApiResult<Task> {
    state
        .store()
        .get_task(id)
        .await
        .map_err(|_| ApiError::invalid(format!("task_ids[{i}]"), "no callback has this id"))
}
