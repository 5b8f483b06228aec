//! `/api/companies`.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::Action;
use switchboard_core::entity::{Company, Requisites};
use switchboard_store::{CompanyChanges, CompanyFilter, NewCompany, Page};
use utoipa::ToSchema;

use super::{Paging, custom_filters, nullable};
use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/companies", get(list).post(create))
        .route("/api/companies/{id}", get(read).patch(update).delete(remove))
}

/// A new company.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCompany {
    name: String,
    tax_id: Option<String>,
    website: Option<String>,
    address: Option<String>,
    /// КПП, ОГРН and bank details.
    #[serde(default)]
    requisites: Requisites,
    /// Defaults to the creator.
    owner_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
}

/// Changes; `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateCompany {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    tax_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    website: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    address: Option<Option<String>>,
    /// Replaces all of them.
    requisites: Option<Requisites>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    owner_id: Option<Option<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
}

/// List filters (plus `cf.<key>=<value>`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    q: Option<String>,
    owner_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Lists companies by name.
#[utoipa::path(get, path = "/api/companies", params(ListQuery), tag = "companies", responses((status = 200, body = Page<Company>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Page<Company>>> {
    user.require(Action::ReadCrm)?;
    let paging = Paging { page: q.page, per_page: q.per_page };
    Ok(Json(state.store().list_companies(&q.filter(raw.as_deref()), paging.request()).await?))
}

impl ListQuery {
    /// The store filter these parameters (and the raw query's `cf.<key>=`) ask for.
    pub(crate) fn filter(self, raw: Option<&str>) -> CompanyFilter {
        CompanyFilter { q: self.q, owner_id: self.owner_id, custom: custom_filters(raw) }
    }
}

/// Creates a company.
#[utoipa::path(post, path = "/api/companies", request_body = CreateCompany, tag = "companies", responses((status = 201, body = Company), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<CreateCompany>,
) -> ApiResult<(StatusCode, Json<Company>)> {
    user.require(Action::CreateCrm)?;
    let owner_id = user.owner_for_new(body.owner_id)?;
    let new = NewCompany {
        name: body.name,
        tax_id: body.tax_id,
        website: body.website,
        address: body.address,
        requisites: body.requisites,
        owner_id,
        custom: body.custom,
    };
    Ok((StatusCode::CREATED, Json(state.store().create_company(&user.actor(), new).await?)))
}

/// One company.
#[utoipa::path(get, path = "/api/companies/{id}", tag = "companies", responses((status = 200, body = Company), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Company>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().get_company(&id).await?))
}

/// Changes a company (owner, or supervisor and above).
#[utoipa::path(patch, path = "/api/companies/{id}", request_body = UpdateCompany, tag = "companies", responses((status = 200, body = Company), (status = 403)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateCompany>,
) -> ApiResult<Json<Company>> {
    let before = state.store().get_company(&id).await?;
    user.require_edit(before.owner_id.as_deref(), None)?;
    user.check_owner_change(&body.owner_id, before.owner_id.as_deref())?;
    let changes = CompanyChanges {
        name: body.name,
        tax_id: body.tax_id,
        website: body.website,
        address: body.address,
        requisites: body.requisites,
        owner_id: body.owner_id,
        custom: body.custom,
    };
    Ok(Json(state.store().update_company(&user.actor(), &id, changes).await?))
}

/// Deletes a company (manager, admin).
#[utoipa::path(delete, path = "/api/companies/{id}", tag = "companies", responses((status = 204), (status = 403)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::DeleteCrm)?;
    state.store().delete_company(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
