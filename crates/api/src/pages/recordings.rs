//! The recordings page: search recorded calls, play one with its waveform, download it, and
//! (supervisors and up) put it on legal hold. What the list holds is the API's business: it
//! only returns calls the user may hear.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::{LangQuery, PageUser, disposition_options, nav, page, user_language};
use crate::AppState;
use crate::i18n::t;

pub(super) async fn recordings_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, keep) = user_language(&state, &user, &query, &headers).await;
    let w = |k| t(lang, k);
    let dispositions = disposition_options(&state, lang).await;
    let body = format!(
        r##"{nav}
<main class="recordings">
<form id="search" class="panel filters">
<label>{from}<input type="date" name="from" id="f-from"></label>
<label>{to}<input type="date" name="to" id="f-to"></label>
<label>{agent}<select name="agent_id" id="f-agent"><option value="">{any}</option></select></label>
<label>{queue}<select name="queue_id" id="f-queue"><option value="">{any}</option></select></label>
<label>{number}<input name="number" id="f-number" placeholder="+7 916 123-45-67"></label>
<label>{disposition}<select name="disposition" id="f-disposition"><option value="">{any}</option>{dispositions}</select></label>
<label>{min_duration}<input type="number" min="0" name="min_duration_s" id="f-min" size="5"></label>
<label>{max_duration}<input type="number" min="0" name="max_duration_s" id="f-max" size="5"></label>
<button type="submit" id="search-button">{search}</button>
<p class="error" id="error" hidden></p>
</form>
<section class="panel" id="player-panel" hidden>
<h2 id="player-title"></h2>
<svg id="waveform" viewBox="0 0 1000 100" preserveAspectRatio="none" role="img" aria-label="{waveform}"></svg>
<audio id="player" controls preload="metadata"></audio>
<div class="row"><a id="download" href="#">{download}</a>
<label id="hold-box" hidden><input type="checkbox" id="legal-hold"> {legal_hold}</label></div>
</section>
<section class="panel">
<p id="total" class="muted"></p>
<table class="list" id="results">
<thead><tr><th>{when}</th><th>{direction}</th><th>{number}</th><th>{agent}</th><th>{queue}</th><th>{duration}</th><th>{disposition}</th><th></th></tr></thead>
<tbody></tbody>
</table>
<div class="row"><button type="button" id="prev">←</button><span id="page"></span><button type="button" id="next">→</button></div>
</section>
</main>"##,
        nav = nav(lang, &user, "recordings", ""),
        from = w("date_from"),
        to = w("date_to"),
        agent = w("agent"),
        any = w("any"),
        queue = w("queue"),
        number = w("number"),
        disposition = w("disposition"),
        min_duration = w("min_duration"),
        max_duration = w("max_duration"),
        search = w("search"),
        waveform = w("waveform"),
        download = w("download"),
        legal_hold = w("legal_hold"),
        when = w("when"),
        direction = w("direction"),
        duration = w("duration"),
    );
    page(lang, &w("recordings"), &body, "recordings.js", keep)
}
