//! Tables as files people open in Excel or WPS: CSV (UTF-8 with BOM) and XLSX.
//!
//! Every text cell is neutralised against formula injection: a cell that a spreadsheet would
//! read as a formula (`=`, `+`, `-`, `@`, tab or carriage return first) gets a leading `'`.

use anyhow::Context;

/// A table: header row and data rows, all text.
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The cell as a spreadsheet will read it safely.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
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
        line(&mut row.iter().cloned());
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

/// One worksheet; every cell is written as a string, never as a formula.
pub fn xlsx(sheet: &str, table: &Table) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).context("worksheet name")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, neutralise(cell))?;
        }
    }
    book.save_to_buffer().context("writing the XLSX")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            headers: vec!["地址", "备注"],
            rows: vec![vec![
                "=HYPERLINK(\"http://x\",\"y\")".into(),
                "a,\"b\"\nc".into(),
            ]],
        }
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
    fn xlsx_is_a_zip_with_the_neutralised_text() {
        let bytes = xlsx("核查", &table()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
