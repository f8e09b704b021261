//! Charts drawn on the server as inline SVG: no script, no external file, readable on a
//! phone, printable.

use std::fmt::Write;

/// Escapes text for SVG.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Vertical bars, one per label (e.g. uploads per day), with the largest value marked.
pub fn bars(title: &str, labels: &[String], values: &[i64]) -> String {
    let (w, h, left, bottom, top) = (480.0, 240.0, 34.0, 28.0, 28.0);
    let n = values.len().max(1) as f64;
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_h = h - bottom - top;
    let step = (w - left - 8.0) / n;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text x="{left}" y="18" font-size="14" fill="#1f2328">{t}</text><line x1="{left}" y1="{y0}" x2="{w}" y2="{y0}" stroke="#b7bdc6"/><text x="{lx}" y="{ty}" font-size="13" text-anchor="end" fill="#555">{max}</text><text x="{lx}" y="{y0}" font-size="13" text-anchor="end" fill="#555">0</text>"##,
        t = esc(title),
        y0 = h - bottom,
        lx = left - 4.0,
        ty = top + 4.0,
        max = max as i64,
    );
    for (i, &v) in values.iter().enumerate() {
        let bar_h = plot_h * v as f64 / max;
        let x = left + step * i as f64 + step * 0.15;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bar_h:.1}" fill="#0b6bcb"><title>{label}：{v}</title></rect>"##,
            y = h - bottom - bar_h,
            bw = step * 0.7,
            label = esc(labels.get(i).map_or("", String::as_str)),
        );
        // Every fifth label, and the last, so that a month's days stay legible.
        if i % 5 == 0 || i + 1 == values.len() {
            let _ = write!(
                svg,
                r##"<text x="{cx:.1}" y="{ly}" font-size="13" text-anchor="middle" fill="#555">{label}</text>"##,
                cx = x + step * 0.35,
                ly = h - 10.0,
                label = esc(labels.get(i).map_or("", String::as_str)),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of rates (0–1) per label, with a dashed line at the target; a row
/// without a rate says `empty` (what it lacks to have one).
pub fn rates(title: &str, rows: &[(String, Option<f64>)], target: f64, empty: &str) -> String {
    let (w, left, row_h, top) = (480.0, 96.0, 26.0, 30.0);
    let h = top + row_h * rows.len().max(1) as f64 + 24.0;
    let plot_w = w - left - 56.0;
    let tx = left + plot_w * target;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text x="8" y="18" font-size="14" fill="#1f2328">{t}</text>"##,
        t = esc(title),
    );
    for (i, (label, rate)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty:.1}" font-size="13" text-anchor="end" fill="#1f2328">{label}</text>"##,
            lx = left - 6.0,
            ty = y + 16.0,
            label = esc(label),
        );
        match rate {
            Some(r) => {
                let fill = if *r >= target { "#1b7f3b" } else { "#c62828" };
                let _ = write!(
                    svg,
                    r##"<rect x="{left}" y="{y:.1}" width="{bw:.1}" height="{bh}" fill="{fill}"/><text x="{vx:.1}" y="{ty:.1}" font-size="13" fill="#1f2328">{pct:.1}%</text>"##,
                    bw = plot_w * r.clamp(0.0, 1.0),
                    bh = row_h - 8.0,
                    vx = left + plot_w * r.clamp(0.0, 1.0) + 4.0,
                    ty = y + 16.0,
                    pct = r * 100.0,
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r##"<text x="{left}" y="{ty:.1}" font-size="13" fill="#555">{empty}</text>"##,
                    ty = y + 16.0,
                    empty = esc(empty),
                );
            }
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{tx:.1}" y1="{top}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#1f2328" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{ly:.1}" font-size="13" text-anchor="middle" fill="#1f2328">目标 {pct:.0}%</text></svg>"##,
        bottom = h - 20.0,
        ly = h - 6.0,
        pct = target * 100.0,
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = bars("上传<次数>", &["1".into(), "2".into()], &[5, 10]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("上传&lt;次数&gt;"));
        assert!(svg.contains(r#"height="184.0""#), "{svg}");
        assert!(svg.contains(r#"height="92.0""#), "{svg}");
    }

    #[test]
    fn rates_mark_the_target_and_colour_by_it() {
        let svg = rates(
            "申报率",
            &[
                ("影佳".into(), Some(0.97)),
                ("祥东".into(), Some(0.5)),
                ("虬长路".into(), None),
            ],
            0.95,
            "无二房东出租房屋",
        );
        assert!(svg.contains("目标 95%"));
        assert!(svg.contains("#1b7f3b") && svg.contains("#c62828"));
        assert!(svg.contains("97.0%") && svg.contains("50.0%"));
        assert!(
            svg.contains("无二房东出租房屋"),
            "a row with no rate says why"
        );
    }
}
