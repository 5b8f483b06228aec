//! Every page in Russian and in English, as each role sees it over demo data: no English word
//! of the catalogue on a Russian page (and no Russian one on an English page), no raw key
//! (`snake_case`) anywhere in visible text, no ISO date or decimal point on a Russian page, no
//! `undefined`/`NaN`, and no script error.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::agent::Driver;
use crate::calls::{Scene, epoch_ms};
use crate::harness::{AGENT_PASSWORD, Gateway, GatewayOptions};

/// Everything a user reads on the page: the visible text, the titles, placeholders and
/// labels, every option of every select, and the charts' SVG text.
/// (The language switch names the other language in that language, and is left out.)
const VISIBLE_TEXT: &str = r"(() => {
  const sw = document.getElementById('lang-switch');
  if (sw) sw.hidden = true;
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[title],[placeholder],[aria-label],[alt]')) {
    if (el.closest('[hidden],template,script')) continue;
    for (const a of ['title', 'placeholder', 'aria-label', 'alt']) {
      const v = el.getAttribute(a);
      if (v) parts.push(v);
    }
  }
  for (const o of document.querySelectorAll('select option')) parts.push(o.textContent);
  for (const t of document.querySelectorAll('svg text, svg title')) parts.push(t.textContent);
  return parts.join('\n');
})()";

/// Words that show up when something was left untranslated, besides the catalogue's own.
const ENGLISH: &[&str] = &[
    "inbound",
    "outbound",
    "abandoned",
    "answered",
    "lunch",
    "unknown",
    "Call back",
    "New",
    "Qualified",
    "Proposal",
    "Negotiation",
    "agent",
    "queue",
    "caller",
    "called back",
];
/// Shown by a script that lost a value, in any language.
const BROKEN: &[&str] = &["undefined", "null", "NaN", "Invalid Date", "[object Object]"];

/// The catalogue of one language as the pages have it: key -> texts (a plural's forms).
async fn catalogue(driver: &mut Driver, who: &str) -> Vec<(String, Vec<String>)> {
    let table = driver
        .must(json!({"cmd": "eval", "agent": who, "js": "JSON.parse(document.getElementById('i18n').textContent)"}))
        .await;
    let mut out = Vec::new();
    for (key, value) in table.as_object().unwrap() {
        let texts = match value {
            Value::String(s) => vec![s.clone()],
            Value::Object(forms) => {
                forms.values().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        };
        out.push((key.clone(), texts));
    }
    out
}

/// Whether `phrase` occurs in `text` as whole words.
fn has_phrase(text: &str, phrase: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(phrase).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + phrase.len()..].chars().next())
    })
}

/// The phrases of `mine` whose text differs from `other`'s for the same key, without the
/// `{argument}` parts: the words that must not appear on a page in the other language.
fn foreign_phrases(
    other: &[(String, Vec<String>)],
    mine: &[(String, Vec<String>)],
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (key, texts) in other {
        let same = mine.iter().find(|(k, _)| k == key).map(|(_, t)| t.clone()).unwrap_or_default();
        for text in texts {
            for piece in text.split(['{', '}', ':', '…', '(', ')']) {
                let piece = piece.trim().trim_end_matches(['.', ',', '?', '!']);
                if piece.chars().filter(|c| c.is_alphabetic()).count() >= 3
                    && !same.iter().any(|s| s.contains(piece))
                {
                    out.insert(piece.to_owned());
                }
            }
        }
    }
    out
}

/// What is wrong with one page's text in `lang`.
fn problems(text: &str, lang: &str, foreign: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    for phrase in foreign {
        if has_phrase(text, phrase) {
            found.push(format!(
                "{} text `{phrase}`",
                if lang == "ru" { "English" } else { "Russian" }
            ));
        }
    }
    if lang == "ru" {
        for word in ENGLISH {
            if has_phrase(text, word) {
                found.push(format!("English word `{word}`"));
            }
        }
    }
    for word in BROKEN {
        if has_phrase(text, word) {
            found.push(format!("`{word}`"));
        }
    }
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let parts: Vec<&str> = token.split('_').collect();
        if parts.len() > 1
            && parts.iter().all(|p| {
                !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
        {
            found.push(format!("raw key `{token}`"));
        }
    }
    if lang == "ru" {
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices('-') {
            // 2026-12-06: an ISO date where the reader expects 06.12.2026.
            if at >= 4
                && bytes[at - 4..at].iter().all(u8::is_ascii_digit)
                && bytes.get(at + 1..at + 3).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                && bytes.get(at + 3) == Some(&b'-')
            {
                found.push(format!("ISO date `{}`", &text[at - 4..(at + 6).min(text.len())]));
            }
        }
        for (at, _) in text.match_indices('.') {
            // 252.5: a decimal point where Russian writes a comma (versions and addresses,
            // with more than one point, are not numbers).
            let before = text[..at].chars().rev().take_while(char::is_ascii_digit).count();
            let after = text[at + 1..].chars().take_while(char::is_ascii_digit).count();
            let next = text[at + 1 + after..].chars().next();
            let prev = text[..at - before].chars().next_back();
            // 03.12 is a short Russian date, not a number.
            let short_date = before == 2
                && after == 2
                && text[at - 2..at].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
                && text[at + 1..at + 3].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
            if before > 0
                && after > 0
                && !short_date
                && next != Some('.')
                && prev != Some('.')
                && !prev.is_some_and(|c| c.is_alphanumeric())
            {
                found.push(format!("decimal point `{}`", &text[at - before..at + 1 + after]));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The README's screenshots.
const SHOTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots");

/// Signs `login` in (its own browser) and walks `pages` in both languages, taking the README's
/// Russian screenshots of `shots` (page, file); returns what is wrong, page by page.
async fn walk(
    driver: &mut Driver,
    gw: &Gateway,
    wav: &std::path::Path,
    (login, password): (&str, &str),
    pages: &[String],
    shots: &[(String, &str)],
) -> Vec<String> {
    let who = login.to_owned();
    // A Russian user's browser (its date fields and Accept-Language); `?lang=` picks the page.
    driver.must(json!({"cmd": "open", "agent": who, "wav": wav, "locale": "ru-RU"})).await;
    driver
        .must(json!({"cmd": "goto", "agent": who, "url": format!("{}/login?lang=ru", gw.base)}))
        .await;
    driver.must(json!({"cmd": "fill", "agent": who, "selector": "#login", "value": login})).await;
    driver
        .must(json!({"cmd": "fill", "agent": who, "selector": "#password", "value": password}))
        .await;
    driver.must(json!({"cmd": "click", "agent": who, "selector": "#sign-in"})).await;
    driver
        .must(json!({"cmd": "wait", "agent": who, "selector": "header.top", "state": "attached"}))
        .await;
    let ru = catalogue(driver, &who).await;
    driver
        .must(json!({"cmd": "goto", "agent": who, "url": format!("{}/account?lang=en", gw.base)}))
        .await;
    let en = catalogue(driver, &who).await;
    let mut report = Vec::new();
    for (lang, foreign) in [("ru", foreign_phrases(&en, &ru)), ("en", foreign_phrases(&ru, &en))] {
        for path in pages {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = format!("{}{path}{sep}lang={lang}", gw.base);
            driver.must(json!({"cmd": "goto", "agent": who, "url": url})).await;
            driver.must(json!({"cmd": "settle", "agent": who})).await;
            let text = driver.must(json!({"cmd": "eval", "agent": who, "js": VISIBLE_TEXT})).await;
            let mut found = problems(text.as_str().unwrap_or(""), lang, &foreign);
            let log = driver.must(json!({"cmd": "log", "agent": who})).await;
            for line in log.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if line.starts_with("pageerror") {
                    found.push(format!("script error: {line}"));
                }
            }
            driver.must(json!({"cmd": "clearlog", "agent": who})).await;
            if let Some((_, name)) = shots.iter().find(|(p, _)| lang == "ru" && p == path) {
                std::fs::create_dir_all(SHOTS).unwrap();
                let path = format!("{SHOTS}/{name}");
                driver.must(json!({"cmd": "screenshot", "agent": who, "path": path})).await;
            }
            for problem in found {
                report.push(format!("{login} {lang} {path}: {problem}"));
            }
        }
    }
    driver.must(json!({"cmd": "close", "agent": who})).await;
    report
}

/// Every page, in Russian and English, as the administrator, a manager, a supervisor and an
/// operator see it over a few days of Russian demo data.
pub(crate) async fn every_page_in_russian_and_english() {
    let gw = Gateway::start(GatewayOptions::default()).await;
    let hash = switchboard_api::hash_password(AGENT_PASSWORD).unwrap();
    let options = switchboard_server::demo::DemoOptions {
        days: 3,
        agents: 4,
        contacts: 45,
        seed: 5,
        now: epoch_ms(),
        utc_offset_ms: 0,
        events: true,
        stats: Default::default(),
        lang: switchboard_server::demo::DemoLang::Ru,
        recordings: None,
    };
    switchboard_server::demo::seed_demo(&gw.store, &options, &hash).await.unwrap();
    // A lead form with a lead, so its section and the lead's records have something to say.
    let form = gw
        .post(
            &gw.admin,
            "/api/lead-forms",
            json!({"name": "Окна-Эконом", "allowed_origins": ["*"]}),
        )
        .await;
    let token = form["token"].as_str().unwrap();
    let lead = reqwest::Client::new()
        .post(format!("{}/api/forms/{token}/leads", gw.base))
        .json(&json!({"name": "Пётр Лидов", "phone": "+79169998877", "utm_source": "yandex"}))
        .send()
        .await
        .unwrap();
    assert!(lead.status().is_success());
    gw.post(
        &gw.admin,
        "/api/webhooks",
        json!({"url": "http://127.0.0.1:9/hook", "events": ["lead.created"]}),
    )
    .await;
    let first = |list: Value| list["items"][0]["id"].as_str().unwrap().to_owned();
    let contact = first(gw.get(&gw.admin, "/api/contacts?limit=1").await);
    let company = first(gw.get(&gw.admin, "/api/companies?limit=1").await);
    let deal = first(gw.get(&gw.admin, "/api/deals?limit=1").await);
    let detail =
        [format!("/contacts/{contact}"), format!("/companies/{company}"), format!("/deals/{deal}")];
    let crm = ["/contacts", "/companies", "/deals", "/deals?view=list", "/tasks", "/callbacks"];
    let own = |extra: &[&str]| -> Vec<String> {
        crm.iter()
            .chain(extra)
            .map(|p| (*p).to_owned())
            .chain(detail.iter().cloned())
            .chain(["/console".to_owned(), "/account".to_owned()])
            .collect()
    };
    let Scene { scratch: _scratch, wav, caller_dir: _, mut driver } =
        Scene::new("browser-language");
    let mut report = Vec::new();
    let admin_pages = own(&[
        "/recordings",
        "/dashboard",
        "/wallboard",
        "/wallboard?tv=1",
        "/audit",
        "/import",
        "/admin",
        "/admin?section=forms",
        "/admin?section=webhooks",
        "/admin?section=settings",
        "/admin?section=stages",
        "/admin?section=products",
        "/admin?section=documents",
        "/reports",
    ]);
    let walks: [((&str, &str), Vec<String>); 4] = [
        (("admin", crate::harness::ADMIN_PASSWORD), admin_pages),
        (("manager", AGENT_PASSWORD), own(&["/dashboard", "/reports", "/recordings", "/import"])),
        (("supervisor1", AGENT_PASSWORD), own(&["/wallboard?tv=1", "/recordings", "/admin"])),
        (("agent01", AGENT_PASSWORD), own(&["/audit", "/reports"])),
    ];
    let shots: Vec<(String, &str)> = vec![
        ("/dashboard".into(), "dashboard-ru.png"),
        ("/wallboard?tv=1".into(), "wallboard-tv-ru.png"),
        ("/deals".into(), "deals-board-ru.png"),
        (format!("/contacts/{contact}"), "contact-card-ru.png"),
        ("/audit".into(), "audit-ru.png"),
        ("/reports".into(), "sales-reports-ru.png"),
    ];
    let mut loads = 0;
    for (i, (who, pages)) in walks.iter().enumerate() {
        loads += pages.len() * 2;
        let shots = if i == 0 { &shots[..] } else { &[] };
        report.extend(walk(&mut driver, &gw, &wav, *who, pages, shots).await);
    }
    driver.quit().await;
    gw.stop().await;
    assert!(
        report.is_empty(),
        "{} problems over {loads} page loads:\n{}",
        report.len(),
        report.join("\n")
    );
    eprintln!("{loads} page loads in Russian and English: nothing untranslated");
}
