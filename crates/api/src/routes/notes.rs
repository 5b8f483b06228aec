//! `/api/notes`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_core::entity::Note;
use switchboard_store::NewNote;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/notes", get(list).post(create))
        .route("/api/notes/{id}", delete(remove))
}

/// A note on a contact, company or deal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateNote {
    body: String,
    contact_id: Option<String>,
    company_id: Option<String>,
    deal_id: Option<String>,
}

/// Which record's notes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    contact_id: Option<String>,
    company_id: Option<String>,
    deal_id: Option<String>,
}

/// Notes on a record, newest first (one of the ids is required).
#[utoipa::path(get, path = "/api/notes", params(ListQuery), tag = "notes", responses((status = 200, body = [Note])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Vec<Note>>> {
    user.require(Action::ReadCrm)?;
    if q.contact_id.is_none() && q.company_id.is_none() && q.deal_id.is_none() {
        return Err(ApiError::invalid("contact_id", "give contact_id, company_id or deal_id"));
    }
    Ok(Json(
        state
            .store()
            .list_notes(q.contact_id.as_deref(), q.company_id.as_deref(), q.deal_id.as_deref())
            .await?,
    ))
}

/// Writes a note.
#[utoipa::path(post, path = "/api/notes", request_body = CreateNote, tag = "notes", responses((status = 201, body = Note), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateNote>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    user.require(Action::CreateCrm)?;
    let note = state
        .store()
        .create_note(
            &user.actor(),
            NewNote {
                body: b.body,
                contact_id: b.contact_id,
                company_id: b.company_id,
                deal_id: b.deal_id,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Deletes a note (its author, or manager and admin).
#[utoipa::path(delete, path = "/api/notes/{id}", tag = "notes", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let note = state.store().get_note(&id).await?;
    if note.author_id.as_deref() != Some(user.id()) {
        user.require(Action::DeleteCrm)?;
    }
    state.store().delete_note(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
