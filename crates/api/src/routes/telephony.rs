//! `/api/agent/state`, `/api/telephony/status`, `/api/queues`, `/api/users/{id}/sip`,
//! `/api/calls/{id}`: agents going available, supervisors watching, admins configuring.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::acd::{AgentState, Strategy};
use switchboard_core::entity::{Call, CallEvent, Queue};
use switchboard_store::{CallOutcome, NewQueue, Page, QueueChanges, SipEndpoint};
use tokio::sync::oneshot;
use utoipa::ToSchema;

use super::{Paging, nullable};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};
use crate::telephony::{AgentTarget, TelephonyRequest, TelephonyStatus};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agent/state", get(agent_state).put(set_agent_state))
        .route("/api/telephony/status", get(status))
        .route("/api/queues", get(list_queues).post(create_queue))
        .route("/api/queues/{id}", get(read_queue).patch(update_queue))
        .route("/api/users/{id}/sip", get(read_sip).put(set_sip))
        .route("/api/calls", get(list_calls))
        .route("/api/calls/dial", post(dial))
        .route("/api/calls/{id}", get(read_call).patch(save_call_form))
}

/// The state an agent asks for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetAgentState {
    /// `available`, `paused` or `offline`.
    state: String,
    /// Why, for `paused` (lunch, training, ...).
    reason: Option<String>,
}

pub(crate) async fn ask<T>(
    state: &AppState,
    make: impl FnOnce(oneshot::Sender<T>) -> TelephonyRequest,
) -> Result<T, ApiError> {
    let handle = state
        .telephony()
        .ok_or_else(|| ApiError::Unavailable("telephony is not running".into()))?;
    let (tx, rx) = oneshot::channel();
    handle.send(make(tx)).map_err(|_| ApiError::Unavailable("telephony is not running".into()))?;
    rx.await.map_err(|_| ApiError::Unavailable("telephony did not answer".into()))
}

/// The logged-in agent's state.
#[utoipa::path(get, path = "/api/agent/state", tag = "telephony", responses((status = 200, body = Object)))]
pub(crate) async fn agent_state(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<AgentState>> {
    user.require(Action::TakeCalls)?;
    let user_id = user.id().to_owned();
    Ok(Json(ask(&state, |reply| TelephonyRequest::AgentState { user_id, reply }).await?))
}

/// Goes available (into the agent's queues), pauses with a reason, or goes offline. Going
/// available needs a SIP phone configured for the agent.
#[utoipa::path(put, path = "/api/agent/state", request_body = SetAgentState, tag = "telephony", responses((status = 200, body = Object), (status = 409), (status = 422)))]
pub(crate) async fn set_agent_state(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<SetAgentState>,
) -> ApiResult<Json<AgentState>> {
    user.require(Action::TakeCalls)?;
    let target = match b.state.as_str() {
        "available" => AgentTarget::Available,
        "offline" => AgentTarget::Offline,
        "paused" => {
            let reason = b
                .reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .ok_or_else(|| ApiError::invalid("reason", "a pause needs a reason"))?;
            if reason.chars().count() > 100 {
                return Err(ApiError::invalid("reason", "at most 100 characters"));
            }
            AgentTarget::Paused(reason)
        }
        other => {
            return Err(ApiError::invalid_input(
                "state",
                "expected available, paused or offline",
                other,
            ));
        }
    };
    let user_id = user.id().to_owned();
    let result =
        ask(&state, |reply| TelephonyRequest::SetAgentState { user_id, target, reply }).await?;
    result.map(Json).map_err(|error| ApiError::Switch { field: "state", error })
}

/// Registrations, calls in progress, agents and queues (supervisors and up).
#[utoipa::path(get, path = "/api/telephony/status", tag = "telephony", responses((status = 200, body = TelephonyStatus), (status = 403)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<TelephonyStatus>> {
    user.require(Action::MonitorCalls)?;
    Ok(Json(ask(&state, |reply| TelephonyRequest::Status { reply }).await?))
}

/// A new queue (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateQueue {
    name: String,
    number: Option<String>,
    strategy: Option<Strategy>,
    ring_timeout_ms: Option<i64>,
    max_wait_ms: Option<i64>,
    wrap_up_ms: Option<i64>,
    record: Option<bool>,
    sl_answer_ms: Option<i64>,
    sl_target_pct: Option<i64>,
    #[serde(default)]
    members: Vec<String>,
    /// `ringback`, `music`, a prompt's id, or absent for the gateway's default.
    waiting_sound: Option<String>,
    /// Seconds between position and wait announcements (0: none).
    announce_every_s: Option<i64>,
    /// "ru" or "en".
    language: Option<String>,
    /// Seconds a caller's owner (contact's, else an open deal's) rings alone first (0: no).
    owner_first_s: Option<i64>,
    /// A contact custom field's key whose set value makes the caller a VIP, served first.
    vip_field: Option<String>,
    /// Business hours (a schedule's id); outside them callers do not wait (absent: always
    /// open).
    schedule_id: Option<String>,
    /// Outside the hours: `voicemail` (default: the after-hours prompt, then a message for the
    /// queue), `callback` (the prompt, then an offer to call back when the queue opens) or
    /// `hangup` (the after-hours prompt only).
    after_hours: Option<String>,
    /// Offer a waiting caller a callback after this many seconds (0: not for the wait).
    callback_after_s: Option<i64>,
    /// ... or at once when the queue's typical wait is over this many seconds (0: not).
    callback_over_wait_s: Option<i64>,
    /// Calls to the customer before giving up (1-10, default 3).
    callback_attempts: Option<i64>,
    /// Seconds between them (default 300).
    callback_retry_s: Option<i64>,
    /// Skills an agent needs (each at least at its level, 1-5) to be offered its calls.
    #[schema(value_type = Option<Object>)]
    skills: Option<switchboard_core::acd::Skills>,
}

/// Queue changes (admin); `members` replaces the list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateQueue {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    number: Option<Option<String>>,
    strategy: Option<Strategy>,
    ring_timeout_ms: Option<i64>,
    max_wait_ms: Option<i64>,
    wrap_up_ms: Option<i64>,
    record: Option<bool>,
    sl_answer_ms: Option<i64>,
    sl_target_pct: Option<i64>,
    members: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    waiting_sound: Option<Option<String>>,
    announce_every_s: Option<i64>,
    language: Option<String>,
    owner_first_s: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    vip_field: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    schedule_id: Option<Option<String>>,
    after_hours: Option<String>,
    callback_after_s: Option<i64>,
    callback_over_wait_s: Option<i64>,
    callback_attempts: Option<i64>,
    callback_retry_s: Option<i64>,
    #[schema(value_type = Option<Object>)]
    skills: Option<switchboard_core::acd::Skills>,
}

/// Tells the telephony side the queues changed, and waits until it has them (so a call right
/// after the change is routed by it). Without telephony there is nothing to tell.
pub(crate) async fn reload(state: &AppState) {
    if state.telephony().is_some() {
        let _ = ask(state, |reply| TelephonyRequest::ReloadQueues { reply }).await;
    }
}

/// Every queue.
#[utoipa::path(get, path = "/api/queues", tag = "telephony", responses((status = 200, body = [Queue])))]
pub(crate) async fn list_queues(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Queue>>> {
    user.require(Action::TakeCalls)?;
    Ok(Json(state.store().list_queues().await?))
}

/// Creates a queue (admin).
#[utoipa::path(post, path = "/api/queues", request_body = CreateQueue, tag = "telephony", responses((status = 201, body = Queue), (status = 403), (status = 409)))]
pub(crate) async fn create_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<CreateQueue>,
) -> ApiResult<(StatusCode, Json<Queue>)> {
    user.require(Action::ManageTelephony)?;
    let new = NewQueue {
        name: b.name,
        number: b.number,
        strategy: b.strategy,
        ring_timeout_ms: b.ring_timeout_ms,
        max_wait_ms: b.max_wait_ms,
        wrap_up_ms: b.wrap_up_ms,
        record: b.record,
        sl_answer_ms: b.sl_answer_ms,
        sl_target_pct: b.sl_target_pct,
        members: b.members,
        waiting_sound: b.waiting_sound,
        announce_every_s: b.announce_every_s,
        language: b.language,
        owner_first_s: b.owner_first_s,
        vip_field: b.vip_field,
        schedule_id: b.schedule_id,
        after_hours: b.after_hours,
        callback_after_s: b.callback_after_s,
        callback_over_wait_s: b.callback_over_wait_s,
        callback_attempts: b.callback_attempts,
        callback_retry_s: b.callback_retry_s,
        skills: b.skills,
    };
    let queue = state.store().create_queue(&user.actor(), new).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(queue)))
}

/// One queue.
#[utoipa::path(get, path = "/api/queues/{id}", tag = "telephony", responses((status = 200, body = Queue), (status = 404)))]
pub(crate) async fn read_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Queue>> {
    user.require(Action::TakeCalls)?;
    Ok(Json(state.store().get_queue(&id).await?))
}

/// Changes a queue (admin). Agents already available keep the queues they logged in to
/// until they next go available.
#[utoipa::path(patch, path = "/api/queues/{id}", request_body = UpdateQueue, tag = "telephony", responses((status = 200, body = Queue), (status = 403)))]
pub(crate) async fn update_queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateQueue>,
) -> ApiResult<Json<Queue>> {
    user.require(Action::ManageTelephony)?;
    let changes = QueueChanges {
        name: b.name,
        number: b.number,
        strategy: b.strategy,
        ring_timeout_ms: b.ring_timeout_ms,
        max_wait_ms: b.max_wait_ms,
        wrap_up_ms: b.wrap_up_ms,
        record: b.record,
        sl_answer_ms: b.sl_answer_ms,
        sl_target_pct: b.sl_target_pct,
        members: b.members,
        waiting_sound: b.waiting_sound,
        announce_every_s: b.announce_every_s,
        language: b.language,
        owner_first_s: b.owner_first_s,
        vip_field: b.vip_field,
        schedule_id: b.schedule_id,
        after_hours: b.after_hours,
        callback_after_s: b.callback_after_s,
        callback_over_wait_s: b.callback_over_wait_s,
        callback_attempts: b.callback_attempts,
        callback_retry_s: b.callback_retry_s,
        skills: b.skills,
    };
    let queue = state.store().update_queue(&user.actor(), &id, changes).await?;
    reload(&state).await;
    Ok(Json(queue))
}

/// An agent's SIP phone: a fixed `uri` the gateway calls, or an `extension` (with its
/// `password`) that the phone registers as with the gateway. Both null removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetSipEndpoint {
    /// `sip:101@192.0.2.10:5060`.
    uri: Option<String>,
    /// The SIP user the phone registers as (`101`).
    extension: Option<String>,
    /// The phone's password for the extension (at least 8 characters); never returned.
    password: Option<String>,
}

/// An agent's SIP phone as stored (the password is never returned).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SipEndpointView {
    uri: Option<String>,
    extension: Option<String>,
}

async fn endpoint_view(state: &AppState, id: &str) -> Result<SipEndpointView, ApiError> {
    let (uri, extension) = state.store().sip_endpoint(id).await?.unwrap_or((None, None));
    Ok(SipEndpointView { uri, extension })
}

/// An agent's SIP phone (the agent themselves, or an admin).
#[utoipa::path(get, path = "/api/users/{id}/sip", tag = "telephony", responses((status = 200, body = SipEndpointView), (status = 403)))]
pub(crate) async fn read_sip(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SipEndpointView>> {
    if id != user.id() {
        user.require(Action::ManageTelephony)?;
    }
    state.store().get_user(&id).await?;
    Ok(Json(endpoint_view(&state, &id).await?))
}

/// Sets an agent's SIP phone (admin).
#[utoipa::path(put, path = "/api/users/{id}/sip", request_body = SetSipEndpoint, tag = "telephony", responses((status = 200, body = SipEndpointView), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn set_sip(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SetSipEndpoint>,
) -> ApiResult<Json<SipEndpointView>> {
    user.require(Action::ManageTelephony)?;
    state.store().get_user(&id).await?;
    let endpoint = match (b.uri, b.extension, b.password) {
        (Some(_), Some(_), _) => {
            return Err(ApiError::invalid("extension", "give either uri or extension, not both"));
        }
        (Some(uri), None, None) => Some(SipEndpoint::Uri(uri)),
        (Some(_), None, Some(_)) => {
            return Err(ApiError::invalid("password", "a fixed uri takes no password"));
        }
        (None, Some(extension), Some(password)) => {
            if password.chars().count() < 8 {
                return Err(ApiError::invalid("password", "at least 8 characters"));
            }
            let ha1 = switchboard_core::sip_digest::ha1(
                &extension,
                switchboard_core::sip_digest::SIP_REALM,
                &password,
            );
            Some(SipEndpoint::Extension { extension, ha1 })
        }
        (None, Some(_), None) => {
            return Err(ApiError::invalid("password", "an extension needs a password"));
        }
        (None, None, _) => None,
    };
    state.store().set_sip_endpoint(&user.actor(), &id, endpoint.as_ref()).await?;
    if state.telephony().is_some() {
        let _ = ask(&state, |reply| TelephonyRequest::ReloadExtensions { reply }).await;
    }
    Ok(Json(endpoint_view(&state, &id).await?))
}

/// Calls, newest first: supervisors and up see every call, agents the calls they took.
#[utoipa::path(get, path = "/api/calls", params(Paging), tag = "telephony", responses((status = 200, body = Object)))]
pub(crate) async fn list_calls(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<Page<Call>>> {
    user.require(Action::TakeCalls)?;
    let agent = if user.0.role.can(Action::MonitorCalls) { None } else { Some(user.id()) };
    Ok(Json(state.store().list_calls(agent, paging.request()).await?))
}

/// A click-to-call request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Dial {
    /// The customer's number, any spelling (optional with `task_id`: the task's number).
    number: Option<String>,
    /// The callback task this call is for: the call is linked to it.
    task_id: Option<String>,
}

/// The call being placed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Dialing {
    /// Follow it at `/api/calls/{call_id}`.
    call_id: String,
}

/// Click-to-call: the gateway rings the logged-in agent's phone and, when they answer, the
/// customer. The outcome (answered, busy, no answer, failed with the SIP code) lands on the
/// call record.
#[utoipa::path(post, path = "/api/calls/dial", request_body = Dial, tag = "telephony", responses((status = 202, body = Dialing), (status = 409), (status = 422), (status = 503)))]
pub(crate) async fn dial(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<Dial>,
) -> ApiResult<(StatusCode, Json<Dialing>)> {
    user.require(Action::TakeCalls)?;
    let task = match &b.task_id {
        Some(id) => Some(
            state
                .store()
                .get_task(id)
                .await
                .map_err(|_| ApiError::invalid("task_id", "no such task"))?,
        ),
        None => None,
    };
    let e164 = match (&b.number, task.as_ref().and_then(|t| t.phone_e164.clone())) {
        (Some(text), _) => super::parse_phone_param(&state, "number", text)?.e164().to_owned(),
        (None, Some(phone)) => phone,
        (None, None) => {
            return Err(ApiError::invalid("number", "required (the task has no number)"));
        }
    };
    let (user_id, task_id) = (user.id().to_owned(), b.task_id);
    let result =
        ask(&state, |reply| TelephonyRequest::Dial { user_id, e164, task_id, reply }).await?;
    let call_id = result.map_err(|error| ApiError::Switch { field: "number", error })?;
    Ok((StatusCode::ACCEPTED, Json(Dialing { call_id })))
}

/// A call with its events.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CallWithEvents {
    call: Call,
    events: Vec<CallEvent>,
}

/// A call record and its events: the agent who took it, or supervisors and up.
#[utoipa::path(get, path = "/api/calls/{id}", tag = "telephony", responses((status = 200, body = CallWithEvents), (status = 403), (status = 404)))]
pub(crate) async fn read_call(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CallWithEvents>> {
    user.require(Action::TakeCalls)?;
    let call = state.store().get_call(&id).await?;
    if call.agent_id.as_deref() != Some(user.id()) {
        user.require(Action::MonitorCalls)?;
    }
    let events = state.store().call_events(&id).await?;
    Ok(Json(CallWithEvents { call, events }))
}

/// The operator's after-call form; absent fields stay, `null` unlinks the contact or deal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallForm {
    /// Who called.
    #[serde(default, deserialize_with = "nullable")]
    contact_id: Option<Option<String>>,
    /// The deal it was about (when the contact changes and none is given, the contact's one
    /// open deal).
    #[serde(default, deserialize_with = "nullable")]
    deal_id: Option<Option<String>>,
    /// Why they called.
    reason: Option<String>,
    /// One of `calls.dispositions`.
    disposition: Option<String>,
    /// Notes.
    notes: Option<String>,
}

const MAX_REASON: usize = 500;
const MAX_NOTES: usize = 10_000;

fn text_field(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.chars().count() > max => {
            Err(ApiError::invalid(field, format!("at most {max} characters")))
        }
        other => Ok(other),
    }
}

/// Saves the after-call form: the agent who took the call, or supervisors and up.
#[utoipa::path(patch, path = "/api/calls/{id}", tag = "telephony", request_body = CallForm,
    responses((status = 200, body = Object), (status = 400), (status = 403), (status = 404)))]
pub(crate) async fn save_call_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(form): JsonBody<CallForm>,
) -> ApiResult<Json<Call>> {
    user.require(Action::TakeCalls)?;
    let call = state.store().get_call(&id).await?;
    if call.agent_id.as_deref() != Some(user.id()) {
        user.require(Action::MonitorCalls)?;
    }
    if let Some(d) = &form.disposition {
        let known = state.dispositions().await?;
        if !known.contains(d) {
            return Err(ApiError::invalid(
                "disposition",
                format!("must be one of {}", known.join(", ")),
            ));
        }
    }
    let outcome = CallOutcome {
        contact_id: form.contact_id,
        deal_id: form.deal_id,
        reason: text_field("reason", form.reason, MAX_REASON)?,
        disposition: form.disposition,
        notes: text_field("notes", form.notes, MAX_NOTES)?,
    };
    Ok(Json(state.store().set_call_outcome(&user.actor(), &id, outcome).await?))
}
