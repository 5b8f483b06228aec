//! `/api/custom-fields`: admin-defined typed fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::{Action, CustomFieldDef, EntityKind, FieldType};
use switchboard_store::{FieldChanges, NewCustomField};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/custom-fields", get(list).post(create))
        .route("/api/custom-fields/{id}", patch(update).delete(remove))
}

/// A field definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateField {
    entity: EntityKind,
    /// Lowercase letters, digits, underscores.
    key: String,
    label: String,
    field_type: FieldType,
    #[serde(default)]
    choices: Vec<String>,
    #[serde(default)]
    required: bool,
}

/// Changes; the key, record kind and type are fixed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateField {
    label: Option<String>,
    /// Replaces the choices of a choice field.
    choices: Option<Vec<String>>,
    required: Option<bool>,
}

/// Optional entity filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    entity: Option<EntityKind>,
}

/// The definitions.
#[utoipa::path(get, path = "/api/custom-fields", params(ListQuery), tag = "settings", responses((status = 200, body = [CustomFieldDef])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Vec<CustomFieldDef>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().list_custom_fields(q.entity).await?))
}

/// Defines a field (admin).
#[utoipa::path(post, path = "/api/custom-fields", request_body = CreateField, tag = "settings", responses((status = 201, body = CustomFieldDef), (status = 403), (status = 409)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateField>,
) -> ApiResult<(StatusCode, Json<CustomFieldDef>)> {
    user.require(Action::ManageSettings)?;
    let new = NewCustomField {
        entity: b.entity,
        key: b.key,
        label: b.label,
        field_type: b.field_type,
        choices: b.choices,
        required: b.required,
    };
    Ok((StatusCode::CREATED, Json(state.store().create_custom_field(&user.actor(), new).await?)))
}

/// Changes a field's label, choices or whether it is required (admin).
#[utoipa::path(patch, path = "/api/custom-fields/{id}", request_body = UpdateField, tag = "settings", responses((status = 200, body = CustomFieldDef), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateField>,
) -> ApiResult<Json<CustomFieldDef>> {
    user.require(Action::ManageSettings)?;
    let changes = FieldChanges { label: b.label, choices: b.choices, required: b.required };
    Ok(Json(state.store().update_custom_field(&user.actor(), &id, changes).await?))
}

/// Removes a field and its values (admin).
#[utoipa::path(delete, path = "/api/custom-fields/{id}", tag = "settings", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageSettings)?;
    state.store().delete_custom_field(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
