//! The one error type of the HTTP edge, and its JSON shape:
//! `{"error": "<code>", "message": "...", "field": "...", "input": "...", "existing_id": "..."}`.
//! 5xx responses carry no internals; the cause is logged instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token.
    #[error("log in first")]
    Unauthorized,
    /// Wrong login or password.
    #[error("wrong login or password")]
    BadCredentials,
    /// Too many failed logins for this login; try again later.
    #[error("too many failed attempts; try again in {retry_after_s} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is accepted.
        retry_after_s: u64,
    },
    /// Logged in, but the role or ownership does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The record does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The body is not `application/json`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// The body is larger than allowed.
    #[error("request body too large")]
    PayloadTooLarge,
    /// A field's value is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, e.g. `phones[0]`.
        field: String,
        /// What is wrong.
        message: String,
        /// The value given, when it helps to echo it.
        input: Option<String>,
    },
    /// A unique value already belongs to another record.
    #[error("{field} already belongs to {existing_id}")]
    Duplicate {
        /// The field.
        field: String,
        /// The value.
        value: String,
        /// The record holding it.
        existing_id: String,
    },
    /// The change conflicts with the record's state.
    #[error("{0}")]
    Conflict(String),
    /// Too much is going on to do this now (503 with Retry-After).
    #[error("busy: try again in {retry_after_s} s")]
    Busy {
        /// Seconds to wait before trying again.
        retry_after_s: u64,
    },
    /// A part of the system this needs is not running (503).
    #[error("{0}")]
    Unavailable(String),
    /// The switch refused what an agent asked; `error` names why (its code is the body's
    /// `error`, so the pages can say it in the user's language).
    #[error("{error}")]
    Switch {
        /// The request's field it concerns (`state`, `number`).
        field: &'static str,
        /// Why.
        error: switchboard_switch::protocol::SwitchError,
    },
    /// Anything else; logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: field.into(), message: message.into(), input: None }
    }

    pub(crate) fn invalid_input(
        field: impl Into<String>,
        message: impl Into<String>,
        input: impl Into<String>,
    ) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
            input: Some(input.into()),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code, field, input, existing_id) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", None, None, None),
            ApiError::BadCredentials => {
                (StatusCode::UNAUTHORIZED, "bad_credentials", None, None, None)
            }
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", None, None, None)
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", None, None, None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None, None, None),
            ApiError::MalformedJson(_) => {
                (StatusCode::BAD_REQUEST, "malformed_json", None, None, None)
            }
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", None, None, None)
            }
            ApiError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None, None, None)
            }
            ApiError::Invalid { field, input, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                Some(field.as_str()),
                input.as_deref(),
                None,
            ),
            ApiError::Duplicate { field, value, existing_id } => (
                StatusCode::CONFLICT,
                "duplicate",
                Some(field.as_str()),
                Some(value.as_str()),
                Some(existing_id.as_str()),
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", None, None, None),
            ApiError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None, None, None)
            }
            ApiError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy", None, None, None),
            ApiError::Switch { field, error } => (
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::CONFLICT),
                error.code(),
                Some(*field),
                None,
                None,
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", None, None, None)
            }
        };
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after_s } | ApiError::Busy { retry_after_s } => {
                Some(*retry_after_s)
            }
            _ => None,
        };
        let body = Body { error: code, message, field, input, existing_id };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

impl From<crate::passwords::HashError> for ApiError {
    fn from(err: crate::passwords::HashError) -> Self {
        match err {
            crate::passwords::HashError::Busy => ApiError::Busy { retry_after_s: 1 },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { entity } => ApiError::NotFound(entity),
            StoreError::Duplicate { field, value, existing_id } => {
                ApiError::Duplicate { field, value, existing_id }
            }
            StoreError::Invalid { field, reason } => {
                ApiError::Invalid { field, message: reason, input: None }
            }
            StoreError::Conflict(message) => ApiError::Conflict(message),
            other => {
                // Keep the source chain for the log, never for the client.
                let mut cause = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(s) = source {
                    cause.push_str(": ");
                    cause.push_str(&s.to_string());
                    source = s.source();
                }
                ApiError::Internal(cause)
            }
        }
    }
}

/// Result of a handler.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
