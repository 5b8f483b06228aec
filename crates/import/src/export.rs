//! Writing contacts to CSV or XLSX, in a layout the import reads back.

use std::path::Path;

use switchboard_core::entity::Contact;

use crate::ImportError;

/// A contact with the names its ids point to.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The contact.
    pub contact: Contact,
    /// Its company's name.
    pub company: Option<String>,
    /// Its owner's login.
    pub owner_login: Option<String>,
}

/// The header row; custom field keys follow as `custom.<key>`.
pub const EXPORT_HEADERS: &[&str] = &[
    "id",
    "last_name",
    "first_name",
    "middle_name",
    "phones",
    "emails",
    "company",
    "position",
    "owner",
    "created_at",
];

/// The header row for contacts with these custom fields.
pub fn contact_headers(custom_keys: &[String]) -> Vec<String> {
    EXPORT_HEADERS
        .iter()
        .map(|h| (*h).to_owned())
        .chain(custom_keys.iter().map(|k| format!("custom.{k}")))
        .collect()
}

/// One contact's cells, in the order of [`contact_headers`].
pub fn contact_cells(row: &ExportRow, custom_keys: &[String]) -> Vec<String> {
    let c = &row.contact;
    let phones: Vec<String> = c
        .phones
        .iter()
        .map(|p| match &p.extension {
            Some(ext) => format!("{} ext. {ext}", p.number),
            None => p.number.clone(),
        })
        .collect();
    let mut out = vec![
        c.id.clone(),
        c.last_name.clone(),
        c.first_name.clone(),
        c.middle_name.clone(),
        phones.join(", "),
        c.emails.join(", "),
        row.company.clone().unwrap_or_default(),
        c.position.clone().unwrap_or_default(),
        row.owner_login.clone().unwrap_or_default(),
        crate::sheet::timestamp(c.created_at),
    ];
    for key in custom_keys {
        out.push(match c.custom.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        });
    }
    out
}

/// Writes rows pulled from `next_batch` until it returns an empty batch; returns how many
/// were written. The format follows the extension (.csv or .xlsx).
pub fn write_contacts(
    path: &Path,
    custom_keys: &[String],
    mut next_batch: impl FnMut() -> Result<Vec<ExportRow>, ImportError>,
) -> Result<u64, ImportError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let write_err =
        |reason: String| ImportError::Write { path: path.display().to_string(), reason };
    let headers = contact_headers(custom_keys);
    let mut count = 0u64;
    match ext.as_str() {
        "csv" => {
            let mut writer = csv::Writer::from_path(path).map_err(|e| write_err(e.to_string()))?;
            writer.write_record(&headers)?;
            loop {
                let batch = next_batch()?;
                if batch.is_empty() {
                    break;
                }
                for row in &batch {
                    writer.write_record(contact_cells(row, custom_keys))?;
                    count += 1;
                }
            }
            writer.flush().map_err(|e| write_err(e.to_string()))?;
        }
        "xlsx" => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            for (col, header) in headers.iter().enumerate() {
                sheet.write_string(0, col as u16, header).map_err(|e| write_err(e.to_string()))?;
            }
            loop {
                let batch = next_batch()?;
                if batch.is_empty() {
                    break;
                }
                for row in &batch {
                    count += 1;
                    let line = u32::try_from(count)
                        .map_err(|_| write_err("too many rows for XLSX".into()))?;
                    for (col, value) in contact_cells(row, custom_keys).iter().enumerate() {
                        sheet
                            .write_string(line, col as u16, value)
                            .map_err(|e| write_err(e.to_string()))?;
                    }
                }
            }
            workbook.save(path).map_err(|e| write_err(e.to_string()))?;
        }
        other => return Err(ImportError::UnsupportedType(other.to_owned())),
    }
    Ok(count)
}
