//! The manager's dashboard: headline figures, four SVG charts with a table (and a CSV export)
//! under each, for a date range. Every figure comes from `/api/stats`, whose definitions are
//! the tooltips. Supervisors, managers and admins only.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use switchboard_core::Action;

use super::{LangQuery, PageUser, nav, page, user_language};
use crate::AppState;
use crate::i18n::t;

pub(super) async fn dashboard_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, keep) = user_language(&state, &user, &query, &headers).await;
    if !user.0.role.can(Action::MonitorCalls) {
        return super::forbidden(lang, &user);
    }
    let w = |k| t(lang, k);
    // The AHT chart spans the page (its table has nine columns), so its drawing is twice as
    // wide and its text keeps its shape.
    let chart = |id: &str, title: &str| {
        let width = if id == "chart-aht" { 1200 } else { 600 };
        format!(
            r#"<section class="panel chart" id="{id}"><div class="row"><h2>{title}</h2><span class="spacer"></span><button type="button" class="csv" data-table="{id}">CSV</button></div>
<svg class="plot" viewBox="0 0 {width} 220" preserveAspectRatio="none" role="img" aria-label="{title}"></svg>
<table class="list"><thead></thead><tbody></tbody></table></section>"#
        )
    };
    let body = format!(
        r#"{nav}
<main class="dashboard">
<form id="range" class="panel filters">
<label>{from}<input type="date" name="from" id="d-from"></label>
<label>{to}<input type="date" name="to" id="d-to"></label>
<label>{queue}<select name="queue_id" id="d-queue"><option value="">{any}</option></select></label>
<button type="submit" id="d-show">{show}</button>
<span class="spacer"></span><a href="/reports" id="to-sales-reports">{sales_reports}</a>
<p class="error" id="error" hidden></p>
</form>
<section class="panel tiles" id="tiles"></section>
<div class="charts">
{hourly}
{sl}
{aht}
{dispositions}
</div>
</main>"#,
        nav = nav(lang, &user, "dashboard", ""),
        from = w("date_from"),
        to = w("date_to"),
        queue = w("queue"),
        any = w("any"),
        show = w("search"),
        sales_reports = w("sales_reports"),
        hourly = chart("chart-hourly", &w("chart_hourly")),
        sl = chart("chart-sl", &w("chart_sl")),
        aht = chart("chart-aht", &w("chart_aht")),
        dispositions = chart("chart-dispositions", &w("chart_dispositions")),
    );
    page(lang, &w("dashboard"), &body, "dashboard.js", keep)
}

pub(super) async fn wallboard_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, keep) = user_language(&state, &user, &query, &headers).await;
    if !user.0.role.can(Action::MonitorCalls) {
        return super::forbidden(lang, &user);
    }
    let w = |k| t(lang, k);
    let body = format!(
        r#"{nav}
<main class="wallboard">
<section class="panel listen-bar" id="listen-bar" data-state="idle" hidden>
<strong id="listen-title"></strong>
<span class="level" title="{level}"><span id="listen-level"></span></span>
<button type="button" class="mode" data-mode="listen">{listen}</button>
<button type="button" class="mode" data-mode="whisper">{whisper}</button>
<button type="button" class="mode" data-mode="barge">{barge}</button>
<button type="button" id="listen-stop">{stop}</button>
<span id="listen-error" class="error"></span>
<audio id="listen-audio" autoplay></audio>
</section>
<section class="panel tiles" id="today"></section>
<section class="panel"><h2>{queues}</h2>
<table class="list" id="queues"><thead><tr><th>{queue}</th><th>{waiting}</th><th>{oldest}</th><th>{offered}</th><th>{answered}</th><th>{sl}</th><th>{asa}</th><th>{abandoned}</th></tr></thead><tbody></tbody></table></section>
<section class="panel"><h2>{agents}</h2><div id="agents" class="agents"></div></section>
<p class="tv-switch"><a id="tv-link" href="?tv=1">{tv_mode}</a></p>
</main>"#,
        nav = nav(
            lang,
            &user,
            "wallboard",
            &format!(r#"<span class="badge" id="live" data-state="lost">{}</span>"#, w("live"))
        ),
        queues = w("queues"),
        queue = w("queue"),
        waiting = w("waiting"),
        oldest = w("oldest_wait"),
        offered = w("offered"),
        answered = w("answered"),
        sl = w("service_level"),
        asa = w("asa"),
        abandoned = w("abandoned_count"),
        agents = w("agents"),
        level = w("listen_level"),
        listen = w("listen"),
        whisper = w("whisper"),
        barge = w("barge"),
        stop = w("stop_listening"),
        tv_mode = w("tv_mode"),
    );
    page(lang, &w("wallboard"), &body, "wallboard.js", keep)
}
