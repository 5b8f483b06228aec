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
    /// How a CSV was read (none for a workbook).
    pub csv: Option<CsvFormat>,
}

/// How a CSV file was read: detected, or as the user said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFormat {
    /// The text encoding's name (`UTF-8`, `windows-1251`, `KOI8-R`, `IBM866`, `UTF-16LE` ...).
    pub encoding: &'static str,
    /// The separator: `,`, `;` or a tab.
    pub separator: char,
}

/// What the user says of a CSV file when the detection got it wrong; `None` detects.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    /// The text encoding.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// The separator byte.
    pub separator: Option<u8>,
}

impl CsvOptions {
    /// Options from an encoding label (`utf-8`, `windows-1251`, `cp1251`, `koi8-r` ...; any
    /// WHATWG label) and a separator (`,`, `;`, `tab`); empty strings detect.
    pub fn parse(
        encoding: Option<&str>,
        separator: Option<&str>,
    ) -> Result<CsvOptions, ImportError> {
        let encoding = match encoding.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(label) => {
                Some(encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
                    ImportError::BadOption { option: "encoding", value: label.to_owned() }
                })?)
            }
        };
        let separator = match separator {
            None | Some("") => None,
            Some(",") => Some(b','),
            Some(";") => Some(b';'),
            Some("tab" | "\t") => Some(b'\t'),
            Some(other) => {
                return Err(ImportError::BadOption {
                    option: "separator",
                    value: other.to_owned(),
                });
            }
        };
        Ok(CsvOptions { encoding, separator })
    }
}

/// Reads a CSV (comma, semicolon or tab separated; UTF-8, UTF-16 with a BOM, or a Russian
/// 8-bit encoding such as Windows-1251, detected) or the first sheet of an XLSX/XLS/ODS
/// workbook.
pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    match kind_of(&path.display().to_string())? {
        Kind::Csv => {
            read_csv(&std::fs::read(path).map_err(|e| io_error(path, e))?, CsvOptions::default())
        }
        Kind::Workbook => {
            read_workbook(open_workbook_auto(path).map_err(|e| ImportError::Sheet(e.to_string()))?)
        }
    }
}

/// [`read_table`] for a file already in memory (an upload); `name` gives the type by its
/// extension, `csv` what the user said of a CSV's encoding and separator.
pub fn read_table_bytes(name: &str, bytes: &[u8], csv: CsvOptions) -> Result<Table, ImportError> {
    match kind_of(name)? {
        Kind::Csv => read_csv(bytes, csv),
        Kind::Workbook => read_workbook(
            open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
                .map_err(|e| ImportError::Sheet(e.to_string()))?,
        ),
    }
}

/// The 8-bit encodings Russian files come in, most common first: Excel on Windows writes
/// Windows-1251, old Unix systems KOI8-R, DOS programs IBM866.
const RUSSIAN_8BIT: [&encoding_rs::Encoding; 3] =
    [encoding_rs::WINDOWS_1251, encoding_rs::KOI8_R, encoding_rs::IBM866];

/// How readable `text` is as Russian or English: lower-case letters count for, anything
/// non-ASCII that is not a letter against. Decoded in the wrong 8-bit encoding, Cyrillic
/// comes out as upper-case letters and symbols (KOI8-R and Windows-1251 swap the cases).
fn readability(text: &str) -> i64 {
    text.chars()
        .filter(|c| !c.is_ascii())
        .map(|c| match c {
            c if c.is_lowercase() => 2,
            c if c.is_alphabetic() => 0,
            '№' | '«' | '»' | '—' | '–' | '…' | '\u{a0}' => 0,
            _ => -3,
        })
        .sum()
}

/// The text of a CSV file and the encoding it was read in: the user's, a BOM's, UTF-8 when
/// it is valid UTF-8, else the Russian 8-bit encoding that reads best.
fn decode(
    bytes: &[u8],
    wanted: Option<&'static encoding_rs::Encoding>,
) -> (String, &'static encoding_rs::Encoding) {
    if let Some(encoding) = wanted {
        let (text, _, _) = encoding.decode(bytes);
        return (text.into_owned(), encoding);
    }
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), encoding);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), encoding_rs::UTF_8);
    }
    RUSSIAN_8BIT
        .iter()
        .map(|encoding| (encoding.decode_without_bom_handling(bytes).0.into_owned(), *encoding))
        .max_by_key(|(text, _)| readability(text))
        .unwrap_or_else(|| (String::from_utf8_lossy(bytes).into_owned(), encoding_rs::UTF_8))
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

fn read_csv(bytes: &[u8], options: CsvOptions) -> Result<Table, ImportError> {
    let (text, encoding) = decode(bytes, options.encoding);
    let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
    // Russian Excel writes CSV with semicolons; guess the delimiter from the header line.
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = options.separator.unwrap_or_else(|| {
        [b';', b'\t', b',']
            .into_iter()
            .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
            .filter(|d| first_line.as_bytes().contains(d))
            .unwrap_or(b',')
    });
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut table = Table {
        csv: Some(CsvFormat { encoding: encoding.name(), separator: char::from(delimiter) }),
        ..Table::default()
    };
    let mut record = csv::StringRecord::new();
    let mut first = true;
    // The csv crate's own line numbers are off after CRLF line ends (what Excel writes) and
    // blank lines; the line is counted here from the record's byte offset instead.
    let (mut counted_to, mut line) = (0usize, 1u64);
    while reader.read_record(&mut record)? {
        let mut start = record
            .position()
            .map_or(counted_to, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .clamp(counted_to, text.len());
        // After a CR the record's offset points at the LF that ends the line before it.
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        line += text.as_bytes()[counted_to..start].iter().filter(|&&b| b == b'\n').count() as u64;
        counted_to = start;
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
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::Sheet("the workbook has no sheets".into()))?
        .map_err(|e| ImportError::Sheet(e.to_string()))?;
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
                Ok(date) => {
                    format!("{:04}-{:02}-{:02}", date.year(), date.month() as u8, date.day())
                }
                Err(_) => dt.as_f64().to_string(),
            }
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{CsvOptions, read_csv};

    fn lines(text: &str) -> Vec<u64> {
        read_csv(text.as_bytes(), CsvOptions::default()).unwrap().rows.iter().map(|r| r.0).collect()
    }

    const SAMPLE: &str = "Фамилия;Имя;Телефон;Компания\r\nИванов;Пётр;8 (916) 123-45-67;ООО Ромашка\r\nСидорова;Анна;+7 903 111 22 33;\r\n";

    #[test]
    fn russian_excel_csv_is_read_in_its_encoding() {
        for (encoding, name) in [
            (encoding_rs::WINDOWS_1251, "windows-1251"),
            (encoding_rs::KOI8_R, "KOI8-R"),
            (encoding_rs::IBM866, "IBM866"),
            (encoding_rs::UTF_8, "UTF-8"),
        ] {
            let (bytes, _, unmappable) = encoding.encode(SAMPLE);
            assert!(!unmappable, "{name}");
            let table = read_csv(&bytes, CsvOptions::default()).unwrap();
            let format = table.csv.clone().unwrap();
            assert_eq!((format.encoding, format.separator), (name, ';'), "{name}");
            assert_eq!(table.headers, ["Фамилия", "Имя", "Телефон", "Компания"], "{name}");
            assert_eq!(table.rows[0].1[3], "ООО Ромашка", "{name}");
            assert_eq!(table.rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3]);
        }
        // UTF-16 with its BOM (Excel's "Unicode text", tab separated).
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(SAMPLE.replace(';', "\t").encode_utf16().flat_map(u16::to_le_bytes));
        let table = read_csv(&utf16, CsvOptions::default()).unwrap();
        assert_eq!(table.csv.clone().map(|f| (f.encoding, f.separator)), Some(("UTF-16LE", '\t')));
        assert_eq!(table.rows[1].1[0], "Сидорова");
    }

    #[test]
    fn the_user_can_override_what_was_detected() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(SAMPLE);
        let options = CsvOptions::parse(Some("koi8-r"), Some(",")).unwrap();
        let table = read_csv(&bytes, options).unwrap();
        assert_eq!(table.csv.clone().map(|f| (f.encoding, f.separator)), Some(("KOI8-R", ',')));
        assert_ne!(table.headers[0], "Фамилия");
        assert!(CsvOptions::parse(Some("klingon"), None).is_err());
        assert!(CsvOptions::parse(None, Some("|")).is_err());
        assert_eq!(CsvOptions::parse(Some("cp1251"), Some("tab")).unwrap().separator, Some(b'\t'));
    }

    #[test]
    fn csv_rows_carry_the_files_line_numbers() {
        // The header is line 1, whatever the line ends, blank lines or quoted line breaks.
        assert_eq!(lines("a;b\n1;2\n3;4\n"), [2, 3]);
        assert_eq!(lines("a;b\r\n1;2\r\n3;4\r\n"), [2, 3]);
        assert_eq!(lines("\u{feff}a;b\r\n1;2\r\n\r\n3;4"), [2, 4]);
        assert_eq!(lines("a,b\n\"x\ny\",2\n3,4\n"), [2, 4]);
    }
}
