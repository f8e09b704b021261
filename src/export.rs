//! Tables as files people open in Excel or WPS: CSV (UTF-8 with BOM) and XLSX.
//!
//! An export is a list of [`Columns`] (each a label, how a row fills it, and what kind of
//! cell it is) applied to rows. In XLSX numbers are numbers and times are dates (local time in
//! `RENFANG_TZ`); in CSV every cell is text, times in RFC 3339 UTC.
//!
//! Every text cell is neutralised against formula injection: a cell that a spreadsheet would
//! read as a formula (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`.

use anyhow::Context;
use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// An instant, shown in the table's time zone.
    DateTime(DateTime<Utc>),
}

/// One column of an export: its header and how a row fills it.
struct Column<'a, R> {
    label: &'static str,
    value: Box<dyn Fn(&R) -> Cell + 'a>,
}

/// The columns of an export of rows of type `R`, one call a column, in order.
pub struct Columns<'a, R>(Vec<Column<'a, R>>);

impl<R> Default for Columns<'_, R> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'a, R> Columns<'a, R> {
    /// No columns yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column of text.
    pub fn text(self, label: &'static str, value: impl Fn(&R) -> String + 'a) -> Self {
        self.with(label, move |r| Cell::Text(value(r)))
    }

    /// Adds a column of whole numbers.
    pub fn integer(self, label: &'static str, value: impl Fn(&R) -> i64 + 'a) -> Self {
        self.with(label, move |r| Cell::Integer(value(r)))
    }

    /// Adds a column of instants.
    pub fn date_time(self, label: &'static str, value: impl Fn(&R) -> DateTime<Utc> + 'a) -> Self {
        self.with(label, move |r| Cell::DateTime(value(r)))
    }

    fn with(mut self, label: &'static str, value: impl Fn(&R) -> Cell + 'a) -> Self {
        self.0.push(Column {
            label,
            value: Box::new(value),
        });
        self
    }

    /// `rows` laid out in these columns, dates in `tz`.
    pub fn table(&self, rows: &[R], tz: chrono_tz::Tz) -> Table {
        Table {
            headers: self.0.iter().map(|c| c.label).collect(),
            rows: rows
                .iter()
                .map(|row| self.0.iter().map(|c| (c.value)(row)).collect())
                .collect(),
            tz,
        }
    }
}

/// A table: header row and data rows, ready to be written.
#[derive(Debug, Clone)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// Where the people reading the file are: the zone of its dates.
    pub tz: chrono_tz::Tz,
}

/// The cell as a spreadsheet will read it safely.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// A cell as CSV text (before neutralising and quoting).
fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Integer(n) => n.to_string(),
        Cell::DateTime(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// CSV with a UTF-8 byte-order mark (so Excel and WPS pick the right encoding), CRLF line
/// ends, and quoting where a cell needs it.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = String::from('\u{feff}');
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        let quoted: Vec<String> = cells.map(|c| quote(&neutralise(&c))).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    line(&mut table.headers.iter().map(|h| h.to_string()));
    for row in &table.rows {
        line(&mut row.iter().map(text));
    }
    out.into_bytes()
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// One worksheet: text as text (never a formula), numbers as numbers, instants as dates
/// with minutes in the table's time zone.
pub fn xlsx(sheet: &str, table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).context("worksheet name")?;
    let bold = Format::new().set_bold();
    let minutes = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => ws.write_string(r, c, neutralise(s))?,
                Cell::Integer(n) => ws.write_number(r, c, *n as f64)?,
                Cell::DateTime(t) => {
                    ws.write_datetime_with_format(r, c, excel_time(*t, table.tz)?, &minutes)?
                }
            };
        }
    }
    book.save_to_buffer().context("writing the XLSX")
}

/// An instant as the wall-clock time of `tz` (spreadsheets have no zones).
fn excel_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> anyhow::Result<ExcelDateTime> {
    let local = t.with_timezone(&tz);
    let date = ExcelDateTime::from_ymd(
        u16::try_from(local.year()).context("a year outside a spreadsheet's range")?,
        local.month() as u8,
        local.day() as u8,
    )?;
    Ok(date.and_hms(local.hour() as u16, local.minute() as u8, local.second())?)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;

    struct Row {
        id: i64,
        address: &'static str,
        note: &'static str,
        at: DateTime<Utc>,
    }

    fn table() -> Table {
        let columns = Columns::<Row>::new()
            .integer("编号", |r| r.id)
            .text("地址", |r| r.address.into())
            .text("备注", |r| r.note.into())
            .date_time("时间", |r| r.at);
        let rows = [Row {
            id: -7,
            address: "=HYPERLINK(\"http://x\",\"y\")",
            note: "a,\"b\"\nc",
            at: "2026-12-04T08:59:30Z".parse().unwrap(),
        }];
        columns.table(&rows, chrono_tz::Asia::Shanghai)
    }

    #[test]
    fn formula_starters_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("影佳路 1弄"), "影佳路 1弄");
    }

    #[test]
    fn csv_has_a_bom_quotes_and_no_live_formula() {
        let bytes = csv(&table());
        assert_eq!(&bytes[..3], b"\xef\xbb\xbf");
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            "{text}"
        );
        assert!(text.contains("\"a,\"\"b\"\"\nc\""));
        assert!(!text.contains(",=") && !text.contains("\n="));
    }

    #[test]
    fn csv_writes_numbers_and_times_as_text_as_before() {
        let text = String::from_utf8(csv(&table())).unwrap();
        assert_eq!(
            text.lines().last(),
            Some("c\",2026-12-04T08:59:30Z"),
            "times in RFC 3339 UTC"
        );
        assert!(
            text.contains("\r\n'-7,"),
            "a negative number is neutralised like text"
        );
    }

    #[test]
    fn xlsx_is_a_zip_with_the_neutralised_text() {
        let bytes = xlsx("核查", &table()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }

    #[test]
    fn xlsx_has_typed_numbers_and_local_dates_and_neutralised_text() {
        let bytes = xlsx("核查", &table()).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range("核查").unwrap();
        let row: Vec<Data> = sheet.rows().nth(1).unwrap().to_vec();
        assert_eq!(row[0], Data::Float(-7.0));
        assert_eq!(
            row[1],
            Data::String("'=HYPERLINK(\"http://x\",\"y\")".into())
        );
        let Data::DateTime(when) = &row[3] else {
            panic!("not a date: {:?}", row[3]);
        };
        // 2026-12-04 16:59:30 in Shanghai: days since 1899-12-30 and the part of a day.
        let serial = 46_360.0 + (16.0 * 3600.0 + 59.0 * 60.0 + 30.0) / 86_400.0;
        assert!((when.as_f64() - serial).abs() < 1e-6, "{}", when.as_f64());
    }
}
