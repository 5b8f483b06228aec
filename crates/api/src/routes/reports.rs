//! `/api/reports/sales`: the funnel, sources, loss reasons and competitors, managers and the
//! forecast for a period, as JSON for the page and as CSV or XLSX in the reader's language.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use switchboard_core::Action;
use switchboard_import::{Cell, SheetFormat, SheetLocale};
use switchboard_store::{ReportFilter, SalesReport};

use super::transfer::{download, file_error};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{CurrentUser, QueryParams};
use crate::i18n::{Lang, t};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/reports/sales", get(sales))
        .route("/api/reports/sales/export", get(export))
}

/// The period and pipeline.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// Epoch ms, inclusive; default 30 days ago.
    from: Option<i64>,
    /// Epoch ms, exclusive; default now.
    to: Option<i64>,
    /// Default: the first pipeline.
    pipeline_id: Option<String>,
    /// A lead handled within this many minutes counts as in time (default 15).
    lead_minutes: Option<i64>,
    /// Exports: `funnel`, `sources`, `loss_reasons`, `competitors`, `managers`, `forecast`.
    table: Option<String>,
    /// Exports: `csv` or `xlsx`.
    format: Option<String>,
}

async fn report(state: &AppState, q: &ReportQuery) -> ApiResult<SalesReport> {
    let now = switchboard_store::now_ms();
    let to = q.to.unwrap_or(now);
    let from = q.from.unwrap_or(to - 30 * 86_400_000);
    if from >= to {
        return Err(ApiError::invalid("to", "must be after from"));
    }
    let filter = ReportFilter {
        from,
        to,
        pipeline_id: q.pipeline_id.clone().filter(|p| !p.is_empty()),
        lead_minutes: q.lead_minutes.unwrap_or(15).clamp(1, 24 * 60),
        currency: state.store().sales_settings().await?.currency,
        utc_offset_ms: state.config().utc_offset_ms,
    };
    Ok(state.store().sales_report(&filter).await?)
}

/// Every sales report for the period (supervisors and above). Definitions: the funnel counts
/// deals created in the period in the pipeline by the highest stage they reached (a won deal
/// reached every stage), and the average stay in a stage until the deal moved to another;
/// sources count leads that came in the period and the deals they made; loss reasons,
/// competitors and managers' won deals count deals closed in the period; managers' calls are
/// calls offered in the period; the forecast is today's open deals by expected close month,
/// weighted by probability. Sums are in the default currency.
#[utoipa::path(get, path = "/api/reports/sales", params(ReportQuery), tag = "stats", responses((status = 200, body = SalesReport)))]
pub(crate) async fn sales(
    State(state): State<AppState>,
    user: CurrentUser,
    QueryParams(q): QueryParams<ReportQuery>,
) -> ApiResult<Json<SalesReport>> {
    user.require(Action::MonitorCalls)?;
    Ok(Json(report(&state, &q).await?))
}

/// One of the reports as CSV or XLSX, headers and stage names in the reader's language.
#[utoipa::path(get, path = "/api/reports/sales/export", params(ReportQuery), tag = "stats", responses((status = 200, description = "CSV or XLSX")))]
pub(crate) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    request_headers: axum::http::HeaderMap,
    QueryParams(q): QueryParams<ReportQuery>,
) -> ApiResult<Response> {
    user.require(Action::MonitorCalls)?;
    let lang = Lang::of_request(user.0.language.as_deref(), &request_headers);
    let format_name = q.format.clone().unwrap_or_else(|| "csv".into());
    let format = SheetFormat::parse(&format_name)
        .ok_or_else(|| ApiError::invalid_input("format", "expected csv or xlsx", format_name))?;
    let table = q.table.clone().unwrap_or_else(|| "funnel".into());
    let r = report(&state, &q).await?;
    let money = |minor: i64| Cell::Number(minor as f64 / 100.0);
    let n = |v: i64| Cell::Number(v as f64);
    let header =
        |keys: &[&str]| keys.iter().map(|k| t(lang, &format!("rep_{k}"))).collect::<Vec<_>>();
    let (headers, rows): (Vec<String>, Vec<Vec<Cell>>) = match table.as_str() {
        "funnel" => {
            let stages = state.store().list_stages().await?;
            let name = |id: &str| {
                stages.iter().find(|s| s.id == id).map_or_else(String::new, |s| match &s.key {
                    Some(key) => t(lang, &format!("stage_{key}")),
                    None => s.name.clone(),
                })
            };
            (
                header(&["stage", "reached", "open_here", "avg_days"]),
                r.funnel
                    .stages
                    .iter()
                    .map(|s| {
                        vec![
                            Cell::Text(name(&s.stage_id)),
                            n(s.reached),
                            n(s.open_here),
                            s.avg_ms_in_stage.map_or(Cell::Empty, |ms| {
                                Cell::Number((ms as f64 / 86_400_000.0 * 10.0).round() / 10.0)
                            }),
                        ]
                    })
                    .collect(),
            )
        }
        "sources" => (
            header(&["source", "campaign", "leads", "deals", "won", "revenue"]),
            r.sources
                .iter()
                .map(|s| {
                    vec![
                        Cell::Text(s.source.clone()),
                        Cell::Text(s.campaign.clone()),
                        n(s.leads),
                        n(s.deals),
                        n(s.won),
                        money(s.revenue_minor),
                    ]
                })
                .collect(),
        ),
        "loss_reasons" | "competitors" => {
            let rows = if table == "loss_reasons" { &r.loss_reasons } else { &r.competitors };
            let label = |key: &str| {
                let k = format!("why_lost_{key}");
                if table == "loss_reasons" && crate::i18n::has(&k) {
                    t(lang, &k)
                } else {
                    key.to_owned()
                }
            };
            (
                header(&[
                    if table == "loss_reasons" { "reason" } else { "competitor" },
                    "deals",
                    "amount",
                ]),
                rows.iter()
                    .map(|l| vec![Cell::Text(label(&l.key)), n(l.deals), money(l.amount_minor)])
                    .collect(),
            )
        }
        "managers" => {
            let users = state.store().list_users().await?;
            let name = |id: &str| {
                users.iter().find(|u| u.id == id).map_or_else(|| id.to_owned(), |u| u.name.clone())
            };
            (
                header(&[
                    "manager",
                    "calls_made",
                    "calls_received",
                    "talk_minutes",
                    "leads",
                    "leads_in_time",
                    "deals_won",
                    "revenue",
                ]),
                r.managers
                    .iter()
                    .map(|m| {
                        vec![
                            Cell::Text(name(&m.user_id)),
                            n(m.calls_made),
                            n(m.calls_received),
                            Cell::Number((m.talk_ms as f64 / 60_000.0).round()),
                            n(m.leads),
                            n(m.leads_in_time),
                            n(m.deals_won),
                            money(m.revenue_minor),
                        ]
                    })
                    .collect(),
            )
        }
        "forecast" => (
            header(&["month", "deals", "amount", "weighted"]),
            r.forecast
                .iter()
                .map(|f| {
                    vec![
                        Cell::Text(if f.month.is_empty() {
                            t(lang, "rep_no_date")
                        } else {
                            f.month.clone()
                        }),
                        n(f.deals),
                        money(f.amount_minor),
                        money(f.weighted_minor),
                    ]
                })
                .collect(),
        ),
        other => {
            return Err(ApiError::invalid_input(
                "table",
                "expected funnel, sources, loss_reasons, competitors, managers or forecast",
                other,
            ));
        }
    };
    let bytes = tokio::task::spawn_blocking(move || {
        let locale = match lang {
            Lang::Ru => SheetLocale::Russian,
            Lang::En => SheetLocale::English,
        };
        switchboard_import::sheet_bytes(format, locale, &headers, &rows)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(file_error)?;
    Ok(download(format, &format!("report-{table}"), bytes))
}
