//! Self-contained SVG charts (government networks are closed: no
//! JavaScript libraries from the network). Only numbers and labels that
//! sigaudit itself formats go into the SVG.

use crate::aggregate::TrendRow;

const HEIGHT: f64 = 180.0;
const BAR: f64 = 26.0;
const GAP: f64 = 10.0;
const LEFT: f64 = 60.0;

/// Stacked bars per month: government, commercial, other; with the
/// migration percentage above each bar.
pub fn months(rows: &[TrendRow]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">Không có chữ ký nào có thời điểm ký (no signing times).</p>".into();
    }
    let max = rows.iter().map(|r| r.government + r.commercial + r.other).max().unwrap_or(1).max(1);
    bars(rows, max, &max.to_string())
}

fn bars(rows: &[TrendRow], max: usize, axis_label: &str) -> String {
    let max = max.max(1) as f64;
    let width = LEFT + rows.len() as f64 * (BAR + GAP) + GAP;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width:.0}\" height=\"{:.0}\" viewBox=\"0 0 {width:.0} {:.0}\" font-size=\"10\" font-family=\"sans-serif\">",
        HEIGHT + 65.0,
        HEIGHT + 65.0
    );
    svg += &format!("<line x1=\"{LEFT}\" y1=\"{:.0}\" x2=\"{width:.0}\" y2=\"{:.0}\" stroke=\"#999\"/>", HEIGHT + 15.0, HEIGHT + 15.0);
    svg += &format!("<text x=\"2\" y=\"20\">{}</text>", digits(axis_label));
    for (i, r) in rows.iter().enumerate() {
        let x = LEFT + GAP + i as f64 * (BAR + GAP);
        let mut y = HEIGHT + 15.0;
        for (n, colour) in [(r.government, "#2e7d32"), (r.commercial, "#c62828"), (r.other, "#9e9e9e")] {
            if n == 0 {
                continue;
            }
            let h = n as f64 / max * (HEIGHT - 10.0);
            y -= h;
            svg += &format!("<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{BAR}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{} {n}</title></rect>", digits(&r.month));
        }
        if let Some(p) = r.migration_pct {
            svg += &format!("<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{p:.0}%</text>", x + BAR / 2.0, y - 3.0);
        }
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-45 {:.1} {:.1})\">{}</text>",
            x + BAR / 2.0,
            HEIGHT + 28.0,
            x + BAR / 2.0,
            HEIGHT + 28.0,
            digits(&r.month)
        );
    }
    svg + "</svg>"
}

/// Migration percentage per audit run, oldest first.
pub fn audits(points: &[(String, Option<f64>)]) -> String {
    let rows: Vec<TrendRow> = points
        .iter()
        .map(|(label, pct)| {
            let g = pct.map(|p| (p * 10.0).round() as usize).unwrap_or(0);
            TrendRow { month: label.clone(), government: g, commercial: 1000 - g.min(1000), migration_pct: *pct, ..Default::default() }
        })
        .collect();
    bars(&rows, 1000, "100%")
}

/// Labels are dates sigaudit formatted; keep only safe characters anyway.
fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || "-:T %#".contains(*c)).collect()
}
