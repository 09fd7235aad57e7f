//! A tipster's profit over time, drawn here as SVG (no chart library for one line): the running
//! profit in units of stake after each settled code, with a period switch (all time, 30 days,
//! 7 days) counted again from the window's start as the server's `?period=` does.

use dioxus::prelude::*;
use oddxer_shared::api::PerformancePointOut;
use oddxer_shared::Outcome;

use crate::format;
use crate::state::AppState;

use super::tipster_stats::{gain_class, units};

/// Chart geometry in a `CHART_W` x `CHART_H` box (y grows downwards): the line's points (the
/// start at 0 units, then one per settled code) and the y of the zero line.
struct Chart {
    line: Vec<(f64, f64)>,
    zero_y: f64,
}

const CHART_W: f64 = 600.0;
const CHART_H: f64 = 200.0;
/// Room above and below the line so its extremes don't touch the edges.
const CHART_PAD: f64 = 14.0;
/// Room left and right, so the first and last dots are not cut in half.
const CHART_PAD_X: f64 = 10.0;

fn chart(points: &[PerformancePointOut]) -> Chart {
    let values: Vec<f64> = std::iter::once(0.0)
        .chain(points.iter().map(|p| p.cumulative_profit_units))
        .collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let min = values.iter().copied().fold(0.0_f64, f64::min);
    // All voids (a flat line at 0) still gets a scale.
    let span = if max - min < 1e-9 { 1.0 } else { max - min };
    let y = |v: f64| CHART_PAD + (max - v) / span * (CHART_H - 2.0 * CHART_PAD);
    let steps = (values.len().max(2) - 1) as f64;
    let line = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = CHART_PAD_X + i as f64 / steps * (CHART_W - 2.0 * CHART_PAD_X);
            (x, y(*v))
        })
        .collect();
    Chart {
        line,
        zero_y: y(0.0),
    }
}

/// The chart's periods: `(dom id, label, days)`; `None` is all time.
const CHART_PERIODS: [(&str, &str, Option<i64>); 3] = [
    ("chart-period-all", "All", None),
    ("chart-period-30d", "30 days", Some(30)),
    ("chart-period-7d", "7 days", Some(7)),
];

/// The points settled in the last `days` days before `now_ms` (all of them for `None`), with the
/// running profit and yield counted again from the window's start, as the server does for
/// `?period=`.
pub fn in_period(
    points: &[PerformancePointOut],
    days: Option<i64>,
    now_ms: f64,
) -> Vec<PerformancePointOut> {
    let Some(days) = days else {
        return points.to_vec();
    };
    let since = now_ms - days as f64 * 86_400_000.0;
    let mut profit = 0.0;
    let mut stakes = 0.0;
    points
        .iter()
        .filter(|p| crate::browser::time_ms(&p.finalized_at).is_some_and(|t| t >= since))
        .map(|p| {
            match p.outcome {
                Outcome::Won => {
                    profit += p.odds - 1.0;
                    stakes += 1.0;
                }
                Outcome::Lost => {
                    profit -= 1.0;
                    stakes += 1.0;
                }
                Outcome::Void => {}
            }
            PerformancePointOut {
                cumulative_profit_units: profit,
                cumulative_yield: if stakes > 0.0 { profit / stakes } else { 0.0 },
                ..p.clone()
            }
        })
        .collect()
}

/// The profit chart with its period switch (all time, 30 days, 7 days).
#[component]
pub fn PeriodChart(points: Vec<PerformancePointOut>) -> Element {
    let state = use_context::<AppState>();
    let mut days = use_signal(|| None::<i64>);
    let now = *state.now_ms.read();
    let shown = in_period(&points, days(), now);
    rsx! {
        div { class: "segmented seg-3 chart-periods", id: "chart-period", role: "radiogroup", aria_label: "Period",
            for (id, label, d) in CHART_PERIODS {
                button { key: "{id}", r#type: "button", id: id,
                    class: if days() == d { "seg active" } else { "seg" },
                    aria_checked: days() == d,
                    onclick: move |_| days.set(d),
                    "{label}"
                }
            }
        }
        ProfitChart { points: shown }
    }
}

#[component]
fn ProfitChart(points: Vec<PerformancePointOut>) -> Element {
    if points.is_empty() {
        return rsx! {
            p { class: "muted small chart-empty", id: "profit-chart-empty",
                "The chart starts with this tipster's first settled code." }
        };
    }
    let c = chart(&points);
    let path: String = c
        .line
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }))
        .collect();
    let (first_x, last_x) = (
        c.line.first().map_or(0.0, |p| p.0),
        c.line.last().map_or(CHART_W, |p| p.0),
    );
    let area = format!(
        "{path} L{last_x:.1},{:.1} L{first_x:.1},{:.1} Z",
        c.zero_y, c.zero_y
    );
    let last = points
        .last()
        .map(|p| p.cumulative_profit_units)
        .unwrap_or(0.0);
    let best = points
        .iter()
        .map(|p| p.cumulative_profit_units)
        .fold(0.0_f64, f64::max);
    let worst = points
        .iter()
        .map(|p| p.cumulative_profit_units)
        .fold(0.0_f64, f64::min);
    let trend = if last >= 0.0 { "up" } else { "down" };
    let summary = format!(
        "after {} settled code{}",
        points.len(),
        if points.len() == 1 { "" } else { "s" }
    );
    let dots: Vec<(f64, f64, &'static str, String)> = c
        .line
        .iter()
        .skip(1)
        .zip(points.iter())
        .map(|((x, y), p)| {
            let class = match p.outcome {
                Outcome::Won => "dot dot-won",
                Outcome::Lost => "dot dot-lost",
                Outcome::Void => "dot dot-void",
            };
            let tip = format!(
                "{} at {} · {} · {}",
                format::outcome(p.outcome),
                format::odds(p.odds),
                units(p.cumulative_profit_units),
                format::timestamp(&p.finalized_at)
            );
            (*x, *y, class, tip)
        })
        .collect();

    rsx! {
        div { class: "chart", id: "profit-chart", "data-points": "{points.len()}",
            div { class: "chart-summary",
                span { class: "chart-now {gain_class(last)}", id: "profit-chart-now", "{units(last)}" }
                span { class: "muted small", "{summary} · best {units(best)} · worst {units(worst)}" }
            }
            svg { class: "chart-svg chart-{trend}", view_box: "0 0 {CHART_W} {CHART_H}",
                preserve_aspect_ratio: "none", role: "img",
                "aria-label": "Profit over time: {units(last)} {summary}",
                line { class: "chart-zero", x1: "0", x2: "{CHART_W}", y1: "{c.zero_y:.1}", y2: "{c.zero_y:.1}" }
                path { class: "chart-area", d: "{area}" }
                path { class: "chart-line", d: "{path}" }
                // Zero-length round-capped strokes stay round when the box is stretched.
                for (i, (x, y, class, tip)) in dots.into_iter().enumerate() {
                    path { key: "{i}", class, d: "M{x:.1},{y:.1} l0,0",
                        title { "{tip}" }
                    }
                }
            }
            div { class: "chart-axis muted small",
                span { "First result" }
                span { "Latest" }
            }
        }
    }
}
