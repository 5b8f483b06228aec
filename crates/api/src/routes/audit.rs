//! `/api/audit`: who changed what, when.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_core::entity::AuditEntry;
use switchboard_store::{AuditFilter, Page};

use super::Paging;
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/audit", get(list))
}

/// Filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    user_id: Option<String>,
    entity: Option<String>,
    entity_id: Option<String>,
    /// e.g. `contact.`
    action: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The audit log, newest first (manager, admin).
#[utoipa::path(get, path = "/api/audit", params(ListQuery), tag = "settings", responses((status = 200, body = Page<AuditEntry>), (status = 403)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    user.require(Action::ReadAudit)?;
    let filter = AuditFilter {
        user_id: q.user_id,
        entity: q.entity,
        entity_id: q.entity_id,
        action_prefix: q.action,
    };
    Ok(Json(
        state
            .store()
            .list_audit(&filter, Paging { page: q.page, per_page: q.per_page }.request())
            .await?,
    ))
}
