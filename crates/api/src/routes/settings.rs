//! `/api/settings`: what an admin changes in the browser without editing the configuration
//! file: the call dispositions and how long recordings are kept. Each change is audit-logged
//! with the old and new value and takes effect without a restart.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_core::Action;
use switchboard_store::settings::{DISPOSITIONS, RETENTION_DAYS};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/settings", get(read).patch(update))
}

/// The settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Settings {
    /// Outcome keys agents choose from after a call.
    dispositions: Vec<String>,
    /// Days recordings are kept (0: forever); calls on legal hold are always kept.
    retention_days: u32,
    /// Whether each value comes from an admin's change (`admin`) or the configuration file (`config`).
    #[schema(value_type = Object)]
    source: serde_json::Value,
}

/// Changes; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsChanges {
    /// Lowercase keys (letters, digits, `_`), at least one, no repeats.
    dispositions: Option<Vec<String>>,
    /// 0..=36500.
    retention_days: Option<u32>,
}

async fn current(state: &AppState) -> ApiResult<Settings> {
    let stored = state.store().settings().await?;
    Ok(Settings {
        dispositions: state.dispositions().await?,
        retention_days: state.store().retention_days(state.config().retention_days).await?,
        source: json!({
            "dispositions": if stored.contains_key(DISPOSITIONS) { "admin" } else { "config" },
            "retention_days": if stored.contains_key(RETENTION_DAYS) { "admin" } else { "config" },
        }),
    })
}

/// The settings in force (admin).
#[utoipa::path(get, path = "/api/settings", tag = "settings", responses((status = 200, body = Settings), (status = 403)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Settings>> {
    user.require(Action::ManageSettings)?;
    Ok(Json(current(&state).await?))
}

/// Changes dispositions or retention (admin); each change is audit-logged.
#[utoipa::path(patch, path = "/api/settings", request_body = SettingsChanges, tag = "settings", responses((status = 200, body = Settings), (status = 403), (status = 422)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<SettingsChanges>,
) -> ApiResult<Json<Settings>> {
    user.require(Action::ManageSettings)?;
    if let Some(list) = &body.dispositions {
        if list.is_empty() {
            return Err(ApiError::invalid("dispositions", "at least one disposition is needed"));
        }
        for (i, key) in list.iter().enumerate() {
            let valid = !key.is_empty()
                && key.len() <= 40
                && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(ApiError::invalid_input(
                    format!("dispositions[{i}]"),
                    "use 1 to 40 lowercase letters, digits or _",
                    key.clone(),
                ));
            }
            if list[..i].contains(key) {
                return Err(ApiError::invalid_input(
                    format!("dispositions[{i}]"),
                    "listed twice",
                    key.clone(),
                ));
            }
        }
    }
    if let Some(days) = body.retention_days
        && days > 36_500
    {
        return Err(ApiError::invalid_input(
            "retention_days",
            "at most 36500 days",
            days.to_string(),
        ));
    }
    if let Some(list) = &body.dispositions {
        state.store().set_setting(&user.actor(), DISPOSITIONS, &json!(list)).await?;
    }
    if let Some(days) = body.retention_days {
        state.store().set_setting(&user.actor(), RETENTION_DAYS, &json!(days)).await?;
    }
    Ok(Json(current(&state).await?))
}
