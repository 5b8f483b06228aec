//! Reading and writing contact spreadsheets (CSV, XLSX, ODS).
//!
//! Columns are recognised by their header in English or Russian ("Phone", "Телефон",
//! "ФИО", ...) or by a custom field's key or label. Every data row either becomes a
//! [`ParsedRow`] or a [`Rejection`] with its line number and reason: nothing is dropped
//! silently. Writing to the store (dedupe, merge) is the store's job; this crate only reads
//! and writes files.
#![deny(missing_docs)]

mod columns;
mod export;
mod pipeline;
mod sheet;
mod table;

use switchboard_core::text::normalize_email;
use switchboard_core::{CustomFieldDef, PhoneNumber, Region};
use switchboard_store::{NewContact, NewPhone};

pub use columns::{ColumnMap, TARGET_KEYS, Target};
pub use export::{EXPORT_HEADERS, ExportRow, contact_cells, contact_headers, write_contacts};
pub use pipeline::{
    ImportOptions, ImportSummary, ReportLine, check_rows, contact_fields, import_batch,
    import_table,
};
pub use sheet::{Cell, SheetFormat, SheetLocale, sheet_bytes, timestamp};
pub use table::{CsvFormat, CsvOptions, Table, read_table, read_table_bytes};

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The extension is not .csv, .xlsx, .xls or .ods.
    #[error("unsupported file type {0:?} (expected .csv, .xlsx, .xls or .ods)")]
    UnsupportedType(String),
    /// The CSV is malformed.
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    /// The workbook is malformed.
    #[error("spreadsheet error: {0}")]
    Sheet(String),
    /// The header row has no column we can use.
    #[error(
        "no usable columns: the header must name at least a phone, an email or a name column (found: {0})"
    )]
    NoUsableColumns(String),
    /// A column mapping chosen by hand is wrong.
    #[error("column {column}: {reason}")]
    Mapping {
        /// The column's index (0-based).
        column: usize,
        /// Why.
        reason: String,
    },
    /// An option given for reading the file is not one we know.
    #[error("unknown {option} {value:?}")]
    BadOption {
        /// `encoding` or `separator`.
        option: &'static str,
        /// What was given.
        value: String,
    },
    /// The default owner named for the import is not a user.
    #[error("no user with login {0}")]
    UnknownOwner(String),
    /// The store refused a batch.
    #[error(transparent)]
    Store(#[from] switchboard_store::StoreError),
    /// A batch's task died.
    #[error("import task failed: {0}")]
    Task(String),
    /// Writing an export failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        reason: String,
    },
}

/// One data row that parsed.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    /// Line number in the file (the header is line 1).
    pub line: u64,
    /// The contact (owner and company are resolved by the caller from the names below).
    pub contact: NewContact,
    /// Company name, if the row has one.
    pub company_name: Option<String>,
    /// Owner login, if the row has one.
    pub owner_login: Option<String>,
}

/// One data row that did not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// Line number in the file.
    pub line: u64,
    /// The column at fault (its header).
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Parses one data row. Fully blank rows yield `Ok(None)`.
pub fn parse_row(
    map: &ColumnMap,
    line: u64,
    cells: &[String],
    region: Region,
) -> Result<Option<ParsedRow>, Rejection> {
    if cells.iter().all(|c| c.trim().is_empty()) {
        return Ok(None);
    }
    let mut contact = NewContact::default();
    let mut company_name = None;
    let mut owner_login = None;
    for (index, target) in map.targets.iter().enumerate() {
        let Some(value) = cells.get(index).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        let header = &map.headers[index];
        let reject = |reason: String| Rejection { line, field: header.clone(), reason };
        match target {
            Target::FirstName => contact.first_name = value.to_owned(),
            Target::LastName => contact.last_name = value.to_owned(),
            Target::MiddleName => contact.middle_name = value.to_owned(),
            Target::FullName => split_full_name(value, &mut contact),
            Target::Phone(kind) => {
                for part in split_multi(value) {
                    let number =
                        PhoneNumber::parse(part, region).map_err(|e| reject(e.to_string()))?;
                    if !contact.phones.iter().any(|p| p.number == number) {
                        contact.phones.push(NewPhone { number, kind: *kind });
                    }
                }
            }
            Target::Email => {
                for part in split_multi(value) {
                    let email = normalize_email(part).map_err(|e| reject(e.to_string()))?;
                    if !contact.emails.contains(&email) {
                        contact.emails.push(email);
                    }
                }
            }
            Target::Company => company_name = Some(value.to_owned()),
            Target::Position => contact.position = Some(value.to_owned()),
            Target::Owner => owner_login = Some(value.to_owned()),
            Target::Custom(def) => {
                def.validate(&serde_json::Value::String(value.to_owned()))
                    .map_err(|e| reject(e.to_string()))?;
                contact.custom.insert(def.key.clone(), serde_json::Value::String(value.to_owned()));
            }
            Target::Ignore => {}
        }
    }
    if contact.phones.is_empty()
        && contact.emails.is_empty()
        && contact.first_name.is_empty()
        && contact.last_name.is_empty()
    {
        return Err(Rejection {
            line,
            field: "*".into(),
            reason: "no name, phone or email".into(),
        });
    }
    Ok(Some(ParsedRow { line, contact, company_name, owner_login }))
}

/// Splits a cell holding several values: `+7 916 ..., 8 495 ...` or one per line.
fn split_multi(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ';', '\n', '|']).map(str::trim).filter(|s| !s.is_empty())
}

/// "Иванов Иван Иванович" (Cyrillic: family name first) or "John Smith" (given name first).
fn split_full_name(value: &str, contact: &mut NewContact) {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let cyrillic = value.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    match (cyrillic, parts.as_slice()) {
        (_, [one]) => contact.first_name = (*one).to_owned(),
        (true, [last, first, rest @ ..]) => {
            contact.last_name = (*last).to_owned();
            contact.first_name = (*first).to_owned();
            contact.middle_name = rest.join(" ");
        }
        (false, [first, middle @ .., last]) => {
            contact.first_name = (*first).to_owned();
            contact.middle_name = middle.join(" ");
            contact.last_name = (*last).to_owned();
        }
        _ => {}
    }
}

/// Builds the column map for a header row (see [`ColumnMap::from_headers`]).
pub fn map_columns(
    headers: &[String],
    custom: &[CustomFieldDef],
) -> Result<ColumnMap, ImportError> {
    ColumnMap::from_headers(headers, custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::entity::PhoneKind;

    fn map(headers: &[&str]) -> ColumnMap {
        ColumnMap::from_headers(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(), &[])
            .unwrap()
    }

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn russian_headers_and_full_name() {
        let m = map(&["ФИО", "Телефон", "E-mail", "Компания", "Должность"]);
        let row = parse_row(
            &m,
            2,
            &cells(&[
                "Иванов Иван Иванович",
                "8 (916) 123-45-67, +7 495 123 45 67 доб. 5",
                "Ivan@X.ru",
                "ООО Ромашка",
                "директор",
            ]),
            Region::RU,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                row.contact.last_name.as_str(),
                row.contact.first_name.as_str(),
                row.contact.middle_name.as_str()
            ),
            ("Иванов", "Иван", "Иванович")
        );
        assert_eq!(row.contact.phones.len(), 2);
        assert_eq!(row.contact.phones[1].number.extension(), Some("5"));
        assert_eq!(row.contact.emails, vec!["ivan@x.ru".to_owned()]);
        assert_eq!(row.company_name.as_deref(), Some("ООО Ромашка"));
    }

    #[test]
    fn english_headers() {
        let m = map(&[
            "First Name",
            "Last Name",
            "Mobile phone",
            "Work phone",
            "Email",
            "Something else",
        ]);
        assert_eq!(m.ignored(), vec!["Something else".to_owned()]);
        let row = parse_row(
            &m,
            3,
            &cells(&["John", "Smith", "+44 20 7946 0958", "", "j@s.com", "x"]),
            Region::RU,
        )
        .unwrap()
        .unwrap();
        assert_eq!(row.contact.phones[0].kind, PhoneKind::Mobile);
        assert_eq!(row.contact.first_name, "John");
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let m = map(&["Имя", "Телефон", "Почта"]);
        let err = parse_row(&m, 7, &cells(&["Пётр", "12345", ""]), Region::RU).unwrap_err();
        assert_eq!((err.line, err.field.as_str()), (7, "Телефон"));
        assert!(err.reason.contains("12345"));
        let err = parse_row(&m, 8, &cells(&["Пётр", "", "not-an-email"]), Region::RU).unwrap_err();
        assert_eq!(err.field, "Почта");
        assert!(parse_row(&m, 9, &cells(&["", "", ""]), Region::RU).unwrap().is_none());
    }

    #[test]
    fn unusable_header_is_an_error() {
        let err =
            ColumnMap::from_headers(&["foo".to_string(), "bar".to_string()], &[]).unwrap_err();
        assert!(matches!(err, ImportError::NoUsableColumns(_)));
    }
}
