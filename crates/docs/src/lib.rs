//! Documents from templates: a commercial offer, an invoice, a contract or an act is a typst
//! source an administrator edits, with `{{placeholders}}` for the seller's and the client's
//! requisites, the deal, its lines and totals. [`fill`] puts the values in (each as a typst
//! string, so nothing a client typed can run as markup); [`render`] compiles the result to
//! PDF in-process with typst and the DejaVu Sans fonts shipped in `fonts/` (Cyrillic, tables;
//! no browser, no files read at run time).
#![deny(missing_docs)]

pub mod words;
mod world;

use std::collections::BTreeMap;

pub use words::amount_in_words;

/// Every placeholder a template may use, with what it holds.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("doc.title", "the document's kind as its title (Счёт на оплату)"),
    ("doc.number", "its number, per kind and year"),
    ("doc.date", "its date, dd.mm.yyyy"),
    ("seller.name", "our company's name"),
    ("seller.inn", "our ИНН"),
    ("seller.kpp", "our КПП"),
    ("seller.ogrn", "our ОГРН"),
    ("seller.address", "our address"),
    ("seller.bank", "our bank"),
    ("seller.bik", "our bank's БИК"),
    ("seller.account", "our settlement account"),
    ("seller.corr_account", "our bank's correspondent account"),
    ("seller.director", "who signs for us"),
    ("seller.phone", "our phone"),
    ("seller.email", "our email"),
    ("client.name", "the client: the deal's company, else its contact"),
    ("client.inn", "the client's ИНН"),
    ("client.kpp", "the client's КПП"),
    ("client.ogrn", "the client's ОГРН"),
    ("client.address", "the client's address"),
    ("client.bank", "the client's bank"),
    ("client.bik", "the client's bank's БИК"),
    ("client.account", "the client's settlement account"),
    ("client.corr_account", "the client's bank's correspondent account"),
    ("client.person", "the contact person"),
    ("client.phone", "the contact's phone"),
    ("client.email", "the contact's email"),
    ("deal.title", "the deal"),
    ("manager.name", "the deal's owner"),
    ("items", "the table of the deal's lines"),
    ("subtotal", "the lines at full price"),
    ("discount", "the discount given"),
    ("vat", "the VAT"),
    ("vat_line", "the VAT line: «В том числе НДС 22 %: …» or «Без НДС»"),
    ("total", "what the client pays"),
    ("total_in_words", "the total in words"),
    ("currency", "the currency's code"),
];

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{name}}` that is not in [`PLACEHOLDERS`].
    #[error("unknown placeholder {{{{{name}}}}} on line {line}")]
    Unknown {
        /// The name as written.
        name: String,
        /// Its line, from 1.
        line: usize,
    },
    /// `{{` without its `}}`.
    #[error("a placeholder opened on line {line} is not closed")]
    Unclosed {
        /// The line, from 1.
        line: usize,
    },
    /// The template does not compile (with sample values).
    #[error("the template does not compile: {0}")]
    Render(String),
}

/// A document's table of lines: headers and cells as they are printed, in the template's
/// language; `numeric` columns are aligned right.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemsTable {
    /// Column headers.
    pub headers: Vec<String>,
    /// Which columns hold numbers.
    pub numeric: Vec<bool>,
    /// The rows' cells.
    pub rows: Vec<Vec<String>>,
}

/// The values a template is filled with: every placeholder but `items` by name, and the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    /// Placeholder name to text (missing ones print as nothing).
    pub fields: BTreeMap<String, String>,
    /// The lines.
    pub items: ItemsTable,
}

/// The `{{name}}`s of `source` with their lines, in order.
fn placeholders(source: &str) -> Result<Vec<(usize, usize, String, usize)>, TemplateError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = source[at..].find("{{").map(|i| i + at) {
        let line = source[..start].matches('\n').count() + 1;
        let Some(end) = source[start + 2..].find("}}").map(|i| i + start + 2) else {
            return Err(TemplateError::Unclosed { line });
        };
        out.push((start, end + 2, source[start + 2..end].trim().to_owned(), line));
        at = end + 2;
    }
    Ok(out)
}

/// A typst string literal holding `text` exactly.
fn typst_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn items_table(table: &ItemsTable) -> String {
    let columns = table.headers.len().max(1);
    let align: Vec<&str> = (0..columns)
        .map(|i| if table.numeric.get(i).copied().unwrap_or(false) { "right" } else { "left" })
        .collect();
    // The second column (the name) takes the width the others leave.
    let widths: Vec<&str> = (0..columns).map(|i| if i == 1 { "1fr" } else { "auto" }).collect();
    let mut out = format!(
        "#table(columns: ({},), align: ({},), stroke: 0.5pt, inset: 4pt,\n",
        widths.join(", "),
        align.join(", ")
    );
    out.push_str("  table.header(");
    for header in &table.headers {
        out.push_str(&format!("[*#{};*], ", typst_string(header)));
    }
    out.push_str("),\n");
    for row in &table.rows {
        out.push_str("  ");
        for i in 0..columns {
            out.push_str(&format!("[#{};], ", typst_string(row.get(i).map_or("", String::as_str))));
        }
        out.push('\n');
    }
    out.push_str(")\n");
    out
}

/// Checks that every placeholder of `source` is known.
pub fn check_placeholders(source: &str) -> Result<(), TemplateError> {
    for (_, _, name, line) in placeholders(source)? {
        if !PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
            return Err(TemplateError::Unknown { name, line });
        }
    }
    Ok(())
}

/// The typst source with the values in: each value as a string expression (`#"…";`), the
/// table as a `#table`.
pub fn fill(source: &str, values: &Values) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(source.len() * 2);
    let mut at = 0;
    for (start, end, name, line) in placeholders(source)? {
        out.push_str(&source[at..start]);
        if name == "items" {
            out.push_str(&items_table(&values.items));
        } else if PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
            let value = values.fields.get(&name).map_or("", String::as_str);
            out.push('#');
            out.push_str(&typst_string(value));
            out.push(';');
        } else {
            return Err(TemplateError::Unknown { name, line });
        }
        at = end;
    }
    out.push_str(&source[at..]);
    Ok(out)
}

/// Why a document could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The template is wrong.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// typst refused the source (the first errors, with their lines).
    #[error("{0}")]
    Typst(String),
}

/// Renders `template` filled with `values` to PDF bytes.
pub fn render(template: &str, values: &Values) -> Result<Vec<u8>, RenderError> {
    let source = fill(template, values)?;
    world::pdf(&source).map_err(RenderError::Typst)
}

/// Sample values for checking a template before it is saved.
pub fn sample_values() -> Values {
    let mut fields: BTreeMap<String, String> =
        PLACEHOLDERS.iter().map(|(name, _)| ((*name).to_owned(), format!("«{name}»"))).collect();
    fields.insert("total_in_words".into(), amount_in_words(2_196_000, "RUB"));
    Values {
        fields,
        items: ItemsTable {
            headers: ["№", "Наименование", "Кол-во", "Ед.", "Цена", "Сумма"]
                .map(String::from)
                .to_vec(),
            numeric: vec![true, false, true, false, true, true],
            rows: vec![
                ["1", "Окно ПВХ", "2", "шт", "12 200,00", "24 400,00"].map(String::from).to_vec(),
            ],
        },
    }
}

/// Checks a template as it is saved: known placeholders, and it compiles with sample values.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    check_placeholders(template)?;
    match render(template, &sample_values()) {
        Ok(_) => Ok(()),
        Err(RenderError::Template(e)) => Err(e),
        Err(RenderError::Typst(message)) => Err(TemplateError::Render(message)),
    }
}

/// The templates a fresh install starts with: (kind, Russian name, source).
pub const DEFAULT_TEMPLATES: &[(&str, &str, &str)] = &[
    ("offer", "Коммерческое предложение", include_str!("../templates/offer.typ")),
    ("invoice", "Счёт на оплату", include_str!("../templates/invoice.typ")),
    ("contract", "Договор поставки", include_str!("../templates/contract.typ")),
    ("act", "Акт выполненных работ", include_str!("../templates/act.typ")),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_unclosed_placeholders_are_named() {
        assert_eq!(
            check_placeholders("Счёт\n{{client.name}} {{client.nmae}}"),
            Err(TemplateError::Unknown { name: "client.nmae".into(), line: 2 })
        );
        assert_eq!(check_placeholders("a\nb {{total"), Err(TemplateError::Unclosed { line: 2 }));
        assert_eq!(check_placeholders("{{ total }} {{items}}"), Ok(()));
    }

    #[test]
    fn values_cannot_become_markup() {
        let mut values = Values::default();
        values
            .fields
            .insert("client.name".into(), "ООО \"Ромашка\" #set page(width: 1pt) \\ [x]".into());
        let filled = fill("Клиент: {{client.name}}.", &values).unwrap();
        assert_eq!(filled, "Клиент: #\"ООО \\\"Ромашка\\\" #set page(width: 1pt) \\\\ [x]\";.");
    }

    #[test]
    fn every_default_template_renders() {
        for (kind, _, source) in DEFAULT_TEMPLATES {
            check_template(source).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }

    #[test]
    fn a_broken_template_is_refused_with_typsts_reason() {
        let err = check_template("#let x = (\n{{total}}").unwrap_err();
        assert!(matches!(err, TemplateError::Render(_)), "{err:?}");
    }
}

/// Money as Russian documents print it: `21 960,00` (thin spaces between thousands).
pub fn money(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02}", minor % 100)
}

/// A date as `dd.mm.yyyy` and its year, for an instant (epoch ms) at an offset from UTC (ms).
pub fn date(epoch_ms: i64, offset_ms: i64) -> (String, i64) {
    let (y, m, d) = switchboard_core::recording::civil_date(epoch_ms + offset_ms);
    (format!("{d:02}.{m:02}.{y}"), y)
}

#[cfg(test)]
mod format_tests {
    #[test]
    fn money_and_dates_print_the_russian_way() {
        assert_eq!(super::money(2_196_000), "21\u{202f}960,00");
        assert_eq!(super::money(5), "0,05");
        assert_eq!(super::money(12_345_678_901), "123\u{202f}456\u{202f}789,01");
        assert_eq!(super::date(1_796_547_600_000, 0), ("06.12.2026".to_owned(), 2026));
        // 31 December 22:00 UTC is already New Year in Moscow.
        assert_eq!(super::date(1_798_754_400_000, 3 * 3_600_000), ("01.01.2027".to_owned(), 2027));
    }
}
