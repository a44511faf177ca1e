//! One CSV row per cell, every row carrying what it was measured on (so rows from many runs
//! can be concatenated and still be read). Times in milliseconds, as the column names say.

use anyhow::Result;

use crate::result::RunResult;

pub const COLUMNS: &[&str] = &[
    "run_id",
    "started",
    "host",
    "cpu_model",
    "cpus",
    "engine",
    "profile",
    "scenario",
    "image",
    "image_source",
    "local_tag",
    "libc",
    "libc_version",
    "probe_flavour",
    "resolver",
    "mode",
    "lookups",
    "errors",
    "outcomes",
    "mean_ms",
    "min_ms",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "queries_mean",
    "queries_max",
    "rounds_mean",
    "wasted_share",
    "a_aaaa_overlap_share",
    "measured_over_predicted",
];

pub fn render(run: &RunResult) -> Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
    for c in &run.cells {
        let p = &c.probe;
        let l = &p.latency;
        let outcomes: Vec<String> = p.outcomes.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        w.write_record([
            run.run_id.clone(),
            run.started.clone(),
            run.host.hostname.clone(),
            run.host.cpu_model.clone(),
            run.host.cpus.to_string(),
            format!("{} {}", run.host.engine, run.host.engine_version),
            run.profile.name.clone(),
            run.scenario.name.clone(),
            c.image.reference.clone(),
            c.image.source.clone(),
            c.image.local_tag.clone(),
            p.environment.libc.family.clone(),
            p.environment.libc.version.clone(),
            p.probe.flavour.clone(),
            p.cell.resolver.as_str().into(),
            p.cell.mode.as_str().into(),
            l.count.to_string(),
            p.errors.to_string(),
            outcomes.join(";"),
            format!("{:.3}", l.mean / 1000.0),
            ms(l.min),
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            format!("{:.3}", c.trace.queries_mean),
            c.trace.queries_max.to_string(),
            format!("{:.3}", c.trace.rounds_mean),
            format!("{:.4}", c.trace.wasted_share),
            c.trace
                .a_aaaa_overlap_share
                .map(|s| format!("{s:.4}"))
                .unwrap_or_default(),
            format!("{:.4}", c.trace.measured_over_predicted),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
