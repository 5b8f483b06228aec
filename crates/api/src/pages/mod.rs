//! Server-rendered pages: sign-in and the operator's console, in English or Russian. The
//! pages are plain HTML with a small ES module each (from `web/`, compiled into the binary); no
//! build step. Every page but sign-in needs a session and redirects to it otherwise.

mod crm;
mod dashboard;
mod recordings;

use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::extract::CurrentUser;
use crate::i18n::{Lang, t, table_json};
use switchboard_core::Action;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/login", get(login_page))
        .route("/console", get(console_page))
        .route("/recordings", get(recordings::recordings_page))
        .route("/dashboard", get(dashboard::dashboard_page))
        .route("/wallboard", get(dashboard::wallboard_page))
        .route("/contacts", get(crm::contacts_page))
        .route("/contacts/{id}", get(crm::contact_page))
        .route("/companies", get(crm::companies_page))
        .route("/companies/{id}", get(crm::company_page))
        .route("/deals", get(crm::deals_page))
        .route("/deals/{id}", get(crm::deal_page))
        .route("/tasks", get(crm::tasks_page))
        .route("/callbacks", get(crm::callbacks_page))
        .route("/audit", get(crm::audit_page))
        .route("/reports", get(crm::reports_page))
        .route("/import", get(crm::import_page))
        .route("/admin", get(crm::admin_page))
        .route("/account", get(crm::account_page))
        .route("/static/{file}", get(asset))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

#[derive(Debug, Deserialize)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// The page's language, and the cookie that keeps a choice made with `?lang=`.
pub(super) fn language(query: &LangQuery, headers: &HeaderMap) -> (Lang, Option<String>) {
    choose_language(query, None, headers)
}

/// `?lang=`, else `saved` (the user's choice), else the cookie, else the browser's; and the
/// cookie that keeps it, when the browser's differs.
fn choose_language(
    query: &LangQuery,
    saved: Option<&str>,
    headers: &HeaderMap,
) -> (Lang, Option<String>) {
    let cookie = cookie_value(headers, "sb_lang");
    let lang = Lang::choose(
        query.lang.as_deref(),
        saved.or(cookie.as_deref()),
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    // The cookie follows the page's language (chosen now or saved on the user), so the API
    // answers the page's requests, errors and exports included, in the same language.
    let keep = (cookie.as_deref() != Some(lang.code()))
        .then(|| format!("sb_lang={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code()));
    (lang, keep)
}

/// A signed-in user's page language: `?lang=` (kept on the user, so it follows them to any
/// browser), else the one they chose before, else the cookie or the browser's.
pub(super) async fn user_language(
    state: &AppState,
    user: &CurrentUser,
    query: &LangQuery,
    headers: &HeaderMap,
) -> (Lang, Option<String>) {
    let saved = user.0.language.as_deref();
    let (lang, keep) = choose_language(query, saved, headers);
    if query.lang.is_some()
        && saved != Some(lang.code())
        && let Err(e) = state.store().set_user_language(user.id(), Some(lang.code())).await
    {
        tracing::warn!(error = %e, "cannot keep the user's language");
    }
    (lang, keep)
}

/// Escapes text for HTML element content and attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn page(
    lang: Lang,
    title: &str,
    body: &str,
    script: &str,
    keep_lang: Option<String>,
) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Switchboard</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
{body}
<script id="i18n" type="application/json">{words}</script>
<script type="module" src="/static/nav.js"></script>
<script type="module" src="/static/{script}"></script>
</body>
</html>"#,
        code = lang.code(),
        title = escape(title),
        // `</` cannot occur in the table (no word contains it), so it is safe inside <script>.
        words = table_json(lang),
    );
    let mut response = Html(html).into_response();
    if let Some(cookie) = keep_lang.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// A page the user's role may not open: 403, with the header and a way back, in their
/// language.
pub(super) fn forbidden(lang: Lang, user: &CurrentUser) -> Response {
    let body = format!(
        r#"{nav}
<main class="crm"><section class="panel" id="forbidden">
<h1>{title}</h1>
<p>{message}</p>
<p><a href="/" id="go-home">{home}</a></p>
</section></main>"#,
        nav = nav(lang, user, "", ""),
        title = t(lang, "forbidden_title"),
        message = t(lang, "forbidden"),
        home = t(lang, "go_home"),
    );
    let mut response = page(lang, &t(lang, "forbidden_title"), &body, "nav.js", None);
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
}

/// The pages every role may open, then those that need a permission: (word key, path, who).
const NAV: &[(&str, &str, Option<Action>)] = &[
    ("console", "/console", None),
    ("contacts", "/contacts", None),
    ("companies", "/companies", None),
    ("deals", "/deals", None),
    ("tasks", "/tasks", None),
    ("callback_queue", "/callbacks", None),
    ("recordings", "/recordings", None),
    ("dashboard", "/dashboard", Some(Action::MonitorCalls)),
    ("wallboard", "/wallboard", Some(Action::MonitorCalls)),
    ("import_export", "/import", Some(Action::ImportExport)),
    ("audit_log", "/audit", Some(Action::ReadAudit)),
    ("admin", "/admin", Some(Action::ManageUsers)),
];

/// The header of every signed-in page: the pages this user's role may open (`active` is the
/// current one), `extra` (page-specific badges), the user, the language switch and sign-out.
pub(super) fn nav(lang: Lang, user: &CurrentUser, active: &str, extra: &str) -> String {
    let role = user.0.role;
    let links: String = NAV
        .iter()
        .filter(|(_, _, need)| need.is_none_or(|a| role.can(a)))
        .map(|(key, href, _)| {
            let current = if *key == active { r#" aria-current="page""# } else { "" };
            // A shorter word where the page's name is long, so the header fits on one line
            // at 1366 px; the page's own title keeps the full name.
            let short = format!("nav_{key}");
            let label = t(lang, if crate::i18n::has(&short) { &short } else { key });
            format!(
                r#"<a href="{href}" id="nav-{key}" aria-label="{full}"{current}>{label}</a>"#,
                full = t(lang, key)
            )
        })
        .collect();
    format!(
        r#"<header class="top">
<strong>{app}</strong>
<nav class="nav">{links}</nav>
<span class="spacer"></span>{extra}
<a id="user-name" href="/account" title="{account}" data-id="{id}" data-role="{role}" data-team="{team}" data-hold="{may_hold}">{name}</a> {switch}
<button type="button" id="sign-out">{sign_out}</button>
</header>"#,
        app = t(lang, "app"),
        id = escape(&user.0.id),
        role = role.as_str(),
        team = escape(user.0.team_id.as_deref().unwrap_or("")),
        may_hold = role.can(Action::MonitorCalls),
        name = escape(&user.0.name),
        switch = lang_switch(lang),
        sign_out = t(lang, "sign_out"),
        account = t(lang, "account"),
    )
}

pub(super) fn lang_switch(lang: Lang) -> String {
    let other = if lang == Lang::Ru { ("en", "English") } else { ("ru", "Русский") };
    format!(r#"<a class="lang" id="lang-switch" href="?lang={}">{}</a>"#, other.0, other.1)
}

async fn login_page(Query(query): Query<LangQuery>, headers: HeaderMap) -> Response {
    let (lang, keep) = language(&query, &headers);
    let body = format!(
        r#"<main class="login">
<h1>Switchboard</h1>
<form id="login-form">
<label>{login}<input name="login" id="login" autocomplete="username" required></label>
<label>{password}<input name="password" id="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="sign-in">{sign_in}</button>
<p class="error" id="login-error" hidden>{bad}</p>
</form>
{switch}
</main>"#,
        login = t(lang, "login"),
        password = t(lang, "password"),
        sign_in = t(lang, "sign_in"),
        bad = t(lang, "bad_login"),
        switch = lang_switch(lang),
    );
    page(lang, &t(lang, "login_title"), &body, "login.js", keep)
}

/// The signed-in user, or a redirect to sign-in.
pub(super) struct PageUser(pub(super) CurrentUser);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        CurrentUser::from_request_parts(parts, state)
            .await
            .map(PageUser)
            .map_err(|_| Redirect::to("/login").into_response())
    }
}

async fn console_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, keep) = user_language(&state, &user, &query, &headers).await;
    let w = |k| t(lang, k);
    let dispositions = disposition_options(&state, lang).await;
    let keypad: String = "123456789*0#"
        .chars()
        .map(|c| format!(r#"<button type="button" class="key" data-digit="{c}">{c}</button>"#))
        .collect();
    let body = format!(
        r#"{nav}
<main class="console">
<section class="panel" id="agent-panel">
<h2>{my_state}</h2>
<p><span class="badge" id="state" data-state="offline">{state_offline}</span></p>
<p>{softphone}: <span class="badge" id="softphone" data-state="lost">{softphone_lost}</span></p>
<p class="error" id="replaced" hidden>{console_replaced} <a href="/console" id="use-here">{use_here}</a></p>
<div class="row">
<button type="button" id="go-available" title="R" data-key="R">{go_available}</button>
<select id="pause-reason" aria-label="{pause_reason}">
<option value="lunch">{lunch}</option><option value="break">{brk}</option><option value="training">{training}</option><option value="other">{other}</option>
</select>
<button type="button" id="go-pause" title="P" data-key="P">{pause}</button>
<button type="button" id="go-offline">{go_offline}</button>
</div>
<h2>{dial}</h2>
<form id="dial-form" class="row"><input id="dial-number" placeholder="+7 916 123-45-67" aria-label="{number}"><button type="submit" id="dial-button" title="D" data-key="D">{dial_button}</button></form>
<h2>{tasks_due}</h2>
<ul id="tasks-due"></ul>
<p><a href="/callbacks" id="all-callbacks">{all_callbacks}</a> <span id="more-due" class="muted" hidden></span></p>
<h2 id="escalations-title" hidden>{escalations}</h2>
<ul id="escalations" hidden></ul>
<p class="error" id="error" hidden></p>
</section>
<section class="panel" id="call-panel">
<h2>{call}</h2>
<p id="call-status" data-status="idle">{no_call}</p>
<p class="number" id="call-number"></p>
<div class="row">
<button type="button" id="answer" title="A" data-key="A" hidden>{answer}</button>
<button type="button" id="hangup" title="H" data-key="H" hidden>{hang_up}</button>
<button type="button" id="hold" title="K" data-key="K" hidden>{hold}</button>
<button type="button" id="mute" title="M" data-key="M" hidden>{mute}</button>
<button type="button" id="record-pause" hidden>{pause_recording}</button>
</div>
<div id="transfer-box" class="row" hidden>
<select id="transfer-target" aria-label="{transfer_to}"></select>
<input id="transfer-number" placeholder="{number}" aria-label="{number}" size="14">
<button type="button" id="transfer">{transfer}</button>
</div>
<div id="keypad" class="keypad" hidden>{keypad}</div>
<audio id="remote-audio" autoplay></audio>
</section>
<section class="panel wide" id="card-panel">
<h2>{card}</h2>
<div id="card" data-call=""></div>
<form id="call-form" hidden>
<h2>{call_form}</h2>
<label>{reason}<input name="reason" id="form-reason" maxlength="500"></label>
<label>{disposition}<select name="disposition" id="form-disposition">{dispositions}</select></label>
<label>{deal}<select name="deal" id="form-deal"></select></label>
<label>{new_deal}<input name="new_deal" id="form-new-deal"></label>
<label>{notes}<textarea name="notes" id="form-notes" rows="3" maxlength="10000"></textarea></label>
<fieldset id="form-details" hidden><legend>{caller_details}</legend>
<label>{last_name}<input name="last_name" id="form-last-name" maxlength="300"></label>
<label>{first_name}<input name="first_name" id="form-first-name" maxlength="300"></label>
<label>{middle_name}<input name="middle_name" id="form-middle-name" maxlength="300"></label>
<label>{position}<input name="position" id="form-position" maxlength="300"></label>
<label>{emails}<input name="email" id="form-email" type="email" maxlength="300"></label>
</fieldset>
<div class="row"><button type="submit" id="form-save">{save}</button><span id="form-saved" hidden>{form_saved}</span></div>
</form>
</section>
</main>"#,
        nav = nav(lang, &user, "console", ""),
        my_state = w("my_state"),
        state_offline = w("state_offline"),
        softphone = w("softphone"),
        softphone_lost = w("softphone_lost"),
        console_replaced = w("console_replaced"),
        use_here = w("use_here"),
        go_available = w("go_available"),
        lunch = w("reason_lunch"),
        pause_reason = w("pause_reason"),
        brk = w("reason_break"),
        training = w("reason_training"),
        other = w("reason_other"),
        pause = w("pause"),
        go_offline = w("go_offline"),
        dial = w("dial"),
        number = w("number"),
        dial_button = w("dial_button"),
        call = w("call"),
        no_call = w("no_call"),
        answer = w("answer"),
        hang_up = w("hang_up"),
        hold = w("hold"),
        mute = w("mute"),
        card = w("card"),
        call_form = w("call_form"),
        tasks_due = w("tasks_due"),
        all_callbacks = w("cb_all"),
        transfer = w("transfer"),
        transfer_to = w("transfer_to"),
        reason = w("reason"),
        disposition = w("disposition"),
        deal = w("deal"),
        new_deal = w("new_deal"),
        notes = w("notes"),
        caller_details = w("caller_details"),
        last_name = w("last_name"),
        first_name = w("first_name"),
        middle_name = w("middle_name"),
        position = w("position"),
        emails = w("emails"),
        save = w("save"),
        form_saved = w("form_saved"),
        pause_recording = w("pause_recording"),
        escalations = w("escalations"),
        dispositions = dispositions,
    );
    page(lang, &w("console"), &body, "console.js", keep)
}

/// `<option>`s of the dispositions in force, labelled in `lang` (the key itself when the
/// word table has no label for it).
pub(super) async fn disposition_options(state: &AppState, lang: Lang) -> String {
    let list = state.dispositions().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the dispositions setting; using the configured ones");
        state.config().dispositions.clone()
    });
    list.iter()
        .map(|d| {
            let key = format!("disp_{d}");
            let label = if crate::i18n::has(&key) { t(lang, &key) } else { d.clone() };
            format!(r#"<option value="{}">{}</option>"#, escape(d), escape(&label))
        })
        .collect()
}

/// The pages' scripts and styles, compiled in.
pub(crate) const ASSETS: &[(&str, &str)] = &[
    ("app.css", include_str!("../../../../web/app.css")),
    ("login.js", include_str!("../../../../web/login.js")),
    ("nav.js", include_str!("../../../../web/nav.js")),
    ("common.js", include_str!("../../../../web/common.js")),
    ("keys.js", include_str!("../../../../web/keys.js")),
    ("forms.js", include_str!("../../../../web/forms.js")),
    ("console.js", include_str!("../../../../web/console.js")),
    ("softphone.js", include_str!("../../../../web/softphone.js")),
    ("card.js", include_str!("../../../../web/card.js")),
    ("recordings.js", include_str!("../../../../web/recordings.js")),
    ("dashboard.js", include_str!("../../../../web/dashboard.js")),
    ("wallboard.js", include_str!("../../../../web/wallboard.js")),
    ("contacts.js", include_str!("../../../../web/contacts.js")),
    ("contact.js", include_str!("../../../../web/contact.js")),
    ("companies.js", include_str!("../../../../web/companies.js")),
    ("company.js", include_str!("../../../../web/company.js")),
    ("deals.js", include_str!("../../../../web/deals.js")),
    ("deal.js", include_str!("../../../../web/deal.js")),
    ("items.js", include_str!("../../../../web/items.js")),
    ("products.js", include_str!("../../../../web/products.js")),
    ("documents.js", include_str!("../../../../web/documents.js")),
    ("reports.js", include_str!("../../../../web/reports.js")),
    ("tasks.js", include_str!("../../../../web/tasks.js")),
    ("callbacks.js", include_str!("../../../../web/callbacks.js")),
    ("audit.js", include_str!("../../../../web/audit.js")),
    ("import.js", include_str!("../../../../web/import.js")),
    ("admin.js", include_str!("../../../../web/admin.js")),
    ("prompts.js", include_str!("../../../../web/prompts.js")),
    ("flows.js", include_str!("../../../../web/flows.js")),
    ("schedules.js", include_str!("../../../../web/schedules.js")),
    ("account.js", include_str!("../../../../web/account.js")),
];

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let Some((name, body)) = ASSETS.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let kind = if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "no-cache")], *body).into_response()
}
