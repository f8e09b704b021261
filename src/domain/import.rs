//! Bulk unit import (底数排摸): a CSV as Excel or WPS saves it, read into checked rows and
//! line-numbered rejections.
//!
//! Columns are found by their header, in any order, in Chinese or by the API's field name:
//! 社区 `community`, 地址 `address`, 间数 `rooms`, 类型 `kind`, 出租方式 `rental_mode`, and
//! optionally 面积 `floor_area_m2`. Other columns are ignored. Kind and mode take the wire
//! name (`flat`) or the Chinese one (住宅).

use std::collections::HashMap;

use super::unit::{Address, MAX_ROOMS, RentalMode, UnitKind};

/// Largest file the import reads (about 400,000 rows of a typical survey sheet).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// Why a whole file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("文件为空")]
    Empty,
    #[error("文件过大（最多 {} MB）", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("文件既不是 UTF-8 也不是 GBK 编码的文本")]
    Encoding,
    #[error("第 1 行缺少列：{0}")]
    MissingColumns(String),
    #[error("表头重复：{0}")]
    DuplicateColumn(String),
    #[error("第 {line} 行无法读取：{message}")]
    Malformed { line: u64, message: String },
}

/// One accepted row, checked by the domain; the community is still a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub community: String,
    pub address: Address,
    pub rooms: i64,
    pub kind: UnitKind,
    pub rental_mode: RentalMode,
    pub floor_area_m2: Option<f64>,
}

/// One rejected row: its line in the file (the header is line 1) and why, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// A file read into rows.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub rejected: Vec<Rejected>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Column {
    Community,
    Address,
    Rooms,
    Kind,
    Mode,
    Area,
}

impl Column {
    const REQUIRED: [Column; 5] = [
        Column::Community,
        Column::Address,
        Column::Rooms,
        Column::Kind,
        Column::Mode,
    ];

    fn from_header(text: &str) -> Option<Self> {
        let folded = super::fold_width(text).to_lowercase();
        Some(match folded.as_str() {
            "社区" | "所属社区" | "community" => Column::Community,
            "地址" | "房屋地址" | "address" => Column::Address,
            "间数" | "房间数" | "rooms" => Column::Rooms,
            "类型" | "房屋类型" | "kind" => Column::Kind,
            "出租方式" | "rental_mode" => Column::Mode,
            "面积" | "建筑面积" | "floor_area_m2" => Column::Area,
            _ => return None,
        })
    }

    fn label(self) -> &'static str {
        match self {
            Column::Community => "社区",
            Column::Address => "地址",
            Column::Rooms => "间数",
            Column::Kind => "类型",
            Column::Mode => "出租方式",
            Column::Area => "面积",
        }
    }
}

/// The text of a file saved as UTF-8 (with or without a byte-order mark) or as GBK, which
/// is what Excel and WPS write for "CSV" on a Chinese Windows.
pub fn decode(bytes: &[u8]) -> Result<String, FileError> {
    if bytes.len() > MAX_BYTES {
        return Err(FileError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    // GB18030 is the superset of GBK; a byte sequence valid in neither is not a survey sheet.
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FileError::Encoding);
    }
    Ok(text.into_owned())
}

/// Reads the rows of a decoded file. Rows that say the same flat twice keep the first and
/// reject the later ones, so that a file imported twice creates each unit once.
pub fn parse(text: &str) -> Result<Parsed, FileError> {
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| malformed(1, &e))?.clone();
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        if let Some(column) = Column::from_header(header)
            && columns.insert(column, i).is_some()
        {
            return Err(FileError::DuplicateColumn(column.label().into()));
        }
    }
    let missing: Vec<&str> = Column::REQUIRED
        .iter()
        .filter(|c| !columns.contains_key(c))
        .map(|c| c.label())
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing.join("、")));
    }

    let mut parsed = Parsed::default();
    let mut first_line: HashMap<(String, String), u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    // Lines are counted from byte offsets: the reader's own line count skips blank lines.
    let mut lines = LineCounter::new(text);
    loop {
        let at = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(malformed(lines.line_of(at), &e)),
        }
        // A record's position may point at the blank lines the reader skipped before it.
        let mut start = record.position().map_or(at, |p| p.byte()) as usize;
        while matches!(text.as_bytes().get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let line = lines.line_of(start as u64);
        if record.iter().all(|cell| cell.trim().is_empty()) || is_note(&record) {
            continue;
        }
        let cell = |c: Column| columns.get(&c).and_then(|&i| record.get(i)).unwrap_or("");
        match row(line, cell) {
            Ok(row) => {
                let key = (
                    super::community::match_key(&row.community),
                    row.address.key().to_string(),
                );
                if let Some(first) = first_line.get(&key) {
                    parsed.rejected.push(Rejected {
                        line,
                        reason: format!("与第 {first} 行是同一套房屋"),
                    });
                } else {
                    first_line.insert(key, line);
                    parsed.rows.push(row);
                }
            }
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    Ok(parsed)
}

/// The mark of a line of explanation (the template's notes), which the import skips.
pub const NOTE: char = '#';

fn is_note(record: &csv::StringRecord) -> bool {
    record
        .get(0)
        .is_some_and(|first| first.trim_start().starts_with(NOTE))
}

/// The template of an import file (without its byte-order mark): the header in Chinese,
/// one sample row in `community`, and notes on the allowed values that the import skips.
pub fn template(community: &str) -> String {
    let listed = |pairs: Vec<(&str, &str)>| {
        let named: Vec<String> = pairs
            .iter()
            .map(|(zh, en)| format!("{zh}（{en}）"))
            .collect();
        named.join("、")
    };
    let kinds = listed(
        UnitKind::ALL
            .iter()
            .map(|k| (k.label_zh(), k.as_str()))
            .collect(),
    );
    let modes = listed(
        RentalMode::ALL
            .iter()
            .map(|m| (m.label_zh(), m.as_str()))
            .collect(),
    );
    let notes = [
        "说明：以 # 开头的行不会导入；示例行请换成实际房屋（或先勾选“只检查，不写入”试导入）"
            .to_string(),
        format!(
            "社区：您负责的社区名称；写“{community}”“{community}社区”或“{community}居委会”均可"
        ),
        "地址：一行写完：路、弄、号、室".into(),
        format!("间数：可出租的房间数；1 到 {MAX_ROOMS} 的整数"),
        format!("类型：{kinds}"),
        format!("出租方式：{modes}"),
        "面积：可选；建筑面积（平方米）".into(),
    ];
    let mut out = String::from("社区,地址,间数,类型,出租方式,面积\r\n");
    out.push_str(&format!(
        "{},人民路 100弄 1号 201室,3,住宅,合租,60\r\n",
        template_cell(community)
    ));
    for note in notes {
        out.push_str(&format!("{NOTE} {}\r\n", template_cell(&note)));
    }
    out
}

/// A cell of the template, quoted when it holds a separator or a quote.
fn template_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Line numbers (from 1) of byte offsets, asked for in increasing order.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, byte: u64) -> u64 {
        let byte = (byte as usize).min(self.text.len());
        if byte > self.offset {
            // A line ends at \n, \r\n, or a lone \r (old Mac spreadsheets), as the CSV
            // reader ends its records.
            let text = self.text;
            let ends = (self.offset..byte).filter(|&i| {
                text[i] == b'\n' || (text[i] == b'\r' && text.get(i + 1) != Some(&b'\n'))
            });
            self.line += ends.count() as u64;
            self.offset = byte;
        }
        self.line
    }
}

fn malformed(line: u64, error: &csv::Error) -> FileError {
    FileError::Malformed {
        line,
        message: error.to_string(),
    }
}

/// One data row, or every reason it is rejected joined in one sentence.
fn row<'a>(line: u64, cell: impl Fn(Column) -> &'a str) -> Result<Row, String> {
    let mut reasons: Vec<String> = Vec::new();
    let community = cell(Column::Community).trim().to_string();
    if community.is_empty() {
        reasons.push("社区为空".into());
    }
    let address = Address::parse(cell(Column::Address))
        .map_err(|e| reasons.push(format!("地址：{}", e.message_zh)))
        .ok();
    let rooms_text = super::fold_width(cell(Column::Rooms));
    let rooms = match rooms_text.parse::<i64>() {
        Ok(n) if (1..=MAX_ROOMS).contains(&n) => Some(n),
        _ => {
            reasons.push(format!("间数应为 1 到 {MAX_ROOMS} 的整数"));
            None
        }
    };
    let kind = UnitKind::parse_any(cell(Column::Kind));
    if kind.is_none() {
        reasons.push("类型应为 住宅、别墅、车库、宿舍 或 其他".into());
    }
    let rental_mode = RentalMode::parse_any(cell(Column::Mode));
    if rental_mode.is_none() {
        reasons.push("出租方式应为 整租、合租、日租 或 群租".into());
    }
    let area_text = super::fold_width(cell(Column::Area));
    let floor_area_m2 = if area_text.is_empty() {
        None
    } else {
        match area_text.parse::<f64>() {
            Ok(a) if a > 0.0 && a < 100_000.0 => Some(a),
            _ => {
                reasons.push("面积应为正数（平方米）".into());
                None
            }
        }
    };
    match (address, rooms, kind, rental_mode) {
        (Some(address), Some(rooms), Some(kind), Some(rental_mode)) if reasons.is_empty() => {
            Ok(Row {
                line,
                community,
                address,
                rooms,
                kind,
                rental_mode,
                floor_area_m2,
            })
        }
        _ => Err(reasons.join("；")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "社区,地址,间数,类型,出租方式\n";

    #[test]
    fn the_template_reads_back_as_its_sample_row_and_skips_its_notes() {
        let text = template("影佳");
        assert!(text.starts_with("社区,地址,间数,类型,出租方式,面积\r\n"));
        assert!(
            text.contains("住宅（flat）") && text.contains("群租（group）"),
            "{text}"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.rejected, vec![]);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].community, "影佳");
        assert_eq!(parsed.rows[0].kind, UnitKind::Flat);
    }

    #[test]
    fn a_community_written_with_a_suffix_is_the_same_flat_twice() {
        let parsed = parse(&format!(
            "{HEADER}影佳,影佳路1号,1,住宅,整租\n影佳居委会,影佳路1号,1,住宅,整租\n"
        ))
        .unwrap();
        assert_eq!(parsed.rejected[0].reason, "与第 2 行是同一套房屋");
    }

    #[test]
    fn a_gbk_file_reads_like_its_utf8_twin() {
        let text = format!("{HEADER}影佳,影佳路1弄2号301室,3,住宅,合租\n");
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode(&gbk).unwrap(), text);
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).unwrap(), text);
    }

    #[test]
    fn bytes_that_are_neither_utf8_nor_gbk_are_refused() {
        assert_eq!(decode(b"\xff\xff\xff\x80"), Err(FileError::Encoding));
    }

    #[test]
    fn columns_are_found_by_header_in_any_order_and_language() {
        let parsed = parse(
            "rental_mode,rooms,备注,address,kind,community,面积\n\
             whole,2,x,虬长路123弄4号502室,flat,虬长路,60.5\n",
        )
        .unwrap();
        assert_eq!(parsed.rejected, vec![]);
        let row = &parsed.rows[0];
        assert_eq!((row.line, row.rooms), (2, 2));
        assert_eq!(row.community, "虬长路");
        assert_eq!(row.kind, UnitKind::Flat);
        assert_eq!(row.rental_mode, RentalMode::Whole);
        assert_eq!(row.floor_area_m2, Some(60.5));
    }

    #[test]
    fn a_missing_column_refuses_the_file_and_names_it() {
        let err = parse("社区,地址,间数\n影佳,影佳路1号,1\n").unwrap_err();
        assert_eq!(err, FileError::MissingColumns("类型、出租方式".into()));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_every_reason() {
        let parsed = parse(&format!(
            "{HEADER}影佳,影佳路1弄2号301室,3,住宅,合租\n\
             \n\
             影佳,,0,castle,整租\n\
             影佳,\"影佳路１弄２号３０１\",2,flat,whole\n\
             ,影佳路9号,2,flat,whole\n"
        ))
        .unwrap();
        assert_eq!(parsed.rows.len(), 1);
        let lines: Vec<u64> = parsed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6]);
        let bad = &parsed.rejected[0].reason;
        assert!(
            bad.contains("地址") && bad.contains("间数") && bad.contains("类型"),
            "{bad}"
        );
        assert_eq!(parsed.rejected[1].reason, "与第 2 行是同一套房屋");
        assert_eq!(parsed.rejected[2].reason, "社区为空");
    }

    #[test]
    fn a_quoted_cell_spanning_lines_keeps_later_line_numbers_right() {
        let parsed = parse(&format!(
            "{HEADER}影佳,\"影佳路1号\n201室\",1,住宅,整租\n影佳,影佳路2号,x,住宅,整租\n"
        ))
        .unwrap();
        assert_eq!(parsed.rows[0].address.display(), "影佳路1号 201室");
        assert_eq!(parsed.rejected.len(), 1, "{:?}", parsed.rejected);
        assert_eq!(parsed.rejected[0].line, 4);
    }

    #[test]
    fn lines_ended_by_a_lone_carriage_return_are_numbered_like_any_other() {
        let header = HEADER.replace('\n', "\r");
        let parsed = parse(&format!(
            "{header}影佳,影佳路1号,1,住宅,整租\r影佳,影佳路1号,1,住宅,整租\r影佳,影佳路2号,x,住宅,整租\r"
        ))
        .unwrap();
        let lines: Vec<u64> = parsed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4], "{:?}", parsed.rejected);
        assert_eq!(parsed.rejected[0].reason, "与第 2 行是同一套房屋");
    }
}
