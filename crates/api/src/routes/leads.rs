//! Leads from outside. `POST /api/forms/{token}/leads` is the one address that needs no
//! account: a website's form posts there (JSON or an HTML form's fields), the token in the
//! path names the form; a filled honeypot or too many posts from one address are counted as
//! spam and stored nowhere, and a page from a site the form does not list is refused.
//! `POST /api/leads` is the same for integrations, signed in. Admins keep the forms.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    CONTENT_TYPE, ORIGIN, REFERER, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::text::normalize_email;
use switchboard_store::{
    Lead, LeadForm, LeadSource, NewLead, NewLeadForm, Page, PageRequest, StoreError,
};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ClientAddress, CurrentUser, JsonBody, QueryParams};
use crate::i18n::{Lang, t};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/forms/{token}/leads", post(form_post).options(preflight))
        .route("/api/leads", get(list).post(api_post))
        .route("/api/lead-forms", get(list_forms).post(create_form))
        .route("/api/lead-forms/{id}", patch(update_form))
        .route("/api/lead-forms/{id}/snippet", get(snippet))
}

/// Posts one address may make to the forms in a minute before the rest count as spam.
const POSTS_PER_MINUTE: u32 = 20;
/// Addresses remembered at most (the oldest windows are dropped first when full).
const ADDRESSES: usize = 10_000;

/// What lead intake keeps between requests: one lead at a time (so two leads from one number
/// never make two contacts), and each address's posts in the current minute.
#[derive(Default)]
pub(crate) struct Intake {
    one_at_a_time: tokio::sync::Mutex<()>,
    posts: std::sync::Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Intake {
    /// Counts a post from `address`; false when it is over the minute's allowance.
    fn allow(&self, address: Option<IpAddr>) -> bool {
        let Some(address) = address else { return true };
        let now = Instant::now();
        let mut posts = self.posts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if posts.len() >= ADDRESSES && !posts.contains_key(&address) {
            posts.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
            if posts.len() >= ADDRESSES {
                return false;
            }
        }
        let entry = posts.entry(address).or_insert((now, 0));
        if now.duration_since(entry.0) >= Duration::from_secs(60) {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= POSTS_PER_MINUTE
    }
}

/// A lead as a form or an integration sends it. Unknown fields are ignored (a site's form may
/// have more).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub(crate) struct LeadInput {
    /// The person's name.
    name: Option<String>,
    /// Their number, in any spelling.
    phone: Option<String>,
    /// Their email.
    email: Option<String>,
    /// What they wrote.
    message: Option<String>,
    /// Left empty by people: a field hidden from them, which robots fill.
    website: Option<String>,
    /// The integration's own word for where it came from.
    source: Option<String>,
    /// UTM tags of the page's address.
    utm_source: Option<String>,
    /// `utm_medium`.
    utm_medium: Option<String>,
    /// `utm_campaign`.
    utm_campaign: Option<String>,
    /// `utm_term`.
    utm_term: Option<String>,
    /// `utm_content`.
    utm_content: Option<String>,
    /// The page the visitor came from (else the request's Referer).
    referrer: Option<String>,
}

/// A field's text: trimmed, None when empty, refused when longer than `max` characters.
fn text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("at most {max} characters")));
    }
    Ok(Some(value))
}

/// Checks a lead's fields and turns them into a lead to take.
async fn lead(
    state: &AppState,
    input: LeadInput,
    form: Option<LeadForm>,
    referer: Option<String>,
) -> ApiResult<NewLead> {
    let phone = match text("phone", input.phone, 40)? {
        Some(p) => Some(super::parse_phone_param(state, "phone", &p)?),
        None => None,
    };
    let email = match text("email", input.email, 254)? {
        Some(e) => Some(
            normalize_email(&e)
                .map_err(|err| ApiError::invalid_input("email", err.to_string(), e.clone()))?,
        ),
        None => None,
    };
    if phone.is_none() && email.is_none() {
        return Err(ApiError::invalid("phone", "a lead needs a phone or an email"));
    }
    let source = LeadSource {
        source: text("source", input.source, 100)?,
        utm_source: text("utm_source", input.utm_source, 200)?,
        utm_medium: text("utm_medium", input.utm_medium, 200)?,
        utm_campaign: text("utm_campaign", input.utm_campaign, 200)?,
        utm_term: text("utm_term", input.utm_term, 200)?,
        utm_content: text("utm_content", input.utm_content, 200)?,
        referrer: text("referrer", input.referrer.or(referer), 1000)?,
    };
    let candidates = match form.as_ref().and_then(|f| f.team_id.as_deref()) {
        Some(team) => {
            let mut members: Vec<String> = state
                .store()
                .list_users()
                .await?
                .into_iter()
                .filter(|u| u.active && u.team_id.as_deref() == Some(team))
                .map(|u| u.id)
                .collect();
            members.sort();
            members
        }
        None => Vec::new(),
    };
    Ok(NewLead {
        form,
        name: text("name", input.name, 200)?,
        phone,
        email,
        message: text("message", input.message, 4000)?,
        source,
        candidates,
    })
}

/// The CORS answer for a page of `origin`: allowed when the form lists it (or `*`).
fn allowed_origin(form: &LeadForm, origin: Option<&str>) -> Result<Option<HeaderValue>, ()> {
    let Some(origin) = origin else { return Ok(None) };
    let listed = form.allowed_origins.iter().any(|o| o == "*" || o.trim_end_matches('/') == origin);
    if !listed {
        return Err(());
    }
    Ok(HeaderValue::from_str(origin).ok())
}

fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// What a form's post got: its lead's id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Taken {
    /// Always true: a post counted as spam gets the same answer, so robots learn nothing.
    ok: bool,
}

/// Takes a lead from a website's form (no account: the token in the path names the form).
/// JSON or an HTML form's fields; an HTML form gets a thank-you page in the visitor's
/// language.
#[utoipa::path(post, path = "/api/forms/{token}/leads", request_body = LeadInput, tag = "leads",
    responses((status = 200, body = Taken), (status = 403, description = "a page of a site the form does not list"), (status = 404), (status = 422), (status = 429)))]
pub(crate) async fn form_post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let form = match state.store().lead_form_by_token(&token).await {
        Ok(form) if form.active => form,
        Ok(_) | Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound("form")),
        Err(e) => return Err(e.into()),
    };
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let Ok(cors) = allowed_origin(&form, origin) else {
        return Err(ApiError::Forbidden("this site may not post to the form"));
    };
    let html_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let input: LeadInput = if html_form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::invalid("body", format!("unreadable form fields: {e}")))?
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?
    };
    let thanks = |cors: Option<HeaderValue>| {
        let response = if html_form {
            let lang = Lang::of_request(None, &headers);
            Html(format!(
                "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>{}</title><p>{}</p></html>",
                lang.code(),
                t(lang, "lead_thanks_title"),
                t(lang, "lead_thanks")
            ))
            .into_response()
        } else {
            Json(Taken { ok: true }).into_response()
        };
        with_cors(response, cors)
    };
    if input.website.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        state.store().count_lead_spam(&form.id).await?;
        metrics::counter!("switchboard_lead_spam_total", "why" => "honeypot").increment(1);
        return Ok(thanks(cors));
    }
    if !state.leads().allow(address) {
        state.store().count_lead_spam(&form.id).await?;
        metrics::counter!("switchboard_lead_spam_total", "why" => "rate").increment(1);
        return Err(ApiError::TooManyAttempts { retry_after_s: 60 });
    }
    let referer = headers.get(REFERER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let new = lead(&state, input, Some(form), referer).await?;
    let taken = {
        let _one = state.leads().one_at_a_time.lock().await;
        state.store().take_lead(new).await?
    };
    super::webhooks::emit(&state, "lead.created", &taken);
    metrics::counter!("switchboard_leads_total", "channel" => "form").increment(1);
    Ok(thanks(cors))
}

/// The browser's question before a cross-site JSON post: answered for the sites the form lists.
pub(crate) async fn preflight(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let allowed = match state.store().lead_form_by_token(&token).await {
        Ok(form) if form.active => allowed_origin(&form, origin).ok().flatten(),
        _ => None,
    };
    let Some(origin) = allowed else { return StatusCode::FORBIDDEN.into_response() };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
    h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    h.insert(VARY, HeaderValue::from_static("Origin"));
    response
}

/// Takes a lead from an integration (signed in: a session or an API token).
#[utoipa::path(post, path = "/api/leads", request_body = LeadInput, tag = "leads",
    responses((status = 201, body = Lead), (status = 401), (status = 422)))]
pub(crate) async fn api_post(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<LeadInput>,
) -> ApiResult<(StatusCode, Json<Lead>)> {
    user.require(Action::CreateCrm)?;
    let new = lead(&state, input, None, None).await?;
    let taken = {
        let _one = state.leads().one_at_a_time.lock().await;
        state.store().take_lead(new).await?
    };
    super::webhooks::emit(&state, "lead.created", &taken);
    metrics::counter!("switchboard_leads_total", "channel" => "api").increment(1);
    Ok((StatusCode::CREATED, Json(taken)))
}

/// `?form_id=&page=&per_page=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LeadQuery {
    /// Of this form.
    form_id: Option<String>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// Leads, newest first.
#[utoipa::path(get, path = "/api/leads", params(LeadQuery), tag = "leads", responses((status = 200, body = Page<Lead>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<LeadQuery>,
) -> ApiResult<Json<Page<Lead>>> {
    user.require(Action::ReadCrm)?;
    let page = PageRequest::new(q.page, q.per_page);
    Ok(Json(state.store().list_leads(q.form_id.as_deref(), page).await?))
}

/// A form to create, or what one becomes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormBody {
    /// Unique name (the subject of its leads' callback tasks).
    name: String,
    /// Minutes to call a lead back in (1-1440; 15 when absent).
    callback_minutes: Option<i64>,
    /// The team whose active members take its leads in turn.
    team_id: Option<String>,
    /// Origins whose pages may post to it (`https://example.ru`), `*` for any.
    #[serde(default)]
    allowed_origins: Vec<String>,
    /// Takes leads (default true).
    active: Option<bool>,
}

impl From<FormBody> for NewLeadForm {
    fn from(b: FormBody) -> NewLeadForm {
        NewLeadForm {
            name: b.name,
            callback_minutes: b.callback_minutes.unwrap_or(15),
            team_id: b.team_id.filter(|t| !t.is_empty()),
            allowed_origins: b.allowed_origins,
            active: b.active.unwrap_or(true),
        }
    }
}

/// A form's secret: 24 random bytes, URL-safe.
fn form_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The forms (admin).
#[utoipa::path(get, path = "/api/lead-forms", tag = "leads", responses((status = 200, body = [LeadForm]), (status = 403)))]
pub(crate) async fn list_forms(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<LeadForm>>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(state.store().list_lead_forms().await?))
}

/// Creates a form with a new secret token (admin).
#[utoipa::path(post, path = "/api/lead-forms", request_body = FormBody, tag = "leads", responses((status = 201, body = LeadForm), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn create_form(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<FormBody>,
) -> ApiResult<(StatusCode, Json<LeadForm>)> {
    user.require(Action::ManageSettings)?;
    let token = form_token();
    let form = state.store().create_lead_form(&user.actor(), body.into(), token).await?;
    Ok((StatusCode::CREATED, Json(form)))
}

/// Changes a form (admin); its token stays.
#[utoipa::path(patch, path = "/api/lead-forms/{id}", request_body = FormBody, tag = "leads", responses((status = 200, body = LeadForm), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FormBody>,
) -> ApiResult<Json<LeadForm>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(state.store().update_lead_form(&user.actor(), &id, body.into()).await?))
}

/// The HTML to paste into a website: the form's fields, the hidden honeypot, and a line of
/// script that copies the page's UTM tags and referrer into hidden fields (admin).
#[utoipa::path(get, path = "/api/lead-forms/{id}/snippet", tag = "leads", responses((status = 200, content_type = "text/plain"), (status = 403), (status = 404)))]
pub(crate) async fn snippet(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    user.require(Action::ManageSettings)?;
    let form = state.store().get_lead_form(&id).await?;
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("http");
    let lang = Lang::of_request(user.0.language.as_deref(), &headers);
    let w = |k| t(lang, k);
    let html = format!(
        r#"<form method="post" action="{scheme}://{host}/api/forms/{token}/leads">
  <input name="name" placeholder="{name}" maxlength="200">
  <input name="phone" type="tel" placeholder="{phone}" required maxlength="40">
  <input name="email" type="email" placeholder="{email}" maxlength="254">
  <textarea name="message" placeholder="{message}" maxlength="4000"></textarea>
  <input name="website" tabindex="-1" autocomplete="off" style="position:absolute;left:-9999px" aria-hidden="true">
  <input type="hidden" name="utm_source"><input type="hidden" name="utm_medium"><input type="hidden" name="utm_campaign">
  <input type="hidden" name="utm_term"><input type="hidden" name="utm_content"><input type="hidden" name="referrer">
  <button type="submit">{send}</button>
</form>
<script>(function (f, q) {{ ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].forEach(function (k) {{ f[k].value = q.get(k) || ''; }}); f.referrer.value = document.referrer; }})(document.currentScript.previousElementSibling, new URLSearchParams(location.search));</script>
"#,
        token = form.token,
        name = w("lead_field_name"),
        phone = w("lead_field_phone"),
        email = w("lead_field_email"),
        message = w("lead_field_message"),
        send = w("lead_field_send"),
    );
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], html).into_response())
}
