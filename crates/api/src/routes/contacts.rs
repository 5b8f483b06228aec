//! `/api/contacts`: people, their phones and emails, lookup by any spelling of a number.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::Action;
use switchboard_core::entity::{Contact, TimelineItem};
use switchboard_core::text::normalize_email;
use switchboard_store::{ContactChanges, ContactFilter, NewContact, Page};
use utoipa::ToSchema;

use super::{
    Paging, PhoneInput, custom_filters, nullable, parse_emails, parse_phone_param, parse_phones,
};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/contacts", get(list).post(create))
        .route("/api/contacts/lookup", get(lookup))
        .route("/api/contacts/{id}", get(read).patch(update).delete(remove))
        .route("/api/contacts/{id}/timeline", get(timeline))
        .route("/api/contacts/{id}/merge", post(merge))
}

/// A new contact. Phones in any spelling; `force` creates it even when a phone or email
/// already belongs to another contact (otherwise that is a 409 naming the existing contact).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateContact {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    middle_name: String,
    position: Option<String>,
    company_id: Option<String>,
    /// Defaults to the creator.
    owner_id: Option<String>,
    #[serde(default)]
    phones: Vec<PhoneInput>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
    #[serde(default)]
    force: bool,
}

/// Changes; absent fields stay, `null` clears the clearable ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateContact {
    first_name: Option<String>,
    last_name: Option<String>,
    middle_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    position: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    owner_id: Option<Option<String>>,
    /// Replaces all phones.
    phones: Option<Vec<PhoneInput>>,
    /// Replaces all emails.
    emails: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    custom: BTreeMap<String, Value>,
    #[serde(default)]
    force: bool,
}

/// List filters (plus `cf.<key>=<value>` for custom fields).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Text in name, email or position.
    q: Option<String>,
    owner_id: Option<String>,
    company_id: Option<String>,
    /// A whole number in any spelling, or its last 4-7 digits.
    phone: Option<String>,
    email: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// `?phone=` in any spelling.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    phone: String,
}

/// Every contact having the number.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LookupResult {
    /// The number in E.164.
    phone: String,
    /// All contacts having it (several when the number is shared).
    matches: Vec<Contact>,
}

/// Lists contacts, newest first.
#[utoipa::path(get, path = "/api/contacts", params(ListQuery), tag = "contacts", responses((status = 200, body = Page<Contact>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(query): QueryParams<ListQuery>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Page<Contact>>> {
    user.require(Action::ReadCrm)?;
    let paging = Paging { page: query.page, per_page: query.per_page };
    let filter = query.filter(&state, raw.as_deref())?;
    Ok(Json(state.store().list_contacts(&filter, paging.request()).await?))
}

impl ListQuery {
    /// The store filter these parameters (and the raw query's `cf.<key>=`) ask for.
    pub(crate) fn filter(
        self,
        state: &AppState,
        raw: Option<&str>,
    ) -> Result<ContactFilter, ApiError> {
        // The last 4-7 digits of a number (what people remember) find every number ending
        // so; anything longer is a whole number in any spelling.
        let digits = |p: &str| -> Option<String> {
            let plain = p.chars().all(|c| c.is_ascii_digit() || " -().".contains(c));
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            (plain && (4..=7).contains(&digits.len())).then_some(digits)
        };
        let (phone_e164, phone_suffix) = match &self.phone {
            Some(p) if !p.trim().is_empty() => match digits(p) {
                Some(tail) => (None, Some(tail)),
                None => (Some(parse_phone_param(state, "phone", p)?.e164().to_owned()), None),
            },
            _ => (None, None),
        };
        let email = match &self.email {
            Some(e) if !e.trim().is_empty() => Some(
                normalize_email(e)
                    .map_err(|err| ApiError::invalid_input("email", err.to_string(), e.clone()))?,
            ),
            _ => None,
        };
        Ok(ContactFilter {
            q: self.q,
            owner_id: self.owner_id,
            company_id: self.company_id,
            phone_e164,
            phone_suffix,
            email,
            custom: custom_filters(raw),
        })
    }
}

/// Finds every contact with a number, typed any way (`8 (916) 123-45-67`, `+7 916 123 45 67`,
/// `79161234567`, `9161234567`).
#[utoipa::path(get, path = "/api/contacts/lookup", params(LookupQuery), tag = "contacts", responses((status = 200, body = LookupResult), (status = 422)))]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(query): QueryParams<LookupQuery>,
) -> ApiResult<Json<LookupResult>> {
    user.require(Action::ReadCrm)?;
    let number = parse_phone_param(&state, "phone", &query.phone)?;
    let matches = state.store().find_contacts_by_phone(number.e164()).await?;
    Ok(Json(LookupResult { phone: number.e164().to_owned(), matches }))
}

/// Creates a contact.
#[utoipa::path(post, path = "/api/contacts", request_body = CreateContact, tag = "contacts",
    responses((status = 201, body = Contact), (status = 409, description = "a phone or email belongs to another contact"), (status = 422)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<CreateContact>,
) -> ApiResult<(StatusCode, Json<Contact>)> {
    user.require(Action::CreateCrm)?;
    let owner_id = user.owner_for_new(body.owner_id.clone())?;
    let new = NewContact {
        first_name: body.first_name,
        last_name: body.last_name,
        middle_name: body.middle_name,
        position: body.position,
        company_id: body.company_id,
        owner_id,
        phones: parse_phones(&state, "phones", &body.phones)?,
        emails: parse_emails("emails", &body.emails)?,
        custom: body.custom,
        force: body.force,
    };
    let contact = state.store().create_contact(&user.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(contact)))
}

/// One contact.
#[utoipa::path(get, path = "/api/contacts/{id}", tag = "contacts", responses((status = 200, body = Contact), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Contact>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().get_contact(&id).await?))
}

/// Changes a contact (owner, or supervisor and above).
#[utoipa::path(patch, path = "/api/contacts/{id}", request_body = UpdateContact, tag = "contacts",
    responses((status = 200, body = Contact), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateContact>,
) -> ApiResult<Json<Contact>> {
    let before = state.store().get_contact(&id).await?;
    // The agent who just talked with a caller may fill in the caller's details on the
    // after-call form, whoever owns the contact; the owner stays as it is (the field-level
    // rule below: only owners and managers change ownership).
    if let Err(refused) = user.require_edit(before.owner_id.as_deref(), None) {
        let since = switchboard_store::now_ms() - AFTER_CALL_EDIT_MS;
        if !state.store().handled_call_with(user.id(), &id, since).await? {
            return Err(refused);
        }
    }
    user.check_owner_change(&body.owner_id, before.owner_id.as_deref())?;
    let changes = ContactChanges {
        first_name: body.first_name,
        last_name: body.last_name,
        middle_name: body.middle_name,
        position: body.position,
        company_id: body.company_id,
        owner_id: body.owner_id,
        phones: body.phones.as_deref().map(|p| parse_phones(&state, "phones", p)).transpose()?,
        emails: body.emails.as_deref().map(|e| parse_emails("emails", e)).transpose()?,
        custom: body.custom,
        force: body.force,
    };
    Ok(Json(state.store().update_contact(&user.actor(), &id, changes).await?))
}

/// How long after a call its agent may still fill in the caller's details: a working day.
const AFTER_CALL_EDIT_MS: i64 = 12 * 3_600_000;

/// Deletes a contact (manager, admin).
#[utoipa::path(delete, path = "/api/contacts/{id}", tag = "contacts", responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::DeleteCrm)?;
    state.store().delete_contact(&user.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?limit=` for the timeline.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TimelineQuery {
    /// Newest N items (default 100, at most 500).
    pub(crate) limit: Option<u32>,
}

/// A contact's notes, tasks, deals, deal changes and calls, newest first. Recorded calls the
/// user may hear carry `recording_url`.
#[utoipa::path(get, path = "/api/contacts/{id}/timeline", params(TimelineQuery), tag = "contacts", responses((status = 200, body = [TimelineItem])))]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<TimelineQuery>,
) -> ApiResult<Json<Vec<TimelineItem>>> {
    user.require(Action::ReadCrm)?;
    let mut items = state.store().contact_timeline(&id, q.limit.unwrap_or(100)).await?;
    super::recordings::hide_unheard(&state, &user, &mut items).await?;
    Ok(Json(items))
}

/// The duplicate to fold into the contact of the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeContact {
    /// This contact's phones, emails, calls, deals, tasks and notes move to the survivor; it is deleted.
    other_id: String,
}

/// Merges a duplicate into this contact (manager, admin: the duplicate is deleted). The
/// survivor keeps its own fields and gains the other's phones, emails, custom values and empty
/// fields; every call, deal, task and note of the other moves to it.
#[utoipa::path(post, path = "/api/contacts/{id}/merge", request_body = MergeContact, tag = "contacts",
    responses((status = 200, body = Contact), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn merge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MergeContact>,
) -> ApiResult<Json<Contact>> {
    user.require(Action::DeleteCrm)?;
    Ok(Json(state.store().merge_contacts(&user.actor(), &id, &body.other_id).await?))
}
