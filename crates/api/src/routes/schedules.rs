//! `/api/schedules`: business hours (a week in a time zone, and exceptions by date) that a
//! call flow's `hours` step and a queue refer to, and the import of the Russian production
//! calendar into a schedule's exceptions (`/api/schedules/{id}/calendar`: the CSV, or a
//! workbook, as published; every row that could not be read is reported with its line).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::hours::{
    CalendarProblem, Schedule, Span, Week, calendar_exceptions, parse_production_calendar,
};
use switchboard_store::NewSchedule;
use utoipa::ToSchema;

use super::telephony::reload;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

/// The largest calendar file accepted.
const CALENDAR_LIMIT: usize = 1 << 20;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/schedules", get(list_schedules).post(create_schedule))
        .route(
            "/api/schedules/{id}",
            get(read_schedule).put(update_schedule).delete(delete_schedule),
        )
        .route(
            "/api/schedules/{id}/calendar",
            post(import_calendar).layer(DefaultBodyLimit::max(CALENDAR_LIMIT)),
        )
}

/// A schedule as created or replaced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleBody {
    /// Unique name.
    name: String,
    /// IANA time zone (default `Europe/Moscow`).
    #[serde(default = "default_zone")]
    time_zone: String,
    /// Hours by day of the week (`{"mon": ["09:00-18:00"], ...}`; a day left out is closed).
    #[serde(default)]
    week: Week,
    /// Days with hours of their own (`{"2026-12-31": []}` closes New Year's Eve).
    #[serde(default)]
    exceptions: BTreeMap<String, Vec<Span>>,
}

fn default_zone() -> String {
    "Europe/Moscow".into()
}

impl From<ScheduleBody> for NewSchedule {
    fn from(b: ScheduleBody) -> NewSchedule {
        NewSchedule { name: b.name, time_zone: b.time_zone, week: b.week, exceptions: b.exceptions }
    }
}

/// Every schedule (admin).
#[utoipa::path(get, path = "/api/schedules", tag = "telephony", responses((status = 200, body = [Schedule]), (status = 403)))]
pub(crate) async fn list_schedules(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<Schedule>>> {
    user.require(Action::ManageTelephony)?;
    Ok(Json(state.store().list_schedules().await?))
}

/// Creates a schedule (admin).
#[utoipa::path(post, path = "/api/schedules", request_body = ScheduleBody, tag = "telephony", responses((status = 201, body = Schedule), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn create_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<ScheduleBody>,
) -> ApiResult<(StatusCode, Json<Schedule>)> {
    user.require(Action::ManageTelephony)?;
    let schedule = state.store().create_schedule(&user.actor(), b.into()).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(schedule)))
}

/// One schedule (admin).
#[utoipa::path(get, path = "/api/schedules/{id}", tag = "telephony", responses((status = 200, body = Schedule), (status = 403), (status = 404)))]
pub(crate) async fn read_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Schedule>> {
    user.require(Action::ManageTelephony)?;
    Ok(Json(state.store().get_schedule(&id).await?))
}

/// Replaces a schedule (admin).
#[utoipa::path(put, path = "/api/schedules/{id}", request_body = ScheduleBody, tag = "telephony", responses((status = 200, body = Schedule), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn update_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ScheduleBody>,
) -> ApiResult<Json<Schedule>> {
    user.require(Action::ManageTelephony)?;
    let schedule = state.store().update_schedule(&user.actor(), &id, b.into()).await?;
    reload(&state).await;
    Ok(Json(schedule))
}

/// Deletes a schedule no voice menu uses (admin); queues that used it are open at all hours.
#[utoipa::path(delete, path = "/api/schedules/{id}", tag = "telephony", responses((status = 204), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn delete_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageTelephony)?;
    state.store().delete_schedule(&user.actor(), &id).await?;
    reload(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// How the calendar file is named (its extension says CSV or workbook).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CalendarQuery {
    /// The file's name (default `calendar.csv`).
    file_name: Option<String>,
}

/// What an import of the production calendar did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarImport {
    /// The schedule with its new exceptions.
    schedule: Schedule,
    /// The years read.
    years: Vec<i16>,
    /// Days that became exceptions (holidays on weekdays, working weekends, shortened days).
    days: usize,
    /// Rows that could not be read, with their line and why.
    rejected: Vec<CalendarProblem>,
}

/// Reads the Russian production calendar (CSV as data.gov.ru publishes it, or a workbook)
/// into a schedule's exceptions (admin): weekday holidays closed, working weekends with a
/// usual day's hours, shortened days an hour shorter. Days already listed are replaced.
#[utoipa::path(post, path = "/api/schedules/{id}/calendar", params(CalendarQuery), request_body(content = Vec<u8>, content_type = "text/csv"), tag = "telephony", responses((status = 200, body = CalendarImport), (status = 403), (status = 404), (status = 422)))]
pub(crate) async fn import_calendar(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<CalendarQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<CalendarImport>> {
    user.require(Action::ManageTelephony)?;
    let current = state.store().get_schedule(&id).await?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::invalid("file", "larger than 1 MB"),
        _ => ApiError::invalid("file", e.body_text()),
    })?;
    let name = q.file_name.unwrap_or_else(|| "calendar.csv".into());
    let table = switchboard_import::read_table_bytes(&name, &body, Default::default())
        .map_err(|e| ApiError::invalid("file", e.to_string()))?;
    // The header is a row like any other to the calendar's reader (it tells it apart).
    let rows: Vec<(usize, Vec<String>)> = std::iter::once((1, table.headers))
        .chain(
            table.rows.into_iter().map(|(line, cells)| (usize::try_from(line).unwrap_or(0), cells)),
        )
        .collect();
    let (years, rejected) = parse_production_calendar(&rows);
    if years.is_empty() {
        let why = rejected.first().map_or_else(
            || "no year of the production calendar in the file".to_owned(),
            |p| format!("line {}: {}", p.line, p.reason),
        );
        return Err(ApiError::invalid("file", why));
    }
    let added = calendar_exceptions(&current.week, &years);
    let days = added.len();
    let mut exceptions = current.exceptions.clone();
    exceptions.extend(added);
    let new = NewSchedule {
        name: current.name,
        time_zone: current.time_zone,
        week: current.week,
        exceptions,
    };
    let schedule = state.store().update_schedule(&user.actor(), &id, new).await?;
    reload(&state).await;
    Ok(Json(CalendarImport {
        schedule,
        years: years.iter().map(|y| y.year).collect(),
        days,
        rejected,
    }))
}
