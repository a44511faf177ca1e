//! The terminal report: what was measured on what, one row per cell, then a latency
//! histogram per cell. Percentiles include failed lookups; the errors column counts them.

use std::fmt::Write;

use crate::result::{CellResult, RunResult};

pub fn render(run: &RunResult) -> String {
    let mut o = String::new();
    for line in measured_on(run) {
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(o);
    o.push_str(&table(&run.cells));
    let effects = super::explain::render_option_effects(run);
    if !effects.is_empty() {
        let _ = writeln!(o, "\nresolv.conf options, judged from the wire:\n{effects}");
    }
    for f in &run.failures {
        let _ = writeln!(
            o,
            "FAILED {} {} {}: {}",
            f.image,
            f.resolver.as_str(),
            f.mode.as_str(),
            f.error
        );
    }
    for c in &run.cells {
        let _ = writeln!(o);
        o.push_str(&histogram(c));
    }
    o
}

/// What the run was measured on, and where its time went: the header of every report.
pub fn measured_on(run: &RunResult) -> Vec<String> {
    let h = &run.host;
    let mut lines = vec![
        format!(
            "resolvbench run {} ({}), {} cell(s){}",
            run.run_id,
            run.started,
            run.cells.len(),
            if run.complete { "" } else { ", INCOMPLETE" }
        ),
        format!(
            "host: {} | {} | {} cpus | kernel {} | {} {} | resolvbench {}",
            h.hostname,
            h.cpu_model,
            h.cpus,
            h.kernel,
            h.engine,
            h.engine_version,
            h.resolvbench_version
        ),
        format!(
            "profile: {} | scenario: {}",
            run.profile.name, run.scenario.name
        ),
    ];
    let mut seen = Vec::new();
    for c in &run.cells {
        if !seen.contains(&c.image.reference) {
            seen.push(c.image.reference.clone());
            let what = if c.image.source == "registry" {
                "registry image".to_string()
            } else {
                format!(
                    "OFFLINE EQUIVALENT {} ({})",
                    c.image.local_tag, c.image.note
                )
            };
            lines.push(format!("image {}: {what}", c.image.reference));
        }
    }
    lines.push(time_summary(run));
    lines
}

/// Where the time went: setup (images, probes, self-checks) versus measuring, and how much of
/// the measuring was lookups the probes timed.
pub fn time_summary(run: &RunResult) -> String {
    let t = |k: &str| run.timings.get(k).copied();
    let (Some(total), Some(setup), Some(measure)) = (t("total_s"), t("setup_s"), t("measure_s"))
    else {
        return "time: not recorded".into();
    };
    format!(
        "time: {total:.1} s total = setup {setup:.1} s (images, probes, self-checks) + measuring \
         {measure:.1} s ({} cells, {:.1} s of it timed lookups) + {:.1} s network, servers and trace",
        run.cells.len(),
        run.timed_lookup_s(),
        total - setup - measure
    )
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// The comparison table as strings: one header and one row per cell (the terminal, Markdown
/// and HTML reports all print these).
pub fn table_rows(cells: &[CellResult]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "image",
        "libc",
        "probe",
        "resolver",
        "mode",
        "n",
        "errors",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "q/lookup",
        "wasted",
        "A||AAAA",
        "rounds",
        "meas/pred",
    ];
    let rows: Vec<Vec<String>> = cells
        .iter()
        .map(|c| {
            let p = &c.probe;
            let l = &p.latency;
            let errors = if p.errors == 0 {
                "0".to_string()
            } else {
                let kinds: Vec<String> = p
                    .outcomes
                    .iter()
                    .filter(|(k, _)| *k != "ok")
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect();
                format!("{} ({})", p.errors, kinds.join(" "))
            };
            vec![
                c.image.reference.clone()
                    + if c.image.source == "registry" {
                        ""
                    } else {
                        "*"
                    },
                format!(
                    "{} {}",
                    p.environment.libc.family, p.environment.libc.version
                ),
                p.probe.flavour.clone(),
                p.cell.resolver.as_str().into(),
                p.cell.mode.as_str().into(),
                l.count.to_string(),
                errors,
                ms(l.p50),
                ms(l.p90),
                ms(l.p99),
                ms(l.p999),
                ms(l.max),
                format!("{:.1}", c.trace.queries_mean),
                format!("{:.0}%", c.trace.wasted_share * 100.0),
                match c.trace.a_aaaa_overlap_share {
                    None => "-".into(),
                    Some(1.0) => "yes".into(),
                    Some(0.0) => "no".into(),
                    // Floor, so 199 of 200 never shows as 100%.
                    Some(s) => format!("{:.0}%", (s * 100.0).floor()),
                },
                format!("{:.1}", c.trace.rounds_mean),
                format!("{:.2}", c.trace.measured_over_predicted),
            ]
        })
        .collect();
    (header, rows)
}

pub fn table(cells: &[CellResult]) -> String {
    let (header, rows) = table_rows(cells);
    let widths = column_widths(&header, rows.iter());
    let line = |cells: Vec<String>| pad_line(&cells, &widths) + "\n";
    let mut o = line(header.iter().map(|s| s.to_string()).collect());
    for r in rows {
        o.push_str(&line(r));
    }
    if cells.iter().any(|c| c.image.source != "registry") {
        o.push_str(OFFLINE_FOOTNOTE);
        o.push('\n');
    }
    o
}

/// Widths of aligned text columns: the widest cell (in characters) or header of each.
pub fn column_widths<'a>(
    header: &[&str],
    rows: impl Iterator<Item = &'a Vec<String>> + Clone,
) -> Vec<usize> {
    (0..header.len())
        .map(|i| {
            rows.clone()
                .map(|r| r[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// One aligned line (no trailing spaces, no newline).
pub fn pad_line(cells: &[String], widths: &[usize]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(c, w)| format!("{c:<w$}"))
        .collect();
    padded.join("  ").trim_end().to_string()
}

pub const OFFLINE_FOOTNOTE: &str =
    "* offline equivalent built from Debian packages, not the registry image";

/// A log-scaled latency histogram: 12 buckets between the fastest and the slowest lookup.
pub fn histogram(c: &CellResult) -> String {
    const BUCKETS: usize = 12;
    const WIDTH: f64 = 40.0;
    let p = &c.probe;
    let mut o = format!(
        "{} | {} | {} {} | {} lookups, {} errors | {:.1} queries per lookup\n",
        c.image.reference,
        p.probe.flavour,
        p.cell.resolver.as_str(),
        p.cell.mode.as_str(),
        p.latency.count,
        p.errors,
        c.trace.queries_mean
    );
    let Ok(h) = p.latency.histogram() else {
        o.push_str("  (histogram does not decode)\n");
        return o;
    };
    if h.is_empty() {
        o.push_str("  (no lookups)\n");
        return o;
    }
    let (lo, hi) = (
        h.min().max(1) as f64,
        (h.max() as f64).max(h.min() as f64 + 1.0),
    );
    let step = (hi / lo).ln() / BUCKETS as f64;
    let mut counts = [0u64; BUCKETS];
    for v in h.iter_recorded() {
        let x = (v.value_iterated_to() as f64).max(lo);
        let i = (((x / lo).ln() / step) as usize).min(BUCKETS - 1);
        counts[i] += v.count_at_value();
    }
    let top = *counts.iter().max().unwrap_or(&1) as f64;
    for (i, n) in counts.iter().enumerate() {
        let upper = lo * ((i + 1) as f64 * step).exp();
        let bar = "#".repeat(((*n as f64 / top) * WIDTH).round() as usize);
        let _ = writeln!(o, "  <= {:>9.3} ms | {bar:<40} {n}", upper / 1000.0);
    }
    o
}
