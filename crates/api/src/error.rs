//! The one error type of the HTTP edge, and its JSON shape:
//! `{"error": "<code>", "message": "...", "field": "...", "input": "...", "existing_id": "..."}`.
//! `error` and `field` are stable, for programs; `message` is for people, in the requester's
//! language ([`localize`] says it again from the catalogue after the handler). 5xx responses
//! carry no internals; the cause is logged instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchboard_store::StoreError;

use crate::i18n::{self, Arg, Lang, t, t_args};

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

#[derive(Serialize, Clone)]
struct Body {
    error: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<String>,
}

/// An error's body and what its message says, kept on the response for [`localize`].
#[derive(Clone)]
struct Said {
    body: Body,
    key: &'static str,
    args: Vec<(&'static str, Arg)>,
}

/// Says the message of an error response again in the requester's language (the `sb_lang`
/// cookie the pages set, else Accept-Language); English answers are left as they are.
pub(crate) async fn localize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = Lang::of_request(None, request.headers());
    let mut response = next.run(request).await;
    let Some(said) = response.extensions_mut().remove::<Said>() else { return response };
    if lang == Lang::En {
        return response;
    }
    let mut body = said.body;
    body.message = message(lang, said.key, &said.args, body.field.as_deref());
    response.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    *response.body_mut() = axum::body::Body::from(serde_json::to_vec(&body).unwrap_or_default());
    response
}

/// A field's name as the reader knows it (`field_<name>`; `phones[0]` is said as `phones`).
fn field_label(lang: Lang, field: &str) -> String {
    let base: String =
        field.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let key = format!("field_{base}");
    if !i18n::has(&key) {
        return field.to_owned();
    }
    // `phones[1]` is the second phone.
    let index = field[base.len()..]
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok());
    match index {
        Some(i) => format!("{} ({})", t(lang, &key), i + 1),
        None => t(lang, &key),
    }
}

fn message(
    lang: Lang,
    key: &'static str,
    args: &[(&'static str, Arg)],
    field: Option<&str>,
) -> String {
    let mut all: Vec<(&str, Arg)> = args.to_vec();
    if let Some(field) = field {
        all.push(("field", Arg::Text(field_label(lang, field))));
    }
    if key == "err_invalid" {
        // The reason is said in the reader's words when the catalogue knows it.
        if let Some((_, Arg::Text(english))) = args.iter().find(|(name, _)| *name == "reason") {
            let (reason_key, reason_args) = reason(english);
            let said = match reason_key {
                Some(k) => t_args(lang, k, &reason_args),
                None => english.clone(),
            };
            all.retain(|(name, _)| *name != "reason");
            all.push(("reason", Arg::Text(said)));
        }
    }
    t_args(lang, key, &all)
}

/// Reasons given in exactly these words (digits as `#`), and their catalogue keys.
const EXACT_REASONS: &[(&str, &str)] = &[
    ("listed twice", "reason_twice"),
    ("a callback needs a due time", "reason_callback_due"),
    ("a contact cannot be merged into itself", "reason_merge_self"),
    ("a contact needs a name, a phone or an email", "reason_contact_empty"),
    ("a lost deal needs a reason", "reason_lost_needs_reason"),
    ("a note belongs to a contact, a company or a deal", "reason_note_target"),
    ("give contact_id, company_id or deal_id", "reason_note_target"),
    ("a pause needs a reason", "reason_pause_needs_reason"),
    ("the file is empty", "reason_file_empty"),
    ("the first row must hold the column headers", "reason_headers"),
    ("a row does not have the table's columns", "reason_row_columns"),
    ("the pipeline has no stages", "reason_no_stages"),
    ("must be after from", "reason_after_from"),
    ("an operator cannot supervise a team", "reason_operator_supervisor"),
    ("you cannot demote or disable yourself", "reason_self_demote"),
    ("no line breaks or control characters", "reason_control_chars"),
    ("required (the task has no number)", "reason_task_no_number"),
    ("an extension needs a password", "reason_extension_password"),
    ("a fixed uri takes no password", "reason_uri_no_password"),
    ("give either uri or extension, not both", "reason_uri_or_extension"),
    ("expected a three-letter ISO # code such as RUB", "reason_currency"),
    ("unknown value", "reason_unknown_value"),
    ("# (never) or # to # seconds", "reason_announce"),
    ("# to # letters, digits, '.', '_' or '-'", "reason_key_chars"),
    ("a custom field's key", "reason_custom_key"),
    ("a lead needs a phone or an email", "reason_lead_contact"),
    ("expected an origin such as https://example.ru, or *", "reason_origin"),
    ("expected an http:// or https:// URL", "reason_url"),
    ("required before the deal enters this stage", "reason_stage_requires"),
    ("a line's product cannot change; add a new line", "reason_item_product"),
    ("must be more than #", "reason_more_than_zero"),
];

/// The catalogue's words for a reason the store or a handler gave in English: the common
/// shapes (`must not be empty`, `1-300 characters`, `at most 100 characters`, ...). A reason of
/// another shape is shown as it was given.
fn reason(english: &str) -> (Option<&'static str>, Vec<(&'static str, Arg)>) {
    let numbers: Vec<i64> = english
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let text = english.trim();
    // The reason with each run of digits as one `#`: `1-300 characters` is `#-# characters`.
    let mut shape = String::new();
    for c in text.chars() {
        if !c.is_ascii_digit() {
            shape.push(c);
        } else if !shape.ends_with('#') {
            shape.push('#');
        }
    }
    let n = |i: usize| Arg::Number(numbers.get(i).copied().unwrap_or(0));
    // Reasons said exactly so, each with its own words in the catalogue.
    if let Some((_, key)) = EXACT_REASONS.iter().find(|(english, _)| *english == shape) {
        return (Some(key), vec![]);
    }
    match shape.as_str() {
        "must not be empty" | "required" => (Some("reason_required"), vec![]),
        "#-# characters" | "# to # characters" | "must be # to # characters"
            if numbers.len() == 2 =>
        {
            (Some("reason_length"), vec![("min", n(0)), ("max", n(1))])
        }
        "#-# characters without spaces" => {
            (Some("reason_length_no_spaces"), vec![("min", n(0)), ("max", n(1))])
        }
        "at most # characters" | "longer than # characters" => {
            (Some("reason_max_chars"), vec![("max", n(0))])
        }
        "at least # characters" => (Some("reason_min_chars"), vec![("min", n(0))]),
        "at most # days" => (Some("reason_max_days"), vec![("max", n(0))]),
        "at most # numbers" => (Some("reason_max_items"), vec![("max", n(0))]),
        "at most # bytes" => (Some("reason_max_bytes"), vec![("max", n(0))]),
        "larger than # MB" => (Some("reason_file_too_large"), vec![("max", n(0))]),
        "must be #-#" | "must be between # and #" | "between # and # callbacks" => {
            (Some("reason_between"), vec![("min", n(0)), ("max", n(1))])
        }
        "must not be negative" | "expected a non-negative amount" => {
            (Some("reason_not_negative"), vec![])
        }
        "wrong password" => (Some("wrong_current_password"), vec![]),
        _ if text.starts_with("not a phone number") || text.starts_with("not a valid phone") => {
            (Some("reason_phone"), vec![])
        }
        _ if text.starts_with("not an email") || text.contains("email address") => {
            (Some("reason_email"), vec![])
        }
        _ if text.starts_with("no such")
            || text.starts_with("no active user")
            || text.starts_with("no user with")
            || text.starts_with("no callback has")
            || text == "not an open callback" =>
        {
            (Some("reason_no_such"), vec![])
        }
        // `expected done or cancelled`, `must be ru or en`: the values are the API's own.
        _ if text.starts_with("expected ")
            || text.starts_with("must be one of ")
            || text == "must be ru or en" =>
        {
            let values = text
                .trim_start_matches("expected ")
                .trim_start_matches("must be one of ")
                .trim_start_matches("must be ")
                .replace(" or ", ", ");
            (Some("reason_expected"), vec![("values", Arg::Text(values))])
        }
        _ => (None, vec![]),
    }
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
        let (key, args) = self.said();
        let retry_after = match &self {
            ApiError::TooManyAttempts { retry_after_s } | ApiError::Busy { retry_after_s } => {
                Some(*retry_after_s)
            }
            _ => None,
        };
        let body = Body {
            error: code.to_owned(),
            message,
            field: field.map(str::to_owned),
            input: input.map(str::to_owned),
            existing_id: existing_id.map(str::to_owned),
        };
        let mut response = (status, Json(body.clone())).into_response();
        response.extensions_mut().insert(Said { body, key, args });
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

impl ApiError {
    /// The catalogue message that says this error, and its arguments.
    fn said(&self) -> (&'static str, Vec<(&'static str, Arg)>) {
        let text = |s: &str| Arg::Text(s.to_owned());
        match self {
            ApiError::Unauthorized => ("err_unauthorized", vec![]),
            ApiError::BadCredentials => ("bad_login", vec![]),
            ApiError::TooManyAttempts { retry_after_s } | ApiError::Busy { retry_after_s } => (
                if matches!(self, ApiError::Busy { .. }) {
                    "err_busy"
                } else {
                    "err_too_many_attempts"
                },
                vec![("seconds", Arg::Number(i64::try_from(*retry_after_s).unwrap_or(i64::MAX)))],
            ),
            ApiError::Forbidden(_) => ("err_forbidden", vec![]),
            ApiError::NotFound(entity) => ("err_not_found", vec![("entity", text(entity))]),
            ApiError::MalformedJson(_) => ("err_malformed_json", vec![]),
            ApiError::UnsupportedMediaType => ("err_media_type", vec![]),
            ApiError::PayloadTooLarge => ("err_too_large", vec![]),
            ApiError::Invalid { message, .. } => ("err_invalid", vec![("reason", text(message))]),
            ApiError::Duplicate { value, .. } => ("err_duplicate", vec![("value", text(value))]),
            ApiError::Conflict(message) => ("err_conflict", vec![("detail", text(message))]),
            ApiError::Unavailable(message) => ("err_unavailable", vec![("detail", text(message))]),
            ApiError::Switch { error, .. } => match error.code() {
                "softphone_not_connected" => ("err_softphone_not_connected", vec![]),
                "no_phone" => ("err_no_phone", vec![]),
                "no_queues" => ("err_no_queues", vec![]),
                "agent_busy" => ("err_agent_busy", vec![]),
                "click_to_call_off" => ("err_click_to_call_off", vec![]),
                "not_now" => ("err_not_now", vec![]),
                "gateway" => ("err_gateway", vec![]),
                _ => ("err_switch", vec![("detail", text(&error.to_string()))]),
            },
            ApiError::Internal(_) => ("err_internal", vec![]),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason the code gives in so many words has Russian words, and the shapes read
    /// their numbers.
    #[test]
    fn reasons_are_said_in_russian() {
        for (english, key) in EXACT_REASONS {
            assert!(i18n::has(key), "{english}: {key} is not in the catalogue");
        }
        let say = |english: &str| {
            let (key, args) = reason(english);
            key.map(|k| t_args(Lang::Ru, k, &args))
        };
        assert_eq!(say("1-300 characters").as_deref(), Some("от 1 до 300 символов"));
        assert_eq!(say("must be 1 to 64 characters").as_deref(), Some("от 1 до 64 символов"));
        assert_eq!(say("at most 21 characters").as_deref(), Some("не длиннее 21 символа"));
        assert_eq!(say("at most 400 days").as_deref(), Some("не больше 400 дней"));
        assert_eq!(
            say("expected done or cancelled").as_deref(),
            Some("допустимые значения: done, cancelled")
        );
        assert_eq!(say("listed twice").as_deref(), Some("указано дважды"));
        assert_eq!(
            say("a lead needs a phone or an email").as_deref(),
            Some("у заявки должен быть телефон или почта")
        );
        assert_eq!(
            say("0 (never) or 10 to 600 seconds").as_deref(),
            Some("0 (никогда) или от 10 до 600 секунд")
        );
        assert_eq!(say("something else entirely"), None);
        assert_eq!(field_label(Lang::Ru, "phones[1]"), "Телефоны (2)");
        assert_eq!(field_label(Lang::Ru, "mystery"), "mystery");
    }
}
