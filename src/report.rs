//! The monthly report (月报): a summary sheet with one row per community and a total, and
//! one sheet per community with its figures and its uploads per day. The same figures as
//! `GET /api/v1/stats?month=`, and the enforcement cases of the month's quarter (decided
//! with a violation up to the month's end) against the quarterly target.

use anyhow::Context;
use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::domain::case::quarter_of;
use crate::domain::month::Month;
use crate::domain::rates::{FILING, UPLOAD};
use crate::export::{self, About, HEADER_ROW, neutralise};
use crate::store::stats::{self, Counts, Window};
use crate::store::{Scope, Store, cases, communities};

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

/// The enforcement cases of the report: the quarter the month falls in, counted up to the
/// month's end.
struct CaseFigures {
    /// `2026年第4季度（截至 2026-11-30）`.
    period: String,
    /// Per community, in the order of the rows.
    decided: Vec<i64>,
    target: i64,
}

/// Builds the report of `month` from the current records, made at `at` (its title says so);
/// `case_target` is the quarter's target of enforcement cases.
pub async fn monthly(
    store: &Store,
    month: Month,
    tz: chrono_tz::Tz,
    at: DateTime<Utc>,
    case_target: u32,
) -> anyhow::Result<Vec<u8>> {
    let shown = communities::list(store).await?;
    let counts = stats::by_community(store, Window::month(month, tz)).await?;
    let quarter = quarter_of(month.first_day());
    let month_end = month.first_day() + chrono::Days::new(month.days() as u64 - 1);
    let decided: std::collections::HashMap<i64, i64> =
        cases::decided_by_community(store, Scope::All, quarter.first_day(), month_end)
            .await?
            .into_iter()
            .collect();
    let cases = CaseFigures {
        period: format!("{}（截至 {month_end}）", quarter.label_zh()),
        decided: shown
            .iter()
            .map(|c| decided.get(&c.id).copied().unwrap_or(0))
            .collect(),
        target: i64::from(case_target),
    };
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
    write(month, &rows, &cases, about).context("writing the monthly report")
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
    cases: &CaseFigures,
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
    // The enforcement cases under the table, outside its filter: the quarter's count
    // against the target, in total and per community.
    let top = HEADER_ROW + rows.len() as u32 + 3;
    summary.write_string_with_format(
        top,
        0,
        format!("执法案件：{}已查办（认定有违法行为）", cases.period),
        &looks.title,
    )?;
    for (c, label) in [CASES_DECIDED, CASES_TARGET].iter().enumerate() {
        summary.write_string_with_format(top + 1, c as u16 + 1, *label, &looks.header)?;
    }
    summary.write_string_with_format(top + 1, 0, "社区", &looks.header)?;
    summary.write_string(top + 2, 0, "合计")?;
    summary.write_number(top + 2, 1, cases.decided.iter().sum::<i64>() as f64)?;
    summary.write_number(top + 2, 2, cases.target as f64)?;
    for (i, ((name, _), n)) in rows.iter().zip(&cases.decided).enumerate() {
        summary.write_string(top + 3 + i as u32, 0, neutralise(name))?;
        summary.write_number(top + 3 + i as u32, 1, *n as f64)?;
    }
    export::fit_columns(summary, &widths)?;
    export::frame_header(
        summary,
        HEADER_ROW,
        rows.len() as u32 + 1,
        FIGURES.len() as u16 + 1,
    )?;

    let mut used = vec!["汇总".to_string()];
    for ((name, counts), decided) in rows.iter().zip(&cases.decided) {
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
        let case_row = FIGURES.len() as u32 + HEADER_ROW + 1;
        sheet.write_string(case_row, 0, CASES_DECIDED)?;
        sheet.write_number(case_row, 1, *decided as f64)?;
        label_width = label_width.max(export::display_width(CASES_DECIDED));
        let top = case_row + 2;
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

/// The label of the quarter's decided cases, up to the month's end.
const CASES_DECIDED: &str = "本季度已查办执法案件（截至月末）";
/// The label of the quarter's target.
const CASES_TARGET: &str = "季度目标";

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
