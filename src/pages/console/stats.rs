//! The statistics page: the figures of `GET /api/v1/stats` per community for a month, with
//! uploads per day and the self-declaration rate against its target as SVG charts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, admit, charts, page_or_error, percent, target_met};
use crate::domain::month::Month;
use crate::domain::rates::{FILING, Rate, UPLOAD};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::State;
use crate::pages::session::{Detour, PageCaller, html};
use crate::service;
use crate::service::stats::{CountsOut, FILING_RATE_TARGET};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/stats", web::get().to(stats_page));
}

/// The page's form.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    community: String,
}

/// One row of the table, formatted.
struct Line {
    name: String,
    c: CountsOut,
    /// 事前报备率, and whether it meets the plan's target (`good`/`bad`, none).
    filing: String,
    met: &'static str,
    tone: &'static str,
    /// 上传率.
    upload: String,
    hours: String,
}

fn line(name: String, c: CountsOut) -> Line {
    let (met, tone) = target_met(c.filing_rate_met);
    Line {
        filing: percent(c.filing_rate),
        met,
        tone,
        upload: percent(c.upload_rate),
        hours: c
            .median_hours_overdue_to_check
            .map_or("—".to_string(), |h| format!("{h:.1}")),
        name,
        c,
    }
}

#[derive(Template)]
#[template(path = "console_stats.html")]
struct StatsPage {
    chrome: Chrome,
    month: String,
    community: String,
    names: Vec<String>,
    lines: Vec<Line>,
    per_day_chart: String,
    rate_chart: String,
    filing: Rate,
    upload: Rate,
}

async fn stats_page(
    state: State,
    q: web::Query<PageQuery>,
    PageCaller(caller): PageCaller,
) -> Result<HttpResponse, Detour> {
    let caller = admit(caller, Role::is_staff)?;
    let month = Month::parse(q.month.trim())
        .unwrap_or_else(|| Month::of(chrono::Utc::now(), state.settings.tz));
    let result = async {
        let month_name = month.to_string();
        let all =
            service::stats::for_caller(&state, &caller, None, Some(month_name.as_str())).await?;
        let names: Vec<String> = all
            .communities
            .iter()
            .map(|c| c.community.clone())
            .collect();
        let wanted = q.community.trim();
        let shown = if wanted.is_empty() {
            all
        } else {
            service::stats::for_caller(&state, &caller, Some(wanted), Some(month_name.as_str()))
                .await?
        };
        let days = &shown.overall.registrations_per_day;
        let labels: Vec<String> = days.iter().map(|d| d.date[8..].to_string()).collect();
        let counts: Vec<i64> = days.iter().map(|d| d.count).collect();
        let per_day_chart = charts::bars(&format!("{month} 每日上传次数"), &labels, &counts);
        let rates: Vec<(String, Option<f64>)> = shown
            .communities
            .iter()
            .map(|c| (c.community.clone(), c.counts.filing_rate))
            .collect();
        let rate_chart = charts::rates(FILING.name, &rates, FILING_RATE_TARGET, "无二房东出租房屋");
        let mut lines = vec![line("合计".into(), shown.overall.clone())];
        lines.extend(
            shown
                .communities
                .into_iter()
                .map(|c| line(c.community, c.counts)),
        );
        let page = StatsPage {
            chrome: Chrome::new(&caller, "/console/stats"),
            month: month.to_string(),
            community: wanted.to_string(),
            names,
            lines,
            per_day_chart,
            rate_chart,
            filing: FILING,
            upload: UPLOAD,
        };
        Ok::<_, AppError>(html(StatusCode::OK, page.render()))
    }
    .await;
    Ok(page_or_error(&caller, result))
}
