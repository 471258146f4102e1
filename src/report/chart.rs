//! Self-contained SVG charts (government networks are closed: no
//! JavaScript libraries from the network). Only numbers and labels that
//! sigaudit itself formats go into the SVG.
//!
//! Both charts stack the three classes in the legend's colours
//! (government, commercial, other) and draw nothing where there is no
//! data: an empty column is "no signatures", never "0 % migrated".

use super::lang::Lang;
use crate::aggregate::TrendRow;

const HEIGHT: f64 = 180.0;
const BAR: f64 = 26.0;
const GAP: f64 = 10.0;
const LEFT: f64 = 46.0;
/// Beyond this many months between the first and the last signing month
/// (a bogus signing time from 1970, say) only the months with data are drawn.
const MAX_CONTINUOUS_MONTHS: usize = 120;

pub(crate) const GOVERNMENT: &str = "#2e7d32";
pub(crate) const COMMERCIAL: &str = "#c62828";
pub(crate) const OTHER: &str = "#9e9e9e";

/// Signatures per signing month, stacked by class, on a continuous month
/// axis: a month without signatures is an empty column, not left out.
pub(crate) fn months(rows: &[TrendRow], l: Lang) -> String {
    if rows.is_empty() {
        return format!("<p class=\"muted\">{}</p>", l.t("no_signing_times"));
    }
    let rows = continuous(rows);
    let max = rows.iter().map(total).max().unwrap_or(0).max(1);
    let ticks = ticks(max);
    let top = *ticks.last().unwrap_or(&max) as f64;
    let ticks: Vec<(f64, String)> =
        ticks.iter().map(|t| (*t as f64 / top, t.to_string())).collect();
    bars(&rows, &ticks, false, l, |n, _| n as f64 / top)
}

/// Each audit's signatures as shares of 100 %, stacked by class; the
/// label above is the migration percentage.
pub(crate) fn audits(rows: &[TrendRow], l: Lang) -> String {
    let ticks: Vec<(f64, String)> =
        [0, 25, 50, 75, 100].iter().map(|p| (*p as f64 / 100.0, format!("{p}%"))).collect();
    bars(rows, &ticks, true, l, |n, all| n as f64 / all.max(1) as f64)
}

/// One agency's months as a small chart for the province page's small
/// multiples: every agency on the same month axis (`months`, from the
/// province's first signing month to its last), each month's column the
/// shares of the three classes; a month without signatures stays empty.
pub(crate) fn small(rows: &[TrendRow], months: &[TrendRow]) -> String {
    const W: f64 = 6.0;
    const H: f64 = 36.0;
    let width = months.len() as f64 * (W + 1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"small\" role=\"img\" \
         preserveAspectRatio=\"none\" width=\"{width:.0}\" height=\"{H:.0}\" viewBox=\"0 0 \
         {width:.0} {H:.0}\">"
    );
    svg += &format!("<line x1=\"0\" y1=\"{H}\" x2=\"{width:.0}\" y2=\"{H}\" stroke=\"#bbb\"/>");
    for (i, month) in months.iter().enumerate() {
        let Some(r) = rows.iter().find(|r| r.month == month.month) else { continue };
        let all = total(r);
        let x = i as f64 * (W + 1.0);
        let mut y = H;
        for (n, colour, _) in classes(r) {
            if n == 0 {
                continue;
            }
            let h = n as f64 / all as f64 * H;
            y -= h;
            svg += &format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{W}\" height=\"{h:.1}\" \
                 fill=\"{colour}\"><title>{}: {n}/{all}</title></rect>",
                safe(&r.month)
            );
        }
    }
    svg + "</svg>"
}

/// A column's three classes, bottom up: count, colour, the class's text key.
fn classes(r: &TrendRow) -> [(usize, &'static str, &'static str); 3] {
    [
        (r.government, GOVERNMENT, "government"),
        (r.commercial, COMMERCIAL, "commercial"),
        (r.other, OTHER, "other"),
    ]
}

fn total(r: &TrendRow) -> usize {
    r.government + r.commercial + r.other
}

/// The months from the first to the last, with empty rows for the gaps
/// (also the common axis of the small multiples).
pub(crate) fn continuous(rows: &[TrendRow]) -> Vec<TrendRow> {
    let index = |m: &str| -> Option<i64> {
        let (y, mo) = m.split_once('-')?;
        Some(y.parse::<i64>().ok()? * 12 + mo.parse::<i64>().ok()? - 1)
    };
    let known: Option<Vec<i64>> = rows.iter().map(|r| index(&r.month)).collect();
    let Some(known) = known else { return rows.to_vec() };
    let (Some(first), Some(last)) = (known.iter().min(), known.iter().max()) else {
        return rows.to_vec();
    };
    if (last - first) as usize >= MAX_CONTINUOUS_MONTHS {
        return rows.to_vec();
    }
    (*first..=*last)
        .map(|i| match known.iter().position(|k| *k == i) {
            Some(at) => rows[at].clone(),
            None => TrendRow {
                month: format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1),
                ..Default::default()
            },
        })
        .collect()
}

/// Round axis steps (1, 2 or 5 times a power of ten) from 0 to at least `max`.
fn ticks(max: usize) -> Vec<usize> {
    let rough = (max as f64 / 4.0).max(1.0);
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power)
        .max(1.0) as usize;
    (0..).map(|i| i * step).take_while(|t| *t < max + step).collect()
}

/// Stacked columns; `height(n, all)` is the share of the plot a count
/// takes. `ticks` are (share, label) for the y axis. An empty column gets
/// a "—" above it when `mark_empty` (an audit that found nothing).
fn bars(
    rows: &[TrendRow],
    ticks: &[(f64, String)],
    mark_empty: bool,
    l: Lang,
    height: impl Fn(usize, usize) -> f64,
) -> String {
    let plot = HEIGHT - 10.0;
    let base = HEIGHT + 15.0;
    let width = LEFT + rows.len() as f64 * (BAR + GAP) + GAP;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         width=\"{width:.0}\" height=\"{:.0}\" viewBox=\"0 0 {width:.0} {:.0}\" font-size=\"10\" \
         font-family=\"sans-serif\">",
        HEIGHT + 65.0,
        HEIGHT + 65.0
    );
    for (share, label) in ticks {
        let y = base - share * plot;
        svg += &format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{width:.0}\" y2=\"{y:.1}\" \
             stroke=\"#e3e6eb\"/>"
        );
        svg += &format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            LEFT - 4.0,
            y + 3.0,
            safe(label)
        );
    }
    svg += &format!(
        "<line x1=\"{LEFT}\" y1=\"{base:.0}\" x2=\"{width:.0}\" y2=\"{base:.0}\" stroke=\"#999\"/>"
    );
    for (i, r) in rows.iter().enumerate() {
        let x = LEFT + GAP + i as f64 * (BAR + GAP);
        let all = total(r);
        let label = safe(&r.month);
        let mut y = base;
        for (n, colour, class) in classes(r) {
            let class = l.t(class);
            if n == 0 {
                continue;
            }
            let h = height(n, all) * plot;
            y -= h;
            let share = n as f64 * 100.0 / all as f64;
            svg += &format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{BAR}\" height=\"{h:.1}\" \
                 fill=\"{colour}\"><title>{label}: {class} {n} ({share:.1}%)</title></rect>"
            );
        }
        let above = match r.migration_pct {
            Some(p) if all > 0 => format!("{p:.0}%"),
            _ if mark_empty => "—".into(),
            _ => String::new(),
        };
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{above}</text>",
            x + BAR / 2.0,
            y - 3.0
        );
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" transform=\"rotate(-45 {:.1} \
             {:.1})\">{label}</text>",
            x + BAR / 2.0,
            HEIGHT + 28.0,
            x + BAR / 2.0,
            HEIGHT + 28.0,
        );
    }
    svg + "</svg>"
}

/// Labels are dates and numbers sigaudit formatted; keep only safe characters anyway.
fn safe(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || "-:T %#".contains(*c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(month: &str, g: usize, c: usize, o: usize) -> TrendRow {
        TrendRow {
            month: month.into(),
            government: g,
            commercial: c,
            other: o,
            migration_pct: crate::aggregate::migration_pct(g, g + c + o),
            ..Default::default()
        }
    }

    #[test]
    fn ticks_are_round_and_reach_the_maximum() {
        assert_eq!(ticks(1), vec![0, 1]);
        assert_eq!(ticks(7), vec![0, 2, 4, 6, 8]);
        assert_eq!(ticks(40), vec![0, 10, 20, 30, 40]);
        assert_eq!(ticks(4321), vec![0, 2000, 4000, 6000]);
    }

    #[test]
    fn month_gaps_are_empty_columns() {
        let rows = continuous(&[row("2025-11", 1, 0, 0), row("2026-02", 0, 2, 0)]);
        let labels: Vec<_> = rows.iter().map(|r| r.month.as_str()).collect();
        assert_eq!(labels, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(total(&rows[1]), 0);
        let svg = months(&rows, Lang::Vi);
        assert_eq!(svg.matches("<rect").count(), 2, "one bar per month with data: {svg}");
    }

    #[test]
    fn small_multiples_share_the_axis_and_leave_gaps_empty() {
        let axis = continuous(&[row("2025-01", 1, 0, 0), row("2025-04", 1, 1, 0)]);
        let svg = small(&[row("2025-04", 1, 3, 0)], &axis);
        assert!(svg.contains("width=\"28\""), "four months wide: {svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(
            svg.contains("x=\"21.0\" y=\"27.0\" width=\"6\" height=\"9.0\" fill=\"#2e7d32\""),
            "April, a quarter government: {svg}"
        );
    }

    #[test]
    fn audit_bars_show_the_real_shares_and_no_bar_without_data() {
        let svg = audits(&[row("2026-10", 0, 0, 0), row("2026-11", 1, 2, 1)], Lang::Vi);
        assert_eq!(svg.matches("<rect").count(), 3, "{svg}");
        assert!(svg.contains(&format!("fill=\"{OTHER}\"><title>2026-11: khác 1 (25.0%)")), "{svg}");
        assert!(
            svg.contains(&format!("fill=\"{COMMERCIAL}\"><title>2026-11: công cộng 2 (50.0%)")),
            "{svg}"
        );
        let english = audits(&[row("2026-11", 1, 2, 1)], Lang::En);
        assert!(english.contains("<title>2026-11: commercial 2 (50.0%)"), "{english}");
        assert!(svg.contains(">—</text>"), "the empty audit says so: {svg}");
        assert!(svg.contains(">75%</text>"), "y-axis ticks: {svg}");
    }
}
