//! SVG charts (plotters): latency CDFs on a log time axis, one panel per image with a line per
//! resolver x mode, and the queries each lookup sent, split into wasted and answering ones.
//! Failed lookups stay in the CDFs (a user waits for them too); legends count them.

use anyhow::Result;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use crate::result::{CellResult, RunResult};

const PANEL: (u32, u32) = (620, 400);

/// One colour per resolver x mode, the same in every panel.
fn colour(c: &CellResult) -> RGBColor {
    use crate::result::{Mode, Resolver};
    match (c.probe.cell.resolver, c.probe.cell.mode) {
        (Resolver::System, Mode::Parallel) => RGBColor(31, 119, 180),
        (Resolver::System, Mode::Sequential) => RGBColor(174, 199, 232),
        (Resolver::Hickory, Mode::Parallel) => RGBColor(214, 39, 40),
        (Resolver::Hickory, Mode::Sequential) => RGBColor(255, 152, 150),
    }
}

fn images(run: &RunResult) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for c in &run.cells {
        if !seen.contains(&c.image.reference.as_str()) {
            seen.push(&c.image.reference);
        }
    }
    seen
}

fn image_title(c: &CellResult) -> String {
    let star = if c.image.source == "registry" {
        ""
    } else {
        "*"
    };
    let libc = &c.probe.environment.libc;
    format!(
        "{}{star} ({} {}, {} probe)",
        c.image.reference, libc.family, libc.version, c.probe.probe.flavour
    )
}

/// Cumulative share of lookups (%) at each recorded latency (log10 of ms), as a step line.
fn cdf_points(c: &CellResult) -> Result<Vec<(f64, f64)>> {
    let h = c.probe.latency.histogram()?;
    let total = h.len().max(1) as f64;
    let mut points = Vec::new();
    let mut seen = 0u64;
    for v in h.iter_recorded() {
        let x = (v.value_iterated_to().max(1) as f64 / 1000.0).log10();
        points.push((x, seen as f64 / total * 100.0));
        seen += v.count_at_value();
        points.push((x, seen as f64 / total * 100.0));
    }
    Ok(points)
}

/// Latency CDFs, one panel per image on a shared log time axis.
pub fn latency_cdf(run: &RunResult) -> Result<String> {
    let images = images(run);
    if images.is_empty() {
        return nothing_measured(run, "Lookup latency CDF");
    }
    let cols = images.len().min(2);
    let rows = images.len().div_ceil(cols);
    let lo = run
        .cells
        .iter()
        .map(|c| c.probe.latency.min.max(1))
        .min()
        .unwrap_or(1) as f64
        / 1000.0;
    let hi = run
        .cells
        .iter()
        .map(|c| c.probe.latency.max)
        .max()
        .unwrap_or(1) as f64
        / 1000.0;
    let (lo, hi) = (lo * 0.8, (hi * 1.25).max(lo * 2.0));
    let mut svg = String::new();
    {
        let size = (PANEL.0 * cols as u32, PANEL.1 * rows as u32 + 40);
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let (title, body) = root.split_vertically(40);
        title.titled(
            &format!(
                "Lookup latency CDF | run {} | profile {} | scenario {} | {}",
                run.run_id, run.profile.name, run.scenario.name, run.host.hostname
            ),
            ("sans-serif", 18),
        )?;
        for (panel, image) in body.split_evenly((rows, cols)).iter().zip(&images) {
            let cells: Vec<&CellResult> = run
                .cells
                .iter()
                .filter(|c| c.image.reference == *image)
                .collect();
            let mut chart = ChartBuilder::on(panel)
                .caption(image_title(cells[0]), ("sans-serif", 14))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(44)
                // x is log10(ms) on a linear axis: plotters' log axis labels only decades.
                .build_cartesian_2d(lo.log10()..hi.log10(), 0f64..100f64)?;
            chart
                .configure_mesh()
                .x_labels(12)
                .x_desc("lookup latency, ms (log scale)")
                .y_desc("% of lookups <= x")
                .x_label_formatter(&|v| format_ms(10f64.powf(*v)))
                .draw()?;
            for c in cells {
                let colour = colour(c);
                let p = &c.probe;
                let label = format!(
                    "{} {}: p50 {} ms, {} errors",
                    p.cell.resolver.as_str(),
                    p.cell.mode.as_str(),
                    format_ms(p.latency.p50 as f64 / 1000.0),
                    p.errors
                );
                chart
                    .draw_series(LineSeries::new(cdf_points(c)?, colour.stroke_width(2)))?
                    .label(label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                    });
            }
            legend(&mut chart)?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// Queries per lookup (mean) for every cell: the part spent on names that did not answer the
/// lookup (search-list walks: the ndots cost) in red, the rest in blue.
pub fn queries_per_lookup(run: &RunResult) -> Result<String> {
    if run.cells.is_empty() {
        return nothing_measured(run, "Queries sent per lookup");
    }
    let n = run.cells.len();
    let max_q = run
        .cells
        .iter()
        .map(|c| c.trace.queries_mean)
        .fold(1.0, f64::max);
    let labels: Vec<String> = run
        .cells
        .iter()
        .map(|c| {
            format!(
                "{}{} {} {}",
                c.image.reference,
                if c.image.source == "registry" {
                    ""
                } else {
                    "*"
                },
                c.probe.cell.resolver.as_str(),
                c.probe.cell.mode.as_str()
            )
        })
        .collect();
    let mut svg = String::new();
    {
        let height = 140 + 26 * n as u32;
        let root = SVGBackend::with_string(&mut svg, (1000, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Queries sent per lookup | run {} | profile {} | scenario {}",
                    run.run_id, run.profile.name, run.scenario.name
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(380)
            // Two empty rows below the bars hold the legend.
            .build_cartesian_2d(0f64..max_q * 1.3, (-2..n as i32).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("queries per lookup (mean over the cell's lookups)")
            .y_labels(n + 2)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) if *i >= 0 => labels
                    .get(n.wrapping_sub(1).wrapping_sub(*i as usize))
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        let wasted_colour = RGBColor(214, 39, 40);
        let useful_colour = RGBColor(31, 119, 180);
        // Row 0 at the top, as in the tables.
        let row = |i: usize| (n - 1 - i) as i32;
        let bar = |x0: f64, x1: f64, i: usize, colour: RGBColor| {
            let mut r = Rectangle::new(
                [
                    (x0, SegmentValue::Exact(row(i))),
                    (x1, SegmentValue::Exact(row(i) + 1)),
                ],
                colour.filled(),
            );
            r.set_margin(4, 4, 0, 0);
            r
        };
        chart
            .draw_series(run.cells.iter().enumerate().map(|(i, c)| {
                let wasted = c.trace.queries_mean * c.trace.wasted_share;
                bar(0.0, wasted, i, wasted_colour)
            }))?
            .label("wasted: names that did not answer the lookup")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], wasted_colour.filled())
            });
        chart
            .draw_series(run.cells.iter().enumerate().map(|(i, c)| {
                let wasted = c.trace.queries_mean * c.trace.wasted_share;
                bar(wasted, c.trace.queries_mean, i, useful_colour)
            }))?
            .label("for the name that answered")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], useful_colour.filled())
            });
        chart.draw_series(run.cells.iter().enumerate().map(|(i, c)| {
            Text::new(
                format!(
                    "{:.1} q, {:.1} rounds, {} errors",
                    c.trace.queries_mean, c.trace.rounds_mean, c.probe.errors
                ),
                (
                    c.trace.queries_mean + max_q * 0.01,
                    SegmentValue::CenterOf(row(i)),
                ),
                ("sans-serif", 12),
            )
        }))?;
        legend(&mut chart)?;
        root.present()?;
    }
    Ok(svg)
}

/// The legend both charts draw, bottom right over a translucent box.
fn legend<'a, CT: CoordTranslate>(chart: &mut ChartContext<'a, SVGBackend<'a>, CT>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// A chart of a run where every cell failed: says so (the failures are in the report).
fn nothing_measured(run: &RunResult, title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (620, 120)).into_drawing_area();
        root.fill(&WHITE)?;
        root.titled(
            &format!("{title} | run {}: no cell was measured", run.run_id),
            ("sans-serif", 16),
        )?;
        root.present()?;
    }
    Ok(svg)
}

fn format_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
