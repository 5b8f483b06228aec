//! `/api/settings`: what an admin changes in the browser without editing the configuration
//! file: the call dispositions, why deals are lost and how long recordings are kept. Each change is audit-logged
//! with the old and new value and takes effect without a restart.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_core::Action;
use switchboard_store::settings::{DISPOSITIONS, LOSS_REASONS, RETENTION_DAYS};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, JsonBody};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/settings", get(read).patch(update))
        .route("/api/loss-reasons", get(loss_reasons))
}

/// The settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Settings {
    /// Outcomes agents choose from after a call: labels in any script, or keys the pages
    /// translate (`disp_<key>`).
    dispositions: Vec<String>,
    /// Why a deal is lost, the list users pick from (labels, or keys the pages translate,
    /// `loss_<key>`); "other" with a text is always offered too.
    loss_reasons: Vec<String>,
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
    /// Labels in any script (1-60 characters), at least one, no repeats.
    dispositions: Option<Vec<String>>,
    /// The same for the loss reasons.
    loss_reasons: Option<Vec<String>>,
    /// 0..=36500.
    retention_days: Option<u32>,
}

async fn current(state: &AppState) -> ApiResult<Settings> {
    let stored = state.store().settings().await?;
    Ok(Settings {
        dispositions: state.dispositions().await?,
        loss_reasons: state.store().loss_reasons().await?,
        retention_days: state.store().retention_days(state.config().retention_days).await?,
        source: json!({
            "dispositions": if stored.contains_key(DISPOSITIONS) { "admin" } else { "config" },
            "loss_reasons": if stored.contains_key(LOSS_REASONS) { "admin" } else { "config" },
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
        check_labels("dispositions", list)?;
    }
    if let Some(list) = &body.loss_reasons {
        check_labels("loss_reasons", list)?;
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
    if let Some(list) = &body.loss_reasons {
        state.store().set_setting(&user.actor(), LOSS_REASONS, &json!(list)).await?;
    }
    if let Some(days) = body.retention_days {
        state.store().set_setting(&user.actor(), RETENTION_DAYS, &json!(days)).await?;
    }
    Ok(Json(current(&state).await?))
}

/// A list of labels people pick from: at least one, each 1-60 characters of any script
/// without control characters or surrounding spaces, none twice (case aside).
fn check_labels(field: &str, list: &[String]) -> ApiResult<()> {
    if list.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    for (i, label) in list.iter().enumerate() {
        let length = label.chars().count();
        if label.trim() != label || !(1..=60).contains(&length) {
            return Err(ApiError::invalid_input(format!("{field}[{i}]"), "1-60 characters", label));
        }
        if label.chars().any(char::is_control) {
            return Err(ApiError::invalid_input(
                format!("{field}[{i}]"),
                "no line breaks or control characters",
                label,
            ));
        }
        if list[..i].iter().any(|other| other.to_lowercase() == label.to_lowercase()) {
            return Err(ApiError::invalid_input(format!("{field}[{i}]"), "listed twice", label));
        }
    }
    Ok(())
}

/// Why deals are lost, the list users pick from (anyone who may read deals).
#[utoipa::path(get, path = "/api/loss-reasons", tag = "deals", responses((status = 200, body = [String])))]
pub(crate) async fn loss_reasons(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<String>>> {
    user.require(Action::ReadCrm)?;
    Ok(Json(state.store().loss_reasons().await?))
}
