//! Tables as files people open in Excel or WPS: CSV (UTF-8 with BOM) and XLSX.
//!
//! An export is a list of [`Columns`] (each a label, how a row fills it, and what kind of
//! cell it is) applied to rows, with [`About`] saying what the file is. In XLSX a title row
//! (what, which community, when) sits above a frozen, filtered header; numbers are numbers,
//! times are dates (local time in `RENFANG_TZ`), columns are as wide as their content, and
//! English codes for machines sit in hidden columns at the end. In CSV the same columns,
//! codes as plain columns at the end (CSV cannot hide), times as local `2026-12-04 16:59`.
//!
//! Every text cell is neutralised against formula injection: a cell that a spreadsheet would
//! read as a formula (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`.

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatBorder, Workbook, Worksheet};

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// An instant, shown in the table's time zone.
    DateTime(DateTime<Utc>),
    /// A share (0.95 for 95%), shown as a percentage; empty where there is none.
    Rate(Option<f64>),
    /// A calendar day.
    Date(NaiveDate),
    /// Nothing (a value not set yet), so that a column of numbers or dates stays one.
    Empty,
}

/// One column of an export: its header, how a row fills it, and whether it holds codes
/// for machines rather than words for people.
struct Column<'a, R> {
    label: &'static str,
    value: Box<dyn Fn(&R) -> Cell + 'a>,
    code: bool,
}

/// The columns of an export of rows of type `R`, one call a column, in order (code columns
/// go after the others whatever their place in the calls).
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
        self.with(label, false, move |r| Cell::Text(value(r)))
    }

    /// Adds a column of whole numbers.
    pub fn integer(self, label: &'static str, value: impl Fn(&R) -> i64 + 'a) -> Self {
        self.with(label, false, move |r| Cell::Integer(value(r)))
    }

    /// Adds a column of instants.
    pub fn date_time(self, label: &'static str, value: impl Fn(&R) -> DateTime<Utc> + 'a) -> Self {
        self.with(label, false, move |r| Cell::DateTime(value(r)))
    }

    /// Adds a column of shares (a number a spreadsheet can sort and sum, shown as `95%`).
    pub fn rate(self, label: &'static str, value: impl Fn(&R) -> Option<f64> + 'a) -> Self {
        self.with(label, false, move |r| Cell::Rate(value(r)))
    }

    /// Adds a column of whole numbers that some rows lack (an empty cell).
    pub fn optional_integer(
        self,
        label: &'static str,
        value: impl Fn(&R) -> Option<i64> + 'a,
    ) -> Self {
        self.with(label, false, move |r| {
            value(r).map_or(Cell::Empty, Cell::Integer)
        })
    }

    /// Adds a column of calendar days that some rows lack.
    pub fn optional_date(
        self,
        label: &'static str,
        value: impl Fn(&R) -> Option<NaiveDate> + 'a,
    ) -> Self {
        self.with(label, false, move |r| {
            value(r).map_or(Cell::Empty, Cell::Date)
        })
    }

    /// Adds a column of instants that some rows lack.
    pub fn optional_date_time(
        self,
        label: &'static str,
        value: impl Fn(&R) -> Option<DateTime<Utc>> + 'a,
    ) -> Self {
        self.with(label, false, move |r| {
            value(r).map_or(Cell::Empty, Cell::DateTime)
        })
    }

    /// Adds a column of English codes (`open`, `verified`) for machines: hidden in XLSX,
    /// last in CSV, beside the column that shows the same value by its Chinese label.
    pub fn code(self, label: &'static str, value: impl Fn(&R) -> String + 'a) -> Self {
        self.with(label, true, move |r| Cell::Text(value(r)))
    }

    fn with(mut self, label: &'static str, code: bool, value: impl Fn(&R) -> Cell + 'a) -> Self {
        self.0.push(Column {
            label,
            value: Box::new(value),
            code,
        });
        self
    }

    /// `rows` laid out in these columns, dates in `tz`, the file described by `about`.
    pub fn table(&self, about: About, rows: &[R], tz: chrono_tz::Tz) -> Table {
        let order: Vec<&Column<'a, R>> = self
            .0
            .iter()
            .filter(|c| !c.code)
            .chain(self.0.iter().filter(|c| c.code))
            .collect();
        Table {
            about,
            headers: order.iter().map(|c| c.label).collect(),
            codes: order.iter().map(|c| c.code).collect(),
            rows: rows
                .iter()
                .map(|row| order.iter().map(|c| (c.value)(row)).collect())
                .collect(),
            tz,
        }
    }
}

/// What a file is, for its title row and its name.
#[derive(Debug, Clone)]
pub struct About {
    /// What the file holds, in Chinese (`上门核查`).
    pub what: String,
    /// The same in ASCII (`door-checks`), for the file name of clients that read no other.
    pub slug: &'static str,
    /// The one community the file covers; `None`: every community the reader sees.
    pub community: Option<String>,
    /// When the file was made.
    pub at: DateTime<Utc>,
}

impl About {
    /// The title row: `上门核查　影佳　导出时间 2026-12-04 16:59`.
    pub fn title(&self, tz: chrono_tz::Tz) -> String {
        let community = self.community.as_deref().unwrap_or("全部社区");
        format!(
            "{}\u{3000}{community}\u{3000}导出时间 {}",
            self.what,
            local_minutes(self.at, tz)
        )
    }

    /// The file's name with extension `ext`: `上门核查_影佳_2026-12-04.xlsx` (`全部` for every
    /// community), and its ASCII stand-in `door-checks_2026-12-04.xlsx`.
    pub fn file_name(&self, tz: chrono_tz::Tz, ext: &str) -> FileName {
        let date = self.at.with_timezone(&tz).format("%Y-%m-%d");
        let community = self.community.as_deref().unwrap_or("全部");
        FileName {
            name: format!(
                "{}_{}_{date}.{ext}",
                safe_name(&self.what),
                safe_name(community)
            ),
            ascii: format!("{}_{date}.{ext}", self.slug),
        }
    }
}

/// A download's file name, and an ASCII one for clients that cannot read the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub name: String,
    pub ascii: String,
}

/// Text fit for a file name on Windows, macOS and Linux: no path or reserved characters.
pub fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// An instant as people read it: local time in `tz`, `2026-12-04 16:59`.
fn local_minutes(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    crate::display::local_time(tz, t.timestamp_millis())
}

/// A table: header row and data rows, ready to be written.
#[derive(Debug, Clone)]
pub struct Table {
    pub about: About,
    pub headers: Vec<&'static str>,
    /// Which columns hold codes for machines (hidden in XLSX); they come last.
    pub codes: Vec<bool>,
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

/// A cell as CSV text (before neutralising and quoting). Times are local, as people read
/// them; a machine that needs instants reads the JSON API, whose times are RFC 3339 UTC, so
/// the file carries no second, UTC copy of each time.
fn text(cell: &Cell, tz: chrono_tz::Tz) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Integer(n) => n.to_string(),
        Cell::DateTime(t) => local_minutes(*t, tz),
        Cell::Rate(share) => share.map_or_else(String::new, |s| format!("{:.1}%", s * 100.0)),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Empty => String::new(),
    }
}

/// CSV with a UTF-8 byte-order mark (so Excel and WPS pick the right encoding), CRLF line
/// ends, and quoting where a cell needs it. The header is the first line: a CSV is read by
/// programs too, so it has no title row.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = String::from('\u{feff}');
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        let quoted: Vec<String> = cells.map(|c| quote(&neutralise(&c))).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    line(&mut table.headers.iter().map(|h| h.to_string()));
    for row in &table.rows {
        line(&mut row.iter().map(|c| text(c, table.tz)));
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

/// The row of the header in a workbook's sheets (from 0): under the title row.
pub const HEADER_ROW: u32 = 1;

/// One worksheet: the title row, the header frozen and filtered under it, text as text
/// (never a formula), numbers as numbers, instants as dates with minutes in the table's
/// time zone, code columns hidden, every column as wide as its content.
pub fn xlsx(sheet: &str, table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).context("worksheet name")?;
    let minutes = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let percent = Format::new().set_num_format("0%");
    let day = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string_with_format(
        0,
        0,
        neutralise(&table.about.title(table.tz)),
        &title_format(),
    )?;
    let mut widths: Vec<usize> = table.headers.iter().map(|h| display_width(h)).collect();
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, c as u16, *h, &header_format())?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + HEADER_ROW + 1;
        for (c, cell) in row.iter().enumerate() {
            let width = match cell {
                Cell::Text(s) => {
                    let safe = neutralise(s);
                    ws.write_string(r, c as u16, &safe)?;
                    display_width(&safe)
                }
                Cell::Integer(n) => {
                    ws.write_number(r, c as u16, *n as f64)?;
                    n.to_string().len()
                }
                Cell::DateTime(t) => {
                    ws.write_datetime_with_format(
                        r,
                        c as u16,
                        excel_time(*t, table.tz)?,
                        &minutes,
                    )?;
                    MINUTES_WIDTH
                }
                Cell::Rate(Some(share)) => {
                    ws.write_number_with_format(r, c as u16, *share, &percent)?;
                    "100%".len()
                }
                Cell::Rate(None) => 0,
                Cell::Date(d) => {
                    ws.write_date_with_format(r, c as u16, excel_date(*d)?, &day)?;
                    DAY_WIDTH
                }
                Cell::Empty => 0,
            };
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(width);
            }
        }
    }
    fit_columns(ws, &widths)?;
    for (c, _) in table.codes.iter().enumerate().filter(|(_, code)| **code) {
        ws.set_column_hidden(c as u16)?;
    }
    frame_header(
        ws,
        HEADER_ROW,
        table.rows.len() as u32,
        table.headers.len() as u16,
    )?;
    book.save_to_buffer().context("writing the XLSX")
}

/// The look of a sheet's title row.
pub fn title_format() -> Format {
    Format::new().set_bold().set_font_size(13)
}

/// The look of a header row.
pub fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("#E7EEF7")
        .set_border_bottom(FormatBorder::Thin)
}

/// Freezes the rows down to the header at `header_row` and puts a filter on the header
/// over its `rows` data rows and `columns` columns.
pub fn frame_header(
    ws: &mut Worksheet,
    header_row: u32,
    rows: u32,
    columns: u16,
) -> anyhow::Result<()> {
    ws.set_freeze_panes(header_row + 1, 0)?;
    if columns > 0 {
        ws.autofilter(header_row, 0, header_row + rows, columns - 1)?;
    }
    Ok(())
}

/// Sets each column's width from the widest text it holds (in half-width characters).
pub fn fit_columns(ws: &mut Worksheet, widths: &[usize]) -> anyhow::Result<()> {
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, column_width(*w))?;
    }
    Ok(())
}

/// How wide `yyyy-mm-dd hh:mm` is.
pub const MINUTES_WIDTH: usize = 16;

/// How wide `yyyy-mm-dd` is.
pub const DAY_WIDTH: usize = 10;

/// Narrowest and widest column, in characters: a header stays readable, a long address
/// wraps out of sight rather than push everything else off the screen.
const MIN_WIDTH: f64 = 8.0;
const MAX_WIDTH: f64 = 60.0;

/// The width of a column whose widest text is `chars` half-width characters wide, with a
/// little room for the filter button.
pub fn column_width(chars: usize) -> f64 {
    (chars as f64 + 3.0).clamp(MIN_WIDTH, MAX_WIDTH)
}

/// How many half-width characters `text` takes on screen: CJK ideographs, kana, hangul and
/// full-width forms take two.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3040..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// An instant as the wall-clock time of `tz` (spreadsheets have no zones).
fn excel_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> anyhow::Result<ExcelDateTime> {
    let local = t.with_timezone(&tz);
    let date = excel_date(local.date_naive())?;
    Ok(date.and_hms(local.hour() as u16, local.minute() as u8, local.second())?)
}

/// A calendar day as a spreadsheet date.
pub fn excel_date(day: NaiveDate) -> anyhow::Result<ExcelDateTime> {
    Ok(ExcelDateTime::from_ymd(
        u16::try_from(day.year()).context("a year outside a spreadsheet's range")?,
        day.month() as u8,
        day.day() as u8,
    )?)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;

    struct Row {
        id: i64,
        address: &'static str,
        note: &'static str,
        at: DateTime<Utc>,
    }

    fn about() -> About {
        About {
            what: "上门核查".into(),
            slug: "door-checks",
            community: Some("影佳".into()),
            at: "2026-12-04T08:59:30Z".parse().unwrap(),
        }
    }

    fn table() -> Table {
        let columns = Columns::<Row>::new()
            .integer("编号", |r| r.id)
            .code("状态代码", |_| "open".into())
            .text("地址", |r| r.address.into())
            .text("备注", |r| r.note.into())
            .date_time("时间", |r| r.at)
            .text("状态", |_| "待核查".into());
        let rows = [Row {
            id: -7,
            address: "=HYPERLINK(\"http://x\",\"y\")",
            note: "a,\"b\"\nc",
            at: "2026-12-04T08:59:30Z".parse().unwrap(),
        }];
        columns.table(about(), &rows, chrono_tz::Asia::Shanghai)
    }

    /// The XML of the first worksheet of a workbook.
    fn sheet_xml(bytes: &[u8]) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    #[test]
    fn formula_starters_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("影佳路 1弄"), "影佳路 1弄");
    }

    #[test]
    fn cjk_and_full_width_characters_count_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("影佳路1号"), 9);
        assert_eq!(display_width("ＡＢ　"), 6);
        assert_eq!(column_width(0), MIN_WIDTH);
        assert_eq!(column_width(500), MAX_WIDTH);
    }

    #[test]
    fn file_names_say_what_where_and_the_local_day() {
        let name = about().file_name(chrono_tz::Asia::Shanghai, "xlsx");
        assert_eq!(name.name, "上门核查_影佳_2026-12-04.xlsx");
        assert_eq!(name.ascii, "door-checks_2026-12-04.xlsx");
        let all = About {
            community: None,
            at: "2026-12-04T16:30:00Z".parse().unwrap(),
            ..about()
        };
        let name = all.file_name(chrono_tz::Asia::Shanghai, "csv");
        assert_eq!(name.name, "上门核查_全部_2026-12-05.csv", "the local day");
        let odd = About {
            community: Some("a/b:c".into()),
            ..about()
        };
        assert!(
            odd.file_name(chrono_tz::UTC, "csv")
                .name
                .starts_with("上门核查_a_b_c_")
        );
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
    fn csv_writes_local_times_and_its_codes_last() {
        let text = String::from_utf8(csv(&table())).unwrap();
        assert!(
            text.trim_start_matches('\u{feff}')
                .starts_with("编号,地址,备注,时间,状态,状态代码\r\n"),
            "{text}"
        );
        assert_eq!(
            text.lines().last(),
            Some("c\",2026-12-04 16:59,待核查,open"),
            "local time as people read it"
        );
        assert!(
            text.contains("\r\n'-7,"),
            "a negative number is neutralised like text"
        );
    }

    #[test]
    fn xlsx_has_a_title_row_then_typed_numbers_local_dates_and_neutralised_text() {
        let bytes = xlsx("核查", &table()).unwrap();
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range("核查").unwrap();
        let title = sheet.rows().next().unwrap()[0].to_string();
        assert_eq!(
            title,
            "上门核查\u{3000}影佳\u{3000}导出时间 2026-12-04 16:59"
        );
        let header: Vec<String> = sheet
            .rows()
            .nth(1)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header, ["编号", "地址", "备注", "时间", "状态", "状态代码"]);
        let row: Vec<Data> = sheet.rows().nth(2).unwrap().to_vec();
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
        assert_eq!(row[5], Data::String("open".into()));
    }

    #[test]
    fn xlsx_freezes_and_filters_the_header_fits_widths_and_hides_codes() {
        let xml = sheet_xml(&xlsx("核查", &table()).unwrap());
        assert!(
            xml.contains(
                r#"<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>"#
            ),
            "{xml}"
        );
        assert!(xml.contains(r#"<autoFilter ref="A2:F3"/>"#), "{xml}");
        let widths: Vec<f64> = xml
            .split("<col ")
            .skip(1)
            .map(|col| {
                let w = col.split("width=\"").nth(1).unwrap();
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 6, "{xml}");
        // 编号 holds "-7" and its header; 地址 holds the long text; 时间 a date.
        assert!(widths[1] > widths[0], "{widths:?}");
        assert!(widths[3] > widths[0], "{widths:?}");
        let hidden: Vec<&str> = xml
            .split("<col ")
            .skip(1)
            .filter(|c| c.contains("hidden=\"1\""))
            .collect();
        assert_eq!(hidden.len(), 1, "{xml}");
        assert!(hidden[0].starts_with(r#"min="6" max="6""#), "{}", hidden[0]);
    }
}
