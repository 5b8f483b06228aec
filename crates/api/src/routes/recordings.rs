//! `/api/recordings`: finding, hearing and downloading call recordings, and legal hold; and
//! `/api/notifications`.
//!
//! Who may hear what is the role's [`RecordingScope`]: operators their own calls, supervisors
//! the calls of their teams' agents, managers and admins everything. A recording is addressed
//! by its call's id only; the file's path comes from the call record and is checked to lie
//! under the recordings root, so no request can name a file. Every listen and download is
//! audit-logged (`recording.play`, `recording.download`); the requests a player makes while
//! seeking through one recording count as one listen for [`LISTEN_WINDOW`].

use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    RANGE,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_core::entity::{Call, Notification};
use switchboard_core::{Action, RecordingScope};
use switchboard_store::{Page, RecordingFilter};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

/// Requests for the same recording by the same user within this window are one listen.
pub(crate) const LISTEN_WINDOW: Duration = Duration::from_secs(300);

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/recordings", get(list))
        .route("/api/recordings/{id}", get(read))
        .route("/api/recordings/{id}/audio", get(audio))
        .route("/api/recordings/{id}/download", get(download))
        .route("/api/recordings/{id}/waveform", get(waveform))
        .route("/api/recordings/{id}/legal-hold", put(legal_hold))
        .route("/api/notifications", get(notifications))
        .route("/api/notifications/{id}/read", post(notification_read))
}

/// Search filters. Times are epoch ms; durations seconds.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Offered at or after.
    from: Option<i64>,
    /// Offered before.
    to: Option<i64>,
    agent_id: Option<String>,
    queue_id: Option<String>,
    /// The customer's number, any spelling.
    number: Option<String>,
    contact_id: Option<String>,
    disposition: Option<String>,
    /// Recording at least this long (seconds).
    min_duration_s: Option<i64>,
    /// Recording at most this long (seconds).
    max_duration_s: Option<i64>,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// The agents whose calls the user may hear (`None`: all).
pub(crate) async fn scope(state: &AppState, user: &CurrentUser) -> ApiResult<Option<Vec<String>>> {
    Ok(match user.0.role.recording_scope() {
        RecordingScope::All => None,
        RecordingScope::Own => Some(vec![user.id().to_owned()]),
        RecordingScope::Team => Some(state.store().supervised_agents(user.id()).await?),
    })
}

/// Whether someone who may hear the calls of `agents` may hear this voicemail message: it is
/// for one of them (the callback task's assignee, or an agent of its queue).
async fn voicemail_for(state: &AppState, call_id: &str, agents: &[String]) -> ApiResult<bool> {
    let audience = state.store().voicemail_audience(call_id).await?;
    Ok(audience.iter().any(|u| agents.contains(u)))
}

fn is_voicemail(call: &Call) -> bool {
    call.agent_id.is_none() && call.end_reason == Some(switchboard_core::call::EndReason::Voicemail)
}

/// The call, when the user may hear its recording (403 otherwise, 404 without one). A
/// voicemail message has no agent: it is heard by those its callback task is for (and their
/// supervisors, managers and admins).
async fn audible(state: &AppState, user: &CurrentUser, id: &str) -> ApiResult<Call> {
    let call = state.store().get_call(id).await?;
    if let Some(agents) = scope(state, user).await? {
        let allowed = match &call.agent_id {
            Some(agent) => agents.contains(agent),
            None => is_voicemail(&call) && voicemail_for(state, &call.id, &agents).await?,
        };
        if !allowed {
            return Err(ApiError::Forbidden("you may not hear this recording"));
        }
    }
    if !call.recorded || call.recording_purged_at.is_some() {
        return Err(ApiError::NotFound("recording"));
    }
    Ok(call)
}

/// Drops the recording links of timeline calls the user may not hear.
pub(crate) async fn hide_unheard(
    state: &AppState,
    user: &CurrentUser,
    items: &mut [switchboard_core::entity::TimelineItem],
) -> ApiResult<()> {
    if items.iter().all(|i| i.recording_url.is_none()) {
        return Ok(());
    }
    if let Some(agents) = scope(state, user).await? {
        for item in items.iter_mut() {
            let allowed = match &item.agent_id {
                Some(agent) => agents.contains(agent),
                None if item.outcome.as_deref() == Some("voicemail") => {
                    voicemail_for(state, &item.id, &agents).await?
                }
                None => false,
            };
            if !allowed {
                item.recording_url = None;
            }
        }
    }
    Ok(())
}

/// The file of a call's recording.
async fn file_of(state: &AppState, call_id: &str) -> ApiResult<PathBuf> {
    let relative =
        state.store().recording_path(call_id).await?.ok_or(ApiError::NotFound("recording"))?;
    switchboard_core::recording::resolve(&state.config().recordings_root, &relative)
        .ok_or(ApiError::NotFound("recording"))
}

/// Lists recorded calls the user may hear, newest first.
#[utoipa::path(get, path = "/api/recordings", params(ListQuery), tag = "recordings", responses((status = 200, body = Page<Call>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ListQuery>,
) -> ApiResult<Json<Page<Call>>> {
    user.require(Action::TakeCalls)?;
    let number = match q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(text) => Some(super::parse_phone_param(&state, "number", text)?.e164().to_owned()),
        None => None,
    };
    let filter = RecordingFilter {
        from: q.from,
        to: q.to,
        agent_id: q.agent_id.filter(|s| !s.is_empty()),
        queue_id: q.queue_id.filter(|s| !s.is_empty()),
        number,
        contact_id: q.contact_id.filter(|s| !s.is_empty()),
        disposition: q.disposition.filter(|s| !s.is_empty()),
        min_duration_ms: q.min_duration_s.map(|s| s.saturating_mul(1000)),
        max_duration_ms: q.max_duration_s.map(|s| s.saturating_mul(1000)),
        agents_in_scope: scope(&state, &user).await?,
    };
    let page = super::Paging { page: q.page, per_page: q.per_page }.request();
    Ok(Json(state.store().search_recordings(&filter, page).await?))
}

/// One recorded call.
#[utoipa::path(get, path = "/api/recordings/{id}", tag = "recordings", responses((status = 200, body = Call), (status = 403), (status = 404)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Call>> {
    Ok(Json(audible(&state, &user, &id).await?))
}

/// Writes the audit entry of a listen or download, once per window for a listen.
async fn audit_access(
    state: &AppState,
    user: &CurrentUser,
    call_id: &str,
    action: &'static str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    if action == "recording.play" && !state.first_listen(user.id(), call_id, LISTEN_WINDOW) {
        return Ok(());
    }
    state.store().audit_call_access(&user.actor(), call_id, action, detail).await?;
    tracing::info!(user_id = user.id(), call_id, action, "recording accessed");
    Ok(())
}

/// A byte range of a file of `len` bytes, from a `Range` header (`bytes=a-b`, `bytes=a-`,
/// `bytes=-n`; one range). `Err` when it cannot be satisfied, `Ok(None)` without a usable
/// header (the whole file).
pub(crate) fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        // Several ranges: answered with the whole file, which RFC 9110 allows.
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        let n: u64 = end.parse().map_err(|_| ())?;
        if n == 0 || len == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let s: u64 = start.parse().map_err(|_| ())?;
        let e: u64 = if end.is_empty() {
            len.saturating_sub(1)
        } else {
            end.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        if s >= len || e < s {
            return Err(());
        }
        (s, e)
    };
    Ok(Some(range))
}

async fn serve_file(
    path: PathBuf,
    headers: &HeaderMap,
    attachment: Option<String>,
) -> ApiResult<Response> {
    let mut file =
        tokio::fs::File::open(&path).await.map_err(|_| ApiError::NotFound("recording"))?;
    let len = file.metadata().await.map_err(|_| ApiError::NotFound("recording"))?.len();
    let range = parse_range(headers.get(RANGE).and_then(|v| v.to_str().ok()), len);
    let mut response = match range {
        Err(()) => {
            return Ok((
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(CONTENT_RANGE, format!("bytes */{len}")), (ACCEPT_RANGES, "bytes".to_owned())],
            )
                .into_response());
        }
        Ok(None) => {
            let stream = tokio_util::io::ReaderStream::new(file);
            let mut r = Body::from_stream(stream).into_response();
            r.headers_mut().insert(CONTENT_LENGTH, len.into());
            r
        }
        Ok(Some((start, end))) => {
            file.seek(SeekFrom::Start(start)).await.map_err(|_| ApiError::NotFound("recording"))?;
            let stream = tokio_util::io::ReaderStream::new(file.take(end - start + 1));
            let mut r = Body::from_stream(stream).into_response();
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut().insert(CONTENT_LENGTH, (end - start + 1).into());
            if let Ok(v) = format!("bytes {start}-{end}/{len}").parse() {
                r.headers_mut().insert(CONTENT_RANGE, v);
            }
            r
        }
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, axum::http::HeaderValue::from_static("audio/wav"));
    h.insert(ACCEPT_RANGES, axum::http::HeaderValue::from_static("bytes"));
    h.insert(CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
    if let Some(name) = attachment
        && let Ok(v) = format!("attachment; filename=\"{name}\"").parse()
    {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Plays a recording (WAV, with HTTP Range for seeking). Audited as `recording.play`.
#[utoipa::path(get, path = "/api/recordings/{id}/audio", tag = "recordings", responses((status = 200), (status = 206), (status = 403), (status = 404), (status = 416)))]
pub(crate) async fn audio(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let call = audible(&state, &user, &id).await?;
    let path = file_of(&state, &call.id).await?;
    audit_access(
        &state,
        &user,
        &call.id,
        "recording.play",
        json!({"range": headers.get(RANGE).and_then(|v| v.to_str().ok())}),
    )
    .await?;
    serve_file(path, &headers, None).await
}

/// Downloads a recording as a file. Audited as `recording.download`, every time.
#[utoipa::path(get, path = "/api/recordings/{id}/download", tag = "recordings", responses((status = 200), (status = 403), (status = 404)))]
pub(crate) async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let call = audible(&state, &user, &id).await?;
    let path = file_of(&state, &call.id).await?;
    audit_access(&state, &user, &call.id, "recording.download", json!({})).await?;
    let name = format!("call-{}.wav", call.id);
    serve_file(path, &headers, Some(name)).await
}

/// Peaks per channel for drawing a waveform.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Waveform {
    duration_ms: u64,
    /// The customer's channel: peak level of each slice, 0-1000.
    left: Vec<u16>,
    /// The agent's channel.
    right: Vec<u16>,
}

/// `?points=` for the waveform.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WaveformQuery {
    /// Slices (default 400, 10-2000).
    points: Option<usize>,
}

fn peaks(path: &std::path::Path, points: usize) -> Result<Waveform, String> {
    let mut reader = hound::WavReader::open(path).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    if spec.channels != 2 || spec.bits_per_sample != 16 {
        return Err("not a stereo 16-bit recording".into());
    }
    let frames = reader.duration() as usize;
    let per = frames.div_ceil(points).max(1);
    let (mut left, mut right) = (Vec::with_capacity(points), Vec::with_capacity(points));
    let (mut l, mut r, mut n) = (0u16, 0u16, 0usize);
    let mut samples = reader.samples::<i16>();
    while let (Some(a), Some(b)) = (samples.next(), samples.next()) {
        l = l.max(a.map_err(|e| e.to_string())?.unsigned_abs());
        r = r.max(b.map_err(|e| e.to_string())?.unsigned_abs());
        n += 1;
        if n == per {
            left.push(scale(l));
            right.push(scale(r));
            (l, r, n) = (0, 0, 0);
        }
    }
    if n > 0 {
        left.push(scale(l));
        right.push(scale(r));
    }
    Ok(Waveform {
        duration_ms: frames as u64 * 1000 / u64::from(spec.sample_rate.max(1)),
        left,
        right,
    })
}

fn scale(peak: u16) -> u16 {
    u16::try_from(u32::from(peak) * 1000 / 32768).unwrap_or(1000)
}

/// The recording's waveform (peaks per slice, per channel).
#[utoipa::path(get, path = "/api/recordings/{id}/waveform", params(WaveformQuery), tag = "recordings", responses((status = 200, body = Waveform), (status = 403), (status = 404)))]
pub(crate) async fn waveform(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<WaveformQuery>,
) -> ApiResult<Json<Waveform>> {
    let call = audible(&state, &user, &id).await?;
    let path = file_of(&state, &call.id).await?;
    let points = q.points.unwrap_or(400).clamp(10, 2000);
    let result = tokio::task::spawn_blocking(move || peaks(&path, points))
        .await
        .map_err(|_| ApiError::NotFound("recording"))?;
    result.map(Json).map_err(|e| {
        tracing::warn!(call_id = call.id, error = %e, "cannot read a recording for its waveform");
        ApiError::NotFound("recording")
    })
}

/// Legal hold on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LegalHold {
    /// Keep the recording past retention.
    on: bool,
}

/// Puts a recording on legal hold (kept past retention) or takes it off. Supervisors (for their
/// teams' calls), managers, admins. Audited.
#[utoipa::path(put, path = "/api/recordings/{id}/legal-hold", request_body = LegalHold, tag = "recordings", responses((status = 200, body = Call), (status = 403)))]
pub(crate) async fn legal_hold(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<LegalHold>,
) -> ApiResult<Json<Call>> {
    user.require(Action::MonitorCalls)?;
    let call = audible(&state, &user, &id).await?;
    Ok(Json(state.store().set_legal_hold(&user.actor(), &call.id, b.on).await?))
}

/// `?unread=true` for unread only.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NotificationQuery {
    unread: Option<bool>,
}

/// The user's notifications (escalated callbacks), newest first.
#[utoipa::path(get, path = "/api/notifications", params(NotificationQuery), tag = "tasks", responses((status = 200, body = Vec<Notification>)))]
pub(crate) async fn notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<NotificationQuery>,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(state.store().notifications(user.id(), q.unread.unwrap_or(false), 200).await?))
}

/// Marks one of the user's notifications read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "tasks", responses((status = 204), (status = 404)))]
pub(crate) async fn notification_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.store().mark_notification_read(user.id(), &id, switchboard_store::now_ms()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("notification"))
    }
}

impl AppState {
    /// Whether this is the first request of `user` for `call` within `window` (and notes it).
    pub(crate) fn first_listen(&self, user: &str, call: &str, window: Duration) -> bool {
        let Ok(mut seen) = self.listens().lock() else { return true };
        let now = Instant::now();
        seen.retain(|_, at| now.duration_since(*at) < window);
        let key = (user.to_owned(), call.to_owned());
        if seen.contains_key(&key) {
            return false;
        }
        seen.insert(key, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=50-1000"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=x-3"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
    }
}
