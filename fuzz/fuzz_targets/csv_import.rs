//! Bulk unit import: `import::decode` (UTF-8 with or without BOM, else GBK/GB18030) and
//! `import::parse` on arbitrary bytes.
//! No data row is ever reported on line 1 (the header's line), whatever ends the lines:
//! files whose lines end in a bare CR broke that once; see RESULTS.md.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use renfang::domain::import::{self, FileError, MAX_BYTES};
use renfang::domain::unit::{Address, MAX_ROOMS};

fuzz_target!(|data: &[u8]| {
    assert!(data.len() <= MAX_BYTES);
    let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let decoded = import::decode(data);
    assert_eq!(decoded, import::decode(data), "decode is deterministic");
    let text = match decoded {
        Ok(text) => {
            if let Ok(utf8) = std::str::from_utf8(body) {
                assert_eq!(text, utf8, "UTF-8 is taken as it is");
            }
            text
        }
        Err(FileError::Encoding) => {
            assert!(std::str::from_utf8(body).is_err(), "valid UTF-8 refused");
            // Still exercise the parser on what a lenient reader would see.
            String::from_utf8_lossy(body).into_owned()
        }
        Err(e) => panic!("decode gave {e:?} for {} bytes", data.len()),
    };
    check_parse(&text);
});

fn check_parse(text: &str) {
    let result = import::parse(text);
    // Deterministic (Parsed has no PartialEq; compare its parts).
    let again = import::parse(text);
    match (&result, &again) {
        (Ok(a), Ok(b)) => assert!(a.rows == b.rows && a.rejected == b.rejected),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("parse is not deterministic"),
    }

    // Lines as the file has them: the header is line 1, each '\n', "\r\n" or lone '\r'
    // starts another.
    let bytes = text.as_bytes();
    let lines = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count() as u64
        + 1;
    // Every record but the last ends in a terminator ('\n', '\r' or "\r\n").
    let terminators = text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();

    let parsed = match result {
        Ok(parsed) => parsed,
        Err(FileError::Empty) => {
            assert!(text.trim().is_empty());
            return;
        }
        Err(FileError::Malformed { line, .. }) => {
            assert!(
                (1..=lines).contains(&line),
                "malformed at line {line} of {lines}"
            );
            return;
        }
        Err(FileError::MissingColumns(names)) => {
            assert!(!names.is_empty());
            return;
        }
        Err(FileError::DuplicateColumn(name)) => {
            assert!(!name.is_empty());
            return;
        }
        Err(e) => panic!("parse gave {e:?}"),
    };
    assert!(!text.trim().is_empty());

    let in_range = |line: u64| (2..=lines).contains(&line);

    // Records after the header, at most one per terminator.
    let reported = parsed.rows.len() + parsed.rejected.len();
    assert!(
        reported <= terminators,
        "{reported} rows from {terminators} line ends"
    );

    let mut previous = 0;
    let mut seen = HashSet::new();
    let mut row_lines = HashSet::new();
    for row in &parsed.rows {
        assert!(in_range(row.line), "row at line {} of {lines}", row.line);
        assert!(row.line >= previous, "rows out of order");
        previous = row.line;
        row_lines.insert(row.line);
        assert!(!row.community.is_empty());
        assert_eq!(row.community, row.community.trim());
        assert!((1..=MAX_ROOMS).contains(&row.rooms));
        if let Some(area) = row.floor_area_m2 {
            assert!(area > 0.0 && area < 100_000.0);
        }
        assert!(!row.address.key().is_empty());
        assert_eq!(
            Address::parse(row.address.display()).as_ref(),
            Ok(&row.address)
        );
        assert!(
            seen.insert((row.community.clone(), row.address.key().to_string())),
            "two accepted rows for one flat"
        );
    }

    let mut previous = 0;
    for rejected in &parsed.rejected {
        assert!(
            in_range(rejected.line),
            "rejection at line {} of {lines}",
            rejected.line
        );
        assert!(rejected.line >= previous, "rejections out of order");
        previous = rejected.line;
        assert!(!rejected.reason.is_empty());
        // A duplicate names the accepted row it repeats, which came first.
        if let Some(first) = rejected
            .reason
            .strip_prefix("与第 ")
            .and_then(|r| r.strip_suffix(" 行是同一套房屋"))
        {
            let first: u64 = first.parse().expect("a line number");
            assert!(first <= rejected.line);
            assert!(
                row_lines.contains(&first),
                "duplicate of line {first}, not a row"
            );
        }
    }
}
