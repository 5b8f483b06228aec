//! Routes, one module per area. Shared input helpers live here.

pub(crate) mod audit;
pub(crate) mod callbacks;
pub(crate) mod companies;
pub(crate) mod console;
pub(crate) mod contacts;
pub(crate) mod custom_fields;
pub(crate) mod deals;
pub(crate) mod documents;
pub(crate) mod entry_points;
pub(crate) mod export;
pub(crate) mod leads;
pub(crate) mod metrics;
pub(crate) mod notes;
pub(crate) mod pipelines;
pub(crate) mod products;
pub(crate) mod prompts;
pub(crate) mod recordings;
pub(crate) mod reports;
pub(crate) mod schedules;
pub(crate) mod settings;
pub(crate) mod stats;
pub(crate) mod tasks;
pub(crate) mod telephony;
pub(crate) mod transfer;
pub(crate) mod users;
pub(crate) mod wallboard;
pub(crate) mod webhooks;

use axum::Router;
use axum::routing::get;
use serde::{Deserialize, Deserializer};
use switchboard_core::PhoneNumber;
use switchboard_core::entity::PhoneKind;
use switchboard_core::text::normalize_email;
use switchboard_store::{NewPhone, PageRequest};

use crate::AppState;
use crate::error::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(crate::auth::router())
        .merge(users::router())
        .merge(contacts::router())
        .merge(companies::router())
        .merge(deals::router())
        .merge(pipelines::router())
        .merge(products::router())
        .merge(documents::router())
        .merge(reports::router())
        .merge(tasks::router())
        .merge(callbacks::router())
        .merge(leads::router())
        .merge(webhooks::router())
        .merge(notes::router())
        .merge(custom_fields::router())
        .merge(audit::router())
        .merge(telephony::router())
        .merge(recordings::router())
        .merge(prompts::router())
        .merge(entry_points::router())
        .merge(schedules::router())
        .merge(stats::router())
        .merge(wallboard::router())
        .merge(console::router())
        .merge(transfer::router())
        .merge(settings::router())
        .merge(crate::pages::router())
        .route("/api/openapi.json", get(crate::openapi::serve))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::serve))
        .fallback(|| async { ApiError::NotFound("route") })
}

/// `?page=&per_page=` on every list.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Paging {
    /// 1-based page (default 1).
    page: Option<u32>,
    /// Rows per page (default 50, at most 500).
    per_page: Option<u32>,
}

impl Paging {
    pub(crate) fn request(&self) -> PageRequest {
        PageRequest::new(self.page, self.per_page)
    }
}

/// Tells "absent" (`None`) from "null" (`Some(None)`) in PATCH bodies.
pub(crate) fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A phone as the API accepts it: a string, or `{"number": "...", "kind": "work"}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum PhoneInput {
    /// Just the number, any spelling.
    Plain(String),
    /// Number and kind.
    Detailed {
        /// Any spelling, extension allowed (`доб. 12`, `ext 12`).
        number: String,
        /// mobile, work, home or other.
        #[serde(default)]
        kind: Option<PhoneKind>,
    },
}

pub(crate) fn parse_phones(
    state: &AppState,
    field: &str,
    phones: &[PhoneInput],
) -> Result<Vec<NewPhone>, ApiError> {
    phones
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (text, kind, path) = match p {
                PhoneInput::Plain(text) => (text, PhoneKind::Mobile, format!("{field}[{i}]")),
                PhoneInput::Detailed { number, kind } => {
                    (number, kind.unwrap_or(PhoneKind::Mobile), format!("{field}[{i}].number"))
                }
            };
            let number = PhoneNumber::parse(text, state.config().region)
                .map_err(|e| ApiError::invalid_input(path, e.to_string(), text.clone()))?;
            Ok(NewPhone { number, kind })
        })
        .collect()
}

pub(crate) fn parse_emails(field: &str, emails: &[String]) -> Result<Vec<String>, ApiError> {
    emails
        .iter()
        .enumerate()
        .map(|(i, e)| {
            normalize_email(e).map_err(|err| {
                ApiError::invalid_input(format!("{field}[{i}]"), err.to_string(), e.clone())
            })
        })
        .collect()
}

/// Parses one phone from a query parameter.
pub(crate) fn parse_phone_param(
    state: &AppState,
    field: &str,
    text: &str,
) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(text, state.config().region)
        .map_err(|e| ApiError::invalid_input(field, e.to_string(), text))
}

/// `cf.<key>=<value>` query pairs, for custom field filters.
pub(crate) fn custom_filters(query: Option<&str>) -> Vec<(String, String)> {
    crate::extract::form_pairs(query.unwrap_or(""))
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("cf.").map(|key| (key.to_owned(), v)))
        .collect()
}

/// Turns a decimal amount in major units (e.g. 1500.50) into minor units.
pub(crate) fn amount_to_minor(field: &str, amount: f64) -> Result<i64, ApiError> {
    if !amount.is_finite() || !(0.0..=1e15).contains(&amount) {
        return Err(ApiError::invalid(field, "expected a non-negative amount"));
    }
    Ok((amount * 100.0).round() as i64)
}
