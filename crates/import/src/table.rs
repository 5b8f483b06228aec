//! Reading a sheet into header + rows of text, with each row's line number.

use std::io::{Read, Seek};
use std::path::Path;

use calamine::{Data, Reader, Sheets, open_workbook_auto, open_workbook_auto_from_rs};

use crate::ImportError;

/// A sheet as text: the header row and the data rows with their line numbers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Header cells, trimmed.
    pub headers: Vec<String>,
    /// (line number, cells) for each data row; the header is line 1.
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Reads a CSV (comma, semicolon or tab separated, UTF-8 with or without BOM) or the first
/// sheet of an XLSX/XLS/ODS workbook.
pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    match kind_of(&path.display().to_string())? {
        Kind::Csv => read_csv(&std::fs::read(path).map_err(|e| io_error(path, e))?),
        Kind::Workbook => read_workbook(open_workbook_auto(path).map_err(|e| ImportError::Sheet(e.to_string()))?),
    }
}

/// [`read_table`] for a file already in memory (an upload); `name` gives the type by its
/// extension.
pub fn read_table_bytes(name: &str, bytes: &[u8]) -> Result<Table, ImportError> {
    match kind_of(name)? {
        Kind::Csv => read_csv(bytes),
        Kind::Workbook => read_workbook(open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| ImportError::Sheet(e.to_string()))?),
    }
}

enum Kind {
    Csv,
    Workbook,
}

fn kind_of(name: &str) -> Result<Kind, ImportError> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Ok(Kind::Csv),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Ok(Kind::Workbook),
        other => Err(ImportError::UnsupportedType(other.to_owned())),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io { path: path.display().to_string(), source }
}

fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).into_owned();
    // Russian Excel writes CSV with semicolons; guess the delimiter from the header line.
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = [b';', b'\t', b','].into_iter().max_by_key(|d| first_line.bytes().filter(|b| b == d).count()).filter(|d| first_line.as_bytes().contains(d)).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut table = Table::default();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    while reader.read_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if first {
            table.headers = cells;
            first = false;
        } else {
            table.rows.push((line, cells));
        }
    }
    Ok(table)
}

fn read_workbook<RS: Read + Seek>(mut workbook: Sheets<RS>) -> Result<Table, ImportError> {
    let range = workbook.worksheet_range_at(0).ok_or_else(|| ImportError::Sheet("the workbook has no sheets".into()))?.map_err(|e| ImportError::Sheet(e.to_string()))?;
    let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
    let mut table = Table::default();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        let line = first_row + i as u64 + 1;
        if i == 0 {
            table.headers = cells;
        } else {
            table.rows.push((line, cells));
        }
    }
    Ok(table)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        // Phone numbers typed into Excel become numbers: print them without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel serial date -> YYYY-MM-DD (the 1900 system; good for dates after 1900-03-01).
            let days = dt.as_f64().floor() as i64;
            match time::Date::from_julian_day(2_415_019 + days as i32) {
                Ok(date) => format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day()),
                Err(_) => dt.as_f64().to_string(),
            }
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}
