//! Every word a user reads, from one message catalogue: Project Fluent files under
//! `crates/api/locales/<lang>/`, one per area, compiled into the binary. The server renders
//! pages and API errors through [`t`] and [`t_args`]; each page's script gets its language's
//! messages as JSON ([`table_json`]), where a message with arguments keeps them as `{name}`
//! and a plural message becomes its variants by CLDR category (`{"one": ..., "few": ...}`),
//! which `web/common.js` picks with `Intl.PluralRules`.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use serde::Serialize;
use unic_langid::LanguageIdentifier;

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Lang {
    En,
    Ru,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// The language of an API request: the user's saved choice, else the `sb_lang` cookie the
    /// pages set, else Accept-Language, else English.
    pub(crate) fn of_request(saved: Option<&str>, headers: &axum::http::HeaderMap) -> Lang {
        let cookie = crate::pages::cookie_value(headers, "sb_lang");
        let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Lang::choose(None, saved.or(cookie.as_deref()), accept)
    }

    /// `?lang=`, else the `sb_lang` cookie, else the first of Accept-Language we speak, else English.
    pub(crate) fn choose(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        let parse = |s: &str| match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("ru") => Some(Lang::Ru),
            Some("en") => Some(Lang::En),
            _ => None,
        };
        query
            .and_then(parse)
            .or_else(|| cookie.and_then(parse))
            .or_else(|| {
                accept.and_then(|a| {
                    a.split(',').find_map(|part| parse(part.split(';').next().unwrap_or("")))
                })
            })
            .unwrap_or(Lang::En)
    }
}

/// The catalogue's files, by area: (area, English, Russian).
const FILES: &[(&str, &str, &str)] = &[
    (
        "console",
        include_str!("../locales/en/console.ftl"),
        include_str!("../locales/ru/console.ftl"),
    ),
    ("crm", include_str!("../locales/en/crm.ftl"), include_str!("../locales/ru/crm.ftl")),
    ("admin", include_str!("../locales/en/admin.ftl"), include_str!("../locales/ru/admin.ftl")),
    (
        "callbacks",
        include_str!("../locales/en/callbacks.ftl"),
        include_str!("../locales/ru/callbacks.ftl"),
    ),
    ("errors", include_str!("../locales/en/errors.ftl"), include_str!("../locales/ru/errors.ftl")),
    ("sales", include_str!("../locales/en/sales.ftl"), include_str!("../locales/ru/sales.ftl")),
    ("system", include_str!("../locales/en/system.ftl"), include_str!("../locales/ru/system.ftl")),
];

/// One language's messages: the bundle that formats them, and the scripts' table.
struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    /// `{key: text | {category: text}}`, serialized once.
    table: String,
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static EN: OnceLock<Catalogue> = OnceLock::new();
    static RU: OnceLock<Catalogue> = OnceLock::new();
    let cell = if lang == Lang::Ru { &RU } else { &EN };
    cell.get_or_init(|| load(lang))
}

/// Parses one language's files. A syntax error or a message defined twice is a bug the unit
/// tests catch; here the faulty entry is left out rather than taking the server down.
fn load(lang: Lang) -> Catalogue {
    let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // The pages are left-to-right text and HTML; isolation marks would only get in the way
    // of copying and searching.
    bundle.set_use_isolating(false);
    let mut table = serde_json::Map::new();
    for (area, en, ru) in FILES {
        let source = if lang == Lang::Ru { *ru } else { *en };
        let resource =
            FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, errors)| {
                tracing::error!(
                    area,
                    lang = lang.code(),
                    ?errors,
                    "message catalogue has syntax errors"
                );
                partial
            });
        for entry in resource.entries() {
            if let ast::Entry::Message(ast::Message { id, value: Some(pattern), .. }) = entry {
                table.insert(id.name.to_owned(), script_form(pattern));
            }
        }
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(area, lang = lang.code(), ?errors, "message catalogue has duplicates");
        }
    }
    Catalogue { bundle, table: serde_json::Value::Object(table).to_string() }
}

/// A message as the scripts take it: text with `{name}` for each argument, or, for a message
/// that is one selection (a plural), its variants by key.
fn script_form(pattern: &ast::Pattern<&str>) -> serde_json::Value {
    if let [
        ast::PatternElement::Placeable { expression: ast::Expression::Select { variants, .. } },
    ] = pattern.elements.as_slice()
    {
        let forms: serde_json::Map<String, serde_json::Value> = variants
            .iter()
            .map(|v| {
                let key = match &v.key {
                    ast::VariantKey::Identifier { name } => *name,
                    ast::VariantKey::NumberLiteral { value } => *value,
                };
                (key.to_owned(), serde_json::Value::from(template(&v.value)))
            })
            .collect();
        return serde_json::Value::Object(forms);
    }
    serde_json::Value::from(template(pattern))
}

fn template(pattern: &ast::Pattern<&str>) -> String {
    let mut out = String::new();
    for element in &pattern.elements {
        match element {
            ast::PatternElement::TextElement { value } => out.push_str(value),
            ast::PatternElement::Placeable {
                expression: ast::Expression::Inline(ast::InlineExpression::VariableReference { id }),
            } => {
                out.push('{');
                out.push_str(id.name);
                out.push('}');
            }
            ast::PatternElement::Placeable {
                expression: ast::Expression::Inline(ast::InlineExpression::StringLiteral { value }),
            } => out.push_str(value),
            // Selections inside a longer text are for the server's own formatting.
            ast::PatternElement::Placeable { .. } => out.push('…'),
        }
    }
    out
}

/// Whether the catalogue has `key`.
pub(crate) fn has(key: &str) -> bool {
    catalogue(Lang::En).bundle.has_message(key)
}

/// The message `key` in `lang`; the key itself when there is no such message (which the
/// language test then finds on the page).
pub(crate) fn t(lang: Lang, key: &str) -> String {
    t_args(lang, key, &[])
}

/// The message `key` with its arguments: strings, or numbers (which pick a plural form).
pub(crate) fn t_args(lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
    let bundle = &catalogue(lang).bundle;
    let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
        return key.to_owned();
    };
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        match value {
            Arg::Text(s) => fluent.set(*name, FluentValue::from(s.as_str())),
            Arg::Number(n) => fluent.set(*name, FluentValue::from(*n)),
        }
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&fluent), &mut errors).into_owned();
    if !errors.is_empty() {
        tracing::warn!(key, lang = lang.code(), ?errors, "message formatted with errors");
    }
    text
}

/// An argument of a message.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Shown as is.
    Text(String),
    /// Shown as a number, and picks the plural form.
    Number(i64),
}

/// The whole catalogue of one language, as a JSON object for the pages' scripts.
pub(crate) fn table_json(lang: Lang) -> &'static str {
    &catalogue(lang).table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_query_cookie_or_header() {
        assert_eq!(Lang::choose(Some("ru"), None, None), Lang::Ru);
        assert_eq!(Lang::choose(None, Some("ru"), Some("en-US")), Lang::Ru);
        assert_eq!(Lang::choose(None, None, Some("ru-RU,ru;q=0.9,en;q=0.8")), Lang::Ru);
        assert_eq!(Lang::choose(None, None, Some("de-DE,en;q=0.5")), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), None, None), Lang::En);
    }

    #[test]
    fn every_message_parses_and_is_in_both_languages() {
        for (area, en, ru) in FILES {
            for source in [en, ru] {
                if let Err((_, errors)) = FluentResource::try_new((*source).to_owned()) {
                    panic!("{area}: {errors:?}");
                }
            }
        }
        for lang in [Lang::En, Lang::Ru] {
            let mut bundle = FluentBundle::new_concurrent(Vec::<LanguageIdentifier>::new());
            for (area, en, ru) in FILES {
                let source = if lang == Lang::Ru { ru } else { en };
                let resource = FluentResource::try_new((*source).to_owned()).unwrap();
                if let Err(errors) = bundle.add_resource(resource) {
                    panic!("{area} ({lang:?}) defines a message again: {errors:?}");
                }
            }
        }
        let keys = |lang| -> Vec<String> {
            let table: serde_json::Value = serde_json::from_str(table_json(lang)).unwrap();
            table.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(Lang::En), keys(Lang::Ru), "the catalogues have different messages");
        assert_eq!(t(Lang::Ru, "answer"), "Ответить");
        assert_eq!(t(Lang::En, "no_such_message"), "no_such_message");
    }

    #[test]
    fn plurals_follow_each_language() {
        let rows = |lang, n| t_args(lang, "rows", &[("count", Arg::Number(n))]);
        assert_eq!(rows(Lang::Ru, 1), "1 строка");
        assert_eq!(rows(Lang::Ru, 2), "2 строки");
        assert_eq!(rows(Lang::Ru, 5), "5 строк");
        assert_eq!(rows(Lang::Ru, 21), "21 строка");
        assert_eq!(rows(Lang::En, 1), "1 row");
        assert_eq!(rows(Lang::En, 5), "5 rows");
        let table: serde_json::Value = serde_json::from_str(table_json(Lang::Ru)).unwrap();
        assert_eq!(table["rows"]["few"], "{count} строки");
        assert_eq!(table["answer"], "Ответить");
    }

    /// Every `w.key` a page script reads is in the tables, so no label shows as `undefined`.
    #[test]
    fn every_word_the_scripts_use_exists() {
        let known: std::collections::HashSet<String> = serde_json::from_str::<
            serde_json::Map<String, serde_json::Value>,
        >(table_json(Lang::En))
        .unwrap()
        .keys()
        .cloned()
        .collect();
        let mut missing = Vec::new();
        for (file, text) in crate::pages::ASSETS.iter().filter(|(name, _)| name.ends_with(".js")) {
            let bytes = text.as_bytes();
            for (at, _) in text.match_indices("w.") {
                let before = if at == 0 { b' ' } else { bytes[at - 1] };
                if before.is_ascii_alphanumeric()
                    || before == b'_'
                    || before == b'.'
                    || before == b'$'
                {
                    continue;
                }
                let key: String = text[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() && !known.contains(key.as_str()) {
                    missing.push(format!("{file}: {key}"));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "words missing from the tables: {missing:#?}");
    }
}
