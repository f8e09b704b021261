//! The monthly report (月报): a summary sheet with one row per community and a total, and
//! one sheet per community with its figures and its uploads per day. The same figures as
//! `GET /api/v1/stats?month=`.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::domain::month::Month;
use crate::domain::rates::{FILING, UPLOAD};
use crate::export::{self, About, HEADER_ROW, neutralise};
use crate::store::stats::{self, Counts, Window};
use crate::store::{Store, communities};

/// One figure of a community: its label and how to read it from the counts.
struct Figure {
    label: &'static str,
    value: fn(&Counts) -> Value,
}

enum Value {
    Count(i64),
    Rate(Option<f64>),
    Hours(Option<f64>),
    Flag(Option<bool>),
}

const FIGURES: &[Figure] = &[
    Figure {
        label: "房屋数",
        value: |c| Value::Count(c.units),
    },
    Figure {
        label: "在租房屋",
        value: |c| Value::Count(c.active),
    },
    Figure {
        label: "空置房屋",
        value: |c| Value::Count(c.vacant),
    },
    Figure {
        label: "本月在住人员",
        value: |c| Value::Count(c.occupants),
    },
    Figure {
        label: "本月上传次数",
        value: |c| Value::Count(c.registrations),
    },
    Figure {
        label: "本月有上传的在租房屋",
        value: |c| Value::Count(c.self_declared),
    },
    Figure {
        label: UPLOAD.name,
        value: |c| Value::Rate(c.declaration_rate()),
    },
    Figure {
        label: "当前逾期未上传",
        value: |c| Value::Count(c.overdue),
    },
    Figure {
        label: "本月新开核查",
        value: |c| Value::Count(c.checks_opened),
    },
    Figure {
        label: "本月完成核查",
        value: |c| Value::Count(c.checks_closed),
    },
    Figure {
        label: "逾期到上门核查（中位小时）",
        value: |c| Value::Hours(c.median_hours_to_check()),
    },
    Figure {
        label: "本月线索举报",
        value: |c| Value::Count(c.tips),
    },
    Figure {
        label: "二房东房屋",
        value: |c| Value::Count(c.sublandlord_units),
    },
    Figure {
        label: "事前报备房屋",
        value: |c| Value::Count(c.filed_in_advance),
    },
    Figure {
        label: FILING.name,
        value: |c| Value::Rate(c.filing_rate()),
    },
    Figure {
        label: "事前报备率达到 95% 目标",
        value: |c| Value::Flag(FILING.met(c.filing_rate())),
    },
];

/// Builds the report of `month` from the current records, made at `at` (its title says so).
pub async fn monthly(
    store: &Store,
    month: Month,
    tz: chrono_tz::Tz,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    let shown = communities::list(store).await?;
    let counts = stats::by_community(store, Window::month(month, tz)).await?;
    let rows: Vec<(String, Counts)> = shown
        .into_iter()
        .map(|c| {
            let figures = counts.get(&c.id).cloned().unwrap_or_default();
            (c.name, figures)
        })
        .collect();
    let about = |community: Option<&str>| {
        About {
            what: format!("人房共管月报 {month}"),
            slug: "monthly-report",
            community: community.map(str::to_string),
            at,
        }
        .title(tz)
    };
    write(month, &rows, about).context("writing the monthly report")
}

/// Cell looks of the report.
struct Looks {
    title: Format,
    header: Format,
    percent: Format,
    hours: Format,
    day: Format,
}

fn write(
    month: Month,
    rows: &[(String, Counts)],
    title: impl Fn(Option<&str>) -> String,
) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let looks = Looks {
        title: export::title_format(),
        header: export::header_format(),
        percent: Format::new().set_num_format("0.0%"),
        hours: Format::new().set_num_format("0.0"),
        day: Format::new().set_num_format("yyyy-mm-dd"),
    };
    let mut total = Counts::default();
    for (_, c) in rows {
        total.add(c);
    }
    let summary = book.add_worksheet();
    summary.set_name("汇总")?;
    summary.write_string_with_format(0, 0, neutralise(&title(None)), &looks.title)?;
    summary.write_string_with_format(HEADER_ROW, 0, "社区", &looks.header)?;
    let mut widths = vec![export::display_width("社区")];
    for (i, figure) in FIGURES.iter().enumerate() {
        summary.write_string_with_format(HEADER_ROW, i as u16 + 1, figure.label, &looks.header)?;
        widths.push(export::display_width(figure.label));
    }
    let all = std::iter::once(("合计".to_string(), &total))
        .chain(rows.iter().map(|(name, c)| (name.clone(), c)));
    for (r, (name, counts)) in all.enumerate() {
        let row = r as u32 + HEADER_ROW + 1;
        let name = neutralise(&name);
        widths[0] = widths[0].max(export::display_width(&name));
        summary.write_string(row, 0, name)?;
        for (i, figure) in FIGURES.iter().enumerate() {
            put(summary, row, i as u16 + 1, (figure.value)(counts), &looks)?;
        }
    }
    export::fit_columns(summary, &widths)?;
    export::frame_header(
        summary,
        HEADER_ROW,
        rows.len() as u32 + 1,
        FIGURES.len() as u16 + 1,
    )?;

    let mut used = vec!["汇总".to_string()];
    for (name, counts) in rows {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(name, &mut used))?;
        sheet.write_string_with_format(0, 0, neutralise(&title(Some(name))), &looks.title)?;
        sheet.write_string_with_format(HEADER_ROW, 0, "指标", &looks.header)?;
        sheet.write_string_with_format(HEADER_ROW, 1, "数值", &looks.header)?;
        let mut label_width = export::display_width("指标");
        for (i, figure) in FIGURES.iter().enumerate() {
            let row = i as u32 + HEADER_ROW + 1;
            sheet.write_string(row, 0, figure.label)?;
            label_width = label_width.max(export::display_width(figure.label));
            put(sheet, row, 1, (figure.value)(counts), &looks)?;
        }
        let top = FIGURES.len() as u32 + HEADER_ROW + 2;
        sheet.write_string_with_format(top, 0, "日期", &looks.header)?;
        sheet.write_string_with_format(top, 1, "上传次数", &looks.header)?;
        for (day, n) in counts.per_day.iter().enumerate() {
            let date = month.first_day() + chrono::Days::new(day as u64);
            let row = top + 1 + day as u32;
            sheet.write_date_with_format(row, 0, export::excel_date(date)?, &looks.day)?;
            sheet.write_number(row, 1, *n as f64)?;
        }
        export::fit_columns(sheet, &[label_width, export::display_width("上传次数")])?;
        sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    }
    book.save_to_buffer().context("saving the workbook")
}

/// One figure as a cell: counts, rates and hours as numbers; a figure that cannot be
/// computed (no units to divide by) as an empty cell, so the column stays all numbers.
fn put(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: Value,
    looks: &Looks,
) -> anyhow::Result<()> {
    match value {
        Value::Count(n) => {
            sheet.write_number(row, col, n as f64)?;
        }
        Value::Rate(Some(r)) => {
            sheet.write_number_with_format(row, col, r, &looks.percent)?;
        }
        Value::Hours(Some(h)) => {
            sheet.write_number_with_format(row, col, h, &looks.hours)?;
        }
        Value::Flag(Some(met)) => {
            sheet.write_string(row, col, if met { "是" } else { "否" })?;
        }
        Value::Rate(None) | Value::Hours(None) | Value::Flag(None) => {}
    }
    Ok(())
}

/// A worksheet name Excel accepts (at most 31 characters, none of `[]:*?/\`, not starting
/// or ending with `'`) and not yet used in the workbook.
fn sheet_name(community: &str, used: &mut Vec<String>) -> String {
    let clean: String = community
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean
        .trim_matches('\'')
        .chars()
        .take(28)
        .collect::<String>();
    let base = if clean.is_empty() {
        "社区".to_string()
    } else {
        clean
    };
    let mut name = base.clone();
    let mut n = 2;
    while used.iter().any(|u| u.to_lowercase() == name.to_lowercase()) {
        name = format!("{base}~{n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut used = vec!["汇总".to_string()];
        assert_eq!(sheet_name("影佳", &mut used), "影佳");
        assert_eq!(sheet_name("a/b:c", &mut used), "a_b_c");
        assert_eq!(sheet_name("汇总", &mut used), "汇总~2");
        let long = sheet_name(&"长".repeat(40), &mut used);
        assert!(long.chars().count() <= 31);
    }
}
