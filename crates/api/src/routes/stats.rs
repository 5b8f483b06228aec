//! `/api/stats`: call-center metrics for a date range, grouped by queue, agent, disposition or
//! interval, read from the rollups (never from the call table). Definitions are in
//! [`switchboard_core::stats`] and come with every answer.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_core::Action;
use switchboard_core::stats::{Counters, DEFINITIONS, Metrics, metrics, occupancy};
use switchboard_store::{CallbackStats, StatsFilter, StatsGroup};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, QueryParams};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/stats", get(read))
}

/// What to read. Times are epoch ms.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// Start (inclusive); default: today's start in the call center's time zone.
    from: Option<i64>,
    /// End (exclusive); default: `from` + 1 day.
    to: Option<i64>,
    /// `total` (default), `queue`, `agent`, `disposition` or `interval`.
    group: Option<String>,
    /// For `group=interval`: `15m`, `hour` (default), `day` or `week`.
    interval: Option<String>,
    /// Only this queue.
    queue_id: Option<String>,
    /// Only this agent.
    agent_id: Option<String>,
    /// `false`: leave out the total and the callback figures (the grouped rows only; a page
    /// that asks for several groupings of one range needs the summary once).
    summary: Option<bool>,
}

/// One group's figures.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatsLine {
    /// Queue id, agent id, disposition or interval start (epoch ms as text); empty for none.
    key: String,
    metrics: Metrics,
    counters: Counters,
    /// For agents (and the total): handling / (handling + available), pauses excluded.
    occupancy: Option<f64>,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatsAnswer {
    from: i64,
    to: i64,
    group: String,
    interval_ms: Option<i64>,
    /// The whole range (absent with `summary=false`).
    total: Option<StatsLine>,
    rows: Vec<StatsLine>,
    /// Callback tasks created in the range (absent with `summary=false`).
    callbacks: Option<CallbackStats>,
    /// Metric name -> definition.
    definitions: BTreeMap<String, String>,
}

/// Call-center metrics for a range (supervisor, manager, admin).
#[utoipa::path(get, path = "/api/stats", params(StatsQuery), tag = "stats", responses((status = 200, body = StatsAnswer), (status = 403), (status = 422)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<StatsQuery>,
) -> ApiResult<Json<StatsAnswer>> {
    user.require(Action::MonitorCalls)?;
    const DAY: i64 = 86_400_000;
    let offset = state.config().utc_offset_ms;
    let now = switchboard_store::now_ms();
    let from = q.from.unwrap_or_else(|| (now + offset).div_euclid(DAY) * DAY - offset);
    let to = q.to.unwrap_or(from + DAY);
    if to <= from {
        return Err(ApiError::invalid("to", "must be after from"));
    }
    if to - from > 400 * DAY {
        return Err(ApiError::invalid("to", "at most 400 days"));
    }
    let interval_ms = match q.interval.as_deref().unwrap_or("hour") {
        "15m" => 15 * 60_000,
        "hour" => 3_600_000,
        "day" => DAY,
        "week" => 7 * DAY,
        _ => return Err(ApiError::invalid("interval", "expected 15m, hour, day or week")),
    };
    let group_name = q.group.clone().unwrap_or_else(|| "total".into());
    let group = match group_name.as_str() {
        "total" => StatsGroup::Total,
        "queue" => StatsGroup::Queue,
        "agent" => StatsGroup::Agent,
        "disposition" => StatsGroup::Disposition,
        "interval" => StatsGroup::Interval(interval_ms),
        _ => {
            return Err(ApiError::invalid(
                "group",
                "expected total, queue, agent, disposition or interval",
            ));
        }
    };
    let filter = StatsFilter {
        from,
        to,
        queue_id: q.queue_id.clone(),
        agent_id: q.agent_id.clone(),
        utc_offset_ms: offset,
    };
    let store = state.store();
    let summary = q.summary.unwrap_or(true) || group == StatsGroup::Total;
    let total = if summary {
        Some(
            store
                .call_stats(&filter, StatsGroup::Total)
                .await?
                .into_iter()
                .next()
                .map(|r| r.counters)
                .unwrap_or_default(),
        )
    } else {
        None
    };
    let rows = if group == StatsGroup::Total {
        Vec::new()
    } else {
        store.call_stats(&filter, group).await?
    };
    // Occupancy from agents' state time (agents' rows and the total).
    let times = if summary || group == StatsGroup::Agent {
        store.agent_times(from, to, q.agent_id.as_deref(), now).await?
    } else {
        BTreeMap::new()
    };
    let occupancy_of = |agent: &str| times.get(agent).and_then(|&(h, a)| occupancy(h, a));
    let (handling, available) = times.values().fold((0, 0), |(h, a), (h2, a2)| (h + h2, a + a2));
    let line = |key: String, counters: Counters, occ: Option<f64>| StatsLine {
        key,
        metrics: metrics(&counters),
        counters,
        occupancy: occ,
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let occ = if group == StatsGroup::Agent { occupancy_of(&r.key) } else { None };
            line(r.key, r.counters, occ)
        })
        .collect();
    Ok(Json(StatsAnswer {
        from,
        to,
        group: group_name,
        interval_ms: matches!(group, StatsGroup::Interval(_)).then_some(interval_ms),
        total: total.map(|t| line(String::new(), t, occupancy(handling, available))),
        rows,
        callbacks: if summary { Some(store.callback_stats(from, to).await?) } else { None },
        definitions: DEFINITIONS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }))
}
