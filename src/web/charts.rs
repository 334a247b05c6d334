//! Charts drawn on the server as SVG, no script and no CDN: this module computes the
//! geometry (numbers only), the templates draw it (text auto-escaped), and each chart comes
//! with its figures as a table for screen readers and copying.

use super::i18n;

/// The drawing area: `WIDTH` × `PLOT` units, labels below.
pub const WIDTH: i64 = 600;
pub const PLOT: i64 = 120;

/// One bar of a bar chart, in SVG units, with its hover text.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub title: String,
}

/// Values per day as vertical bars.
pub struct BarChart {
    pub id: &'static str,
    pub title: String,
    /// One sentence for assistive technology: total, peak, days.
    pub summary: String,
    /// The colour class of the bars.
    pub class: &'static str,
    pub max: i64,
    pub bars: Vec<Bar>,
    pub first_label: String,
    pub last_label: String,
    /// (day, value) for the table.
    pub rows: Vec<(String, String)>,
}

/// A share over days as a line (0 % at the bottom, 100 % at the top).
pub struct LineChart {
    pub id: &'static str,
    pub title: String,
    pub summary: String,
    /// `x,y x,y …` for a polyline.
    pub points: String,
    pub first_label: String,
    pub last_label: String,
    pub rows: Vec<(String, String)>,
}

/// Labelled horizontal bars (a mix: factors, plugins).
pub struct HBar {
    pub y: i64,
    pub w: i64,
    pub label: String,
    pub value: String,
}

pub struct HBarChart {
    pub id: &'static str,
    pub title: String,
    pub summary: String,
    pub height: i64,
    pub bars: Vec<HBar>,
}

/// Where horizontal bars start, and the row height.
pub const HBAR_LEFT: i64 = 200;
pub const HBAR_ROW: i64 = 28;

/// `2026-11-30` for a Unix day number.
pub fn day_label(day: i64) -> String {
    match cookie::time::OffsetDateTime::from_unix_timestamp(day * 86_400) {
        Ok(t) => t.date().to_string(),
        Err(_) => day.to_string(),
    }
}

pub fn bars(id: &'static str, title: &str, class: &'static str, days: &[i64], values: &[i64]) -> BarChart {
    let n = values.len().max(1) as i64;
    let max = values.iter().copied().max().unwrap_or(0).max(0);
    let slot = WIDTH / n;
    let labels: Vec<String> = days.iter().map(|d| day_label(*d)).collect();
    let bars = values
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(i, (v, label))| {
            let h = if max > 0 { (v.max(&0) * PLOT) / max } else { 0 };
            // A day with events never disappears into the axis.
            let h = if *v > 0 { h.max(2) } else { 0 };
            Bar { x: i as i64 * slot + 1, y: PLOT - h, w: (slot - 2).max(1), h, title: format!("{label}: {v}") }
        })
        .collect();
    let total: i64 = values.iter().sum();
    let peak = values.iter().zip(&labels).max_by_key(|(v, _)| **v).filter(|(v, _)| **v > 0);
    let summary = match peak {
        Some((v, day)) => i18n::text_in(
            i18n::current(),
            "chart-bars-summary",
            &[("total", &total.to_string()), ("days", &n.to_string()), ("day", day), ("most", &v.to_string())],
        ),
        None => i18n::t1("chart-bars-none", "days", n),
    };
    BarChart {
        id,
        title: title.to_owned(),
        summary,
        class,
        max,
        bars,
        first_label: labels.first().cloned().unwrap_or_default(),
        last_label: labels.last().cloned().unwrap_or_default(),
        rows: labels.iter().zip(values).map(|(l, v)| (l.clone(), v.to_string())).collect(),
    }
}

pub fn percent_line(id: &'static str, title: &str, days: &[i64], shares: &[f64]) -> LineChart {
    let n = shares.len() as i64;
    let step = if n > 1 { WIDTH / (n - 1) } else { 0 };
    let y = |s: f64| PLOT - (s.clamp(0.0, 1.0) * PLOT as f64).round() as i64;
    let points =
        shares.iter().enumerate().map(|(i, s)| format!("{},{}", i as i64 * step, y(*s))).collect::<Vec<_>>().join(" ");
    let labels: Vec<String> = days.iter().map(|d| day_label(*d)).collect();
    let pct = |s: f64| format!("{:.0} %", s * 100.0);
    let summary = match (shares.first(), shares.last()) {
        (Some(a), Some(b)) => i18n::text_in(
            i18n::current(),
            "chart-line-summary",
            &[("from", &pct(*a)), ("to", &pct(*b)), ("days", &n.to_string())],
        ),
        _ => i18n::t("chart-no-data"),
    };
    LineChart {
        id,
        title: title.to_owned(),
        summary,
        points,
        first_label: labels.first().cloned().unwrap_or_default(),
        last_label: labels.last().cloned().unwrap_or_default(),
        rows: labels.iter().zip(shares).map(|(l, s)| (l.clone(), pct(*s))).collect(),
    }
}

/// `items`: (label, value, shown value).
pub fn hbars(id: &'static str, title: &str, items: &[(String, i64, String)]) -> HBarChart {
    let max = items.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let room = WIDTH - HBAR_LEFT - 60;
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, v, shown))| HBar {
            y: i as i64 * HBAR_ROW,
            w: if *v > 0 { ((v * room) / max).max(2) } else { 0 },
            label: label.clone(),
            value: shown.clone(),
        })
        .collect();
    let summary = items.iter().map(|(l, _, s)| format!("{l}: {s}")).collect::<Vec<_>>().join("; ");
    HBarChart { id, title: title.to_owned(), summary, height: (items.len() as i64 * HBAR_ROW).max(HBAR_ROW), bars }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_highest_day() {
        let c = bars("x", "X", "a", &[20_000, 20_001, 20_002], &[0, 5, 10]);
        assert_eq!(c.max, 10);
        assert_eq!(c.bars[2].h, PLOT);
        assert_eq!(c.bars[1].h, PLOT / 2);
        assert_eq!(c.bars[0].h, 0);
        assert_eq!(c.bars[2].y, 0);
        assert!(c.summary.contains("15 in 3 days") && c.summary.contains("(10)"), "{}", c.summary);
        assert_eq!(c.rows[0].0, "2024-10-04", "day 20,000");
        let empty = bars("x", "X", "a", &[1, 2], &[0, 0]);
        assert!(empty.bars.iter().all(|b| b.h == 0) && empty.summary.starts_with("None"));
    }

    #[test]
    fn lines_and_mixes() {
        let l = percent_line("r", "R", &[0, 1, 2], &[0.0, 0.5, 1.0]);
        assert_eq!(l.points, format!("0,{PLOT} 300,{} 600,0", PLOT / 2));
        assert_eq!(l.rows[1].1, "50 %");
        let h = hbars("m", "M", &[("TOTP".into(), 3, "3".into()), ("Passkey".into(), 0, "0".into())]);
        assert_eq!(h.bars[0].w, WIDTH - HBAR_LEFT - 60);
        assert_eq!(h.bars[1].w, 0);
        assert_eq!(h.height, 2 * HBAR_ROW);
    }
}
