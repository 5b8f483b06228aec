//! `/api/prompts`: the audio played to callers. Admins upload files (WAV, MP3, OGG, FLAC),
//! have text spoken by the installed synthesizer, listen and delete; the built-in prompts are
//! listed beside them and can be heard too. Every stored prompt is G.711 μ-law at 8 kHz, as
//! the gateway plays it; the player gets a 16-bit WAV of exactly that.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::entity::Prompt;
use switchboard_media::prompt::{self, AudioError, speech};
use switchboard_store::NewPrompt;
use utoipa::ToSchema;

use super::telephony::reload;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody, QueryParams};

/// The largest file accepted.
pub(crate) const UPLOAD_LIMIT: usize = 20 << 20;
/// The longest prompt, music on hold included.
pub(crate) const MAX_SECONDS: u32 = 600;
/// The longest text spoken.
const MAX_TEXT: usize = 2_000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/prompts",
            get(list_prompts).post(upload_prompt).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/api/prompts/speech", post(speak_prompt))
        .route("/api/prompts/{id}", get(read_prompt).delete(delete_prompt))
        .route("/api/prompts/{id}/audio", get(prompt_audio))
        .route("/api/prompts/built-in/{language}/{key}/audio", get(built_in_audio))
}

/// The synthesizer, looked for once.
fn synthesizer() -> Option<&'static speech::Synthesizer> {
    static FOUND: OnceLock<Option<speech::Synthesizer>> = OnceLock::new();
    FOUND.get_or_init(speech::Synthesizer::find).as_ref()
}

/// A built-in prompt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BuiltInPrompt {
    /// Its key, the same in both languages (what a flow refers to as `builtin:<key>`).
    key: String,
    /// Its Russian text.
    text_ru: String,
    /// Its English text.
    text_en: String,
}

/// The speech synthesizer on this machine.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SynthesizerInfo {
    /// Whether text can be spoken.
    installed: bool,
    /// Its version, when installed.
    version: Option<String>,
}

/// Every prompt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PromptList {
    /// The admins' prompts, by name.
    prompts: Vec<Prompt>,
    /// The prompts that ship with the gateway.
    built_in: Vec<BuiltInPrompt>,
    /// Whether text can be spoken here.
    synthesizer: SynthesizerInfo,
}

/// Every prompt (admin).
#[utoipa::path(get, path = "/api/prompts", tag = "prompts", responses((status = 200, body = PromptList), (status = 403)))]
pub(crate) async fn list_prompts(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<PromptList>> {
    user.require(Action::ManageTelephony)?;
    let prompts = state.store().list_prompts().await?;
    let built_in = prompt::built_in()
        .map(|p| BuiltInPrompt {
            key: p.key.to_owned(),
            text_ru: p.text_ru.to_owned(),
            text_en: p.text_en.to_owned(),
        })
        .collect();
    let synth = synthesizer();
    let synthesizer =
        SynthesizerInfo { installed: synth.is_some(), version: synth.map(|s| s.version.clone()) };
    Ok(Json(PromptList { prompts, built_in, synthesizer }))
}

/// What an upload is called.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadQuery {
    /// The prompt's name (unique).
    name: String,
    /// "ru" or "en".
    language: String,
    /// The file's name; its extension helps to tell the format.
    file_name: Option<String>,
}

fn parse_language(value: &str) -> Result<String, ApiError> {
    match value {
        "ru" | "en" => Ok(value.to_owned()),
        _ => Err(ApiError::invalid_input("language", "must be ru or en", value)),
    }
}

fn audio_error(err: AudioError) -> ApiError {
    match err {
        AudioError::NotAudio(_) => ApiError::invalid("file", err.to_string()),
        AudioError::TooLong { .. } | AudioError::Empty => {
            ApiError::invalid("file", err.to_string())
        }
    }
}

/// Uploads an audio file as a prompt (admin). The body is the file itself.
#[utoipa::path(post, path = "/api/prompts", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"), tag = "prompts", responses((status = 201, body = Prompt), (status = 403), (status = 409), (status = 422)))]
pub(crate) async fn upload_prompt(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Prompt>)> {
    user.require(Action::ManageTelephony)?;
    let language = parse_language(&q.language)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::invalid("file", format!("larger than {} MB", UPLOAD_LIMIT >> 20))
        }
        _ => ApiError::invalid("file", e.body_text()),
    })?;
    if body.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    let extension = q
        .file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let audio = tokio::task::spawn_blocking(move || {
        prompt::decode(&body, extension.as_deref(), MAX_SECONDS)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(audio_error)?;
    let new = NewPrompt {
        name: q.name,
        language,
        source: "upload".into(),
        text: None,
        file_name: q.file_name,
        audio: audio.ulaw.to_vec(),
    };
    let created = state.store().create_prompt(&user.actor(), new).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Text to speak as a prompt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpeakPrompt {
    /// The prompt's name (unique).
    name: String,
    /// "ru" or "en".
    language: String,
    /// What it says.
    text: String,
}

/// Has the installed synthesizer speak text as a prompt (admin).
#[utoipa::path(post, path = "/api/prompts/speech", request_body = SpeakPrompt, tag = "prompts", responses((status = 201, body = Prompt), (status = 403), (status = 409), (status = 422), (status = 503)))]
pub(crate) async fn speak_prompt(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<SpeakPrompt>,
) -> ApiResult<(StatusCode, Json<Prompt>)> {
    user.require(Action::ManageTelephony)?;
    let language = parse_language(&b.language)?;
    let text = b.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid("text", format!("at most {MAX_TEXT} characters")));
    }
    let Some(synth) = synthesizer() else {
        return Err(ApiError::Unavailable(speech::SpeechError::NotInstalled.to_string()));
    };
    let (spoken, lang) = (text.clone(), language.clone());
    let audio = tokio::task::spawn_blocking(move || synth.speak(&spoken, &lang, MAX_SECONDS))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| match e {
            speech::SpeechError::Audio(a) => ApiError::invalid("text", a.to_string()),
            other => ApiError::Unavailable(other.to_string()),
        })?;
    let new = NewPrompt {
        name: b.name,
        language,
        source: "speech".into(),
        text: Some(text),
        file_name: None,
        audio: audio.ulaw.to_vec(),
    };
    let created = state.store().create_prompt(&user.actor(), new).await?;
    reload(&state).await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One prompt (admin).
#[utoipa::path(get, path = "/api/prompts/{id}", tag = "prompts", responses((status = 200, body = Prompt), (status = 403), (status = 404)))]
pub(crate) async fn read_prompt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Prompt>> {
    user.require(Action::ManageTelephony)?;
    Ok(Json(state.store().get_prompt(&id).await?))
}

/// Deletes a prompt (admin).
#[utoipa::path(delete, path = "/api/prompts/{id}", tag = "prompts", responses((status = 204), (status = 403), (status = 404)))]
pub(crate) async fn delete_prompt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Action::ManageTelephony)?;
    state.store().delete_prompt(&user.actor(), &id).await?;
    reload(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

fn wav(ulaw: &[u8]) -> Response {
    (
        [(header::CONTENT_TYPE, "audio/wav"), (header::CACHE_CONTROL, "no-store")],
        prompt::to_wav(ulaw),
    )
        .into_response()
}

/// A prompt's audio as the caller hears it, as a 16-bit WAV (admin).
#[utoipa::path(get, path = "/api/prompts/{id}/audio", tag = "prompts", responses((status = 200, content_type = "audio/wav"), (status = 403), (status = 404)))]
pub(crate) async fn prompt_audio(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user.require(Action::ManageTelephony)?;
    Ok(wav(&state.store().prompt_audio(&id).await?))
}

/// A built-in prompt's audio in a language, as a 16-bit WAV (admin).
#[utoipa::path(get, path = "/api/prompts/built-in/{language}/{key}/audio", tag = "prompts", responses((status = 200, content_type = "audio/wav"), (status = 403), (status = 404)))]
pub(crate) async fn built_in_audio(
    user: CurrentUser,
    Path((language, key)): Path<(String, String)>,
) -> ApiResult<Response> {
    user.require(Action::ManageTelephony)?;
    let lang = parse_language(&language)?;
    let builtin = prompt::built_in_prompt(&key).ok_or(ApiError::NotFound("prompt"))?;
    Ok(wav(&builtin.audio(&lang).ulaw))
}
