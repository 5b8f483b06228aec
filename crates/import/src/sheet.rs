//! Writing any list (contacts, companies, deals) as a CSV or XLSX file in memory, for
//! downloads from the browser.

use crate::ImportError;

/// The two download formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// UTF-8 CSV with a byte-order mark, so Excel reads Cyrillic correctly.
    Csv,
    /// An Excel workbook with one sheet.
    Xlsx,
}

impl SheetFormat {
    /// `csv` or `xlsx`.
    pub fn parse(name: &str) -> Option<SheetFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(SheetFormat::Csv),
            "xlsx" => Some(SheetFormat::Xlsx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            SheetFormat::Csv => "csv",
            SheetFormat::Xlsx => "xlsx",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            SheetFormat::Csv => "text/csv; charset=utf-8",
            SheetFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// One cell of a download.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (also used for phone numbers, so Excel keeps the `+`).
    Text(String),
    /// A number Excel can sum.
    Number(f64),
    /// A moment (milliseconds since the epoch, shown in UTC): a date cell in XLSX, the
    /// locale's date and time in CSV.
    Time(i64),
    /// Nothing.
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// A timestamp (milliseconds since the epoch) as `YYYY-MM-DD HH:MM:SS` UTC, which Excel and
/// people both read.
pub fn timestamp(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => ms.to_string(),
    }
}

/// How a spreadsheet in the reader's language writes numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetLocale {
    /// `,` between fields, `1500.5`, `2026-12-06 09:30:00`.
    English,
    /// What Russian Excel reads as numbers and dates: `;` between fields, `1500,5`,
    /// `06.12.2026 09:30:00`.
    Russian,
}

impl SheetLocale {
    fn number(self, n: f64) -> String {
        let text = n.to_string();
        match self {
            SheetLocale::English => text,
            SheetLocale::Russian => text.replace('.', ","),
        }
    }

    fn time(self, ms: i64) -> String {
        match (self, time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)) {
            (SheetLocale::Russian, Ok(t)) => format!(
                "{:02}.{:02}.{:04} {:02}:{:02}:{:02}",
                t.day(),
                t.month() as u8,
                t.year(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            _ => timestamp(ms),
        }
    }

    fn date_format(self) -> &'static str {
        match self {
            SheetLocale::English => "yyyy-mm-dd hh:mm:ss",
            SheetLocale::Russian => "dd.mm.yyyy hh:mm:ss",
        }
    }
}

/// Writes a header row and rows in `format`, numbers and dates as `locale` reads them.
pub fn sheet_bytes(
    format: SheetFormat,
    locale: SheetLocale,
    headers: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, ImportError> {
    let write_err = |reason: String| ImportError::Write { path: "download".into(), reason };
    match format {
        SheetFormat::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(if locale == SheetLocale::Russian { b';' } else { b',' })
                .from_writer(b"\xEF\xBB\xBF".to_vec());
            writer.write_record(headers)?;
            for row in rows {
                writer.write_record(row.iter().map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Number(n) => locale.number(*n),
                    Cell::Time(ms) => locale.time(*ms),
                    Cell::Empty => String::new(),
                }))?;
            }
            writer.into_inner().map_err(|e| write_err(e.to_string()))
        }
        SheetFormat::Xlsx => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            let date = rust_xlsxwriter::Format::new().set_num_format(locale.date_format());
            for (col, header) in headers.iter().enumerate() {
                sheet
                    .write_string_with_format(0, col as u16, header, &bold)
                    .map_err(|e| write_err(e.to_string()))?;
            }
            for (i, row) in rows.iter().enumerate() {
                let line =
                    u32::try_from(i + 1).map_err(|_| write_err("too many rows for XLSX".into()))?;
                for (col, cell) in row.iter().enumerate() {
                    match cell {
                        Cell::Text(s) => sheet.write_string(line, col as u16, s).map(|_| ()),
                        Cell::Number(n) => sheet.write_number(line, col as u16, *n).map(|_| ()),
                        Cell::Time(ms) => sheet
                            .write_number_with_format(line, col as u16, excel_serial(*ms), &date)
                            .map(|_| ()),
                        Cell::Empty => Ok(()),
                    }
                    .map_err(|e| write_err(e.to_string()))?;
                }
            }
            sheet.autofit();
            workbook.save_to_buffer().map_err(|e| write_err(e.to_string()))
        }
    }
}

/// A moment as Excel's serial date: days since 1899-12-30, the day's part as the fraction.
fn excel_serial(ms: i64) -> f64 {
    const DAY_MS: f64 = 86_400_000.0;
    // 1970-01-01 is serial 25569.
    25_569.0 + ms as f64 / DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_and_reads_back_through_the_importer() {
        let headers = vec!["Имя".to_owned(), "Сумма".to_owned()];
        let rows = vec![
            vec![Cell::Text("Ирина".into()), Cell::Number(1500.5)],
            vec![Cell::Empty, Cell::Number(2.0)],
        ];
        let bytes = sheet_bytes(SheetFormat::Csv, SheetLocale::English, &headers, &rows).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let table = crate::read_table_bytes("x.csv", &bytes, crate::CsvOptions::default()).unwrap();
        assert_eq!(table.headers, headers);
        assert_eq!(table.rows[0].1, vec!["Ирина", "1500.5"]);
    }

    /// Russian Excel splits on `;` and reads `1500,5` as a number and `18.11.2026 11:06:40`
    /// as a date; the importer still reads the file back.
    #[test]
    fn russian_csv_uses_semicolons_decimal_commas_and_russian_dates() {
        let headers = vec!["Имя".to_owned(), "Сумма".to_owned(), "Создан".to_owned()];
        let rows = vec![vec![
            Cell::Text("Ирина; Анна".into()),
            Cell::Number(1500.5),
            Cell::Time(1_795_000_000_123),
        ]];
        let bytes = sheet_bytes(SheetFormat::Csv, SheetLocale::Russian, &headers, &rows).unwrap();
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert_eq!(
            text, "Имя;Сумма;Создан\n\"Ирина; Анна\";1500,5;18.11.2026 11:06:40\n",
            "{text}"
        );
        let table = crate::read_table_bytes("x.csv", &bytes, crate::CsvOptions::default()).unwrap();
        assert_eq!(table.headers, headers);
    }

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_795_000_000_123), "2026-11-18 11:06:40");
    }

    #[test]
    fn xlsx_reads_back_with_numbers() {
        let headers = vec!["Телефон".to_owned(), "Amount".to_owned()];
        let rows = vec![vec![Cell::Text("+79161234567".into()), Cell::Number(99.0)]];
        let bytes = sheet_bytes(SheetFormat::Xlsx, SheetLocale::English, &headers, &rows).unwrap();
        let table =
            crate::read_table_bytes("x.xlsx", &bytes, crate::CsvOptions::default()).unwrap();
        assert_eq!(table.headers, headers);
        assert_eq!(table.rows, vec![(2, vec!["+79161234567".to_owned(), "99".to_owned()])]);
    }
}
