//! `resolvbench bench`: measures resolvbench itself. Every figure is a ratio of two things
//! measured in the same invocation, interleaved where they can be, because this machine is
//! shared and noisy: absolute numbers move between runs, ratios much less.
//!
//! Sections: the probe's own overhead and hickory against a bare UDP exchange (loopback), the
//! probe's peak memory (loopback), the test server against dnsmasq under dnsperf (loopback),
//! and, in containers, fidelity to injected delays and the efficiency of a whole matrix run.

pub mod loopback;
pub mod matrix;
pub mod peers;

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

pub const BENCH_SCHEMA: &str = "resolvbench.bench/v1";

pub struct BenchOptions {
    /// Small sizes (CI smoke run): every section runs, the figures mean little.
    pub quick: bool,
    pub out: PathBuf,
    pub engine: String,
    pub quiet: bool,
}

/// One measured figure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    /// How it was measured, in one or two sentences.
    pub method: String,
    pub figures: Vec<Figure>,
    /// Set when the section could not be measured; the other sections still are.
    pub error: Option<String>,
}

impl Section {
    fn new(title: &str, method: &str) -> Section {
        Section {
            title: title.into(),
            method: method.into(),
            figures: Vec::new(),
            error: None,
        }
    }

    /// Names the section and says how it is measured (before measuring, so a failure later
    /// still reports what was being measured).
    fn describe(&mut self, title: &str, method: &str) {
        self.title = title.into();
        self.method = method.into();
    }

    fn add(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.push(Figure {
            name: name.into(),
            value,
            unit: unit.into(),
        });
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchReport {
    pub schema: String,
    pub started: String,
    pub host: String,
    pub cpu_model: String,
    pub cpus: usize,
    pub kernel: String,
    /// release or debug: the build of resolvbench that was measured.
    pub build: String,
    pub quick: bool,
    pub sections: Vec<Section>,
    pub total_s: f64,
}

pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let host = crate::probe::environment::environment(String::new());
    let mut report = BenchReport {
        schema: BENCH_SCHEMA.into(),
        started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        host: host.hostname,
        cpu_model: crate::run::cpu_model(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel: host.kernel,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        quick: opts.quick,
        sections: Vec::new(),
        total_s: 0.0,
    };
    // Each step fills its section; what it measured before an error stays in the report.
    type Step<'a> = (&'a str, Box<dyn Fn(&mut Section) -> Result<()> + 'a>);
    let steps: Vec<Step> = vec![
        (
            "probe overhead",
            Box::new(|s| loopback::probe_overhead(s, opts.quick)),
        ),
        (
            "hickory vs UDP floor",
            Box::new(|s| loopback::hickory_floor(s, opts.quick)),
        ),
        (
            "probe memory",
            Box::new(|s| loopback::probe_memory(s, opts.quick)),
        ),
        (
            "server vs dnsmasq",
            Box::new(|s| peers::server_vs_dnsmasq(s, opts.quick)),
        ),
        ("fidelity", Box::new(|s| matrix::fidelity(s, opts))),
        ("run efficiency", Box::new(|s| matrix::efficiency(s, opts))),
    ];
    let total = steps.len();
    let progress = crate::progress::Progress::new(opts.quiet);
    for (name, step) in steps {
        if crate::interrupt::requested() {
            bail!(
                "interrupted after {} of {total} sections; they are saved in {}",
                report.sections.len(),
                opts.out.display()
            );
        }
        progress.say(&format!("bench: {name} ..."));
        let t = std::time::Instant::now();
        let mut section = Section::new(name, "");
        if let Err(e) = step(&mut section) {
            section.error = Some(format!("{e:#}"));
        }
        progress.say(&format!(
            "bench: {name} done in {:.1} s",
            t.elapsed().as_secs_f64()
        ));
        report.sections.push(section);
        report.total_s = t0.elapsed().as_secs_f64();
        // Saved after every section: an interruption or a failure keeps what was measured.
        save(&report, opts)?;
    }
    Ok(report)
}

fn save(report: &BenchReport, opts: &BenchOptions) -> Result<()> {
    crate::run::write_atomic(
        &opts.out.join("bench.json"),
        serde_json::to_string_pretty(report)?.as_bytes(),
    )?;
    crate::run::write_atomic(&opts.out.join("bench.md"), render(report).as_bytes())
}

/// Markdown: readable in a terminal, pasteable into the README.
pub fn render(r: &BenchReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "resolvbench bench, {} | {} | {} | {} cpus | kernel {} | {} build{} | {:.0} s\n",
        r.started,
        r.host,
        r.cpu_model,
        r.cpus,
        r.kernel,
        r.build,
        if r.quick {
            " | QUICK (smoke sizes)"
        } else {
            ""
        },
        r.total_s
    );
    for s in &r.sections {
        let _ = writeln!(o, "## {}\n", s.title);
        let _ = writeln!(o, "{}\n", s.method);
        if let Some(e) = &s.error {
            let _ = writeln!(o, "NOT MEASURED (in full): {e}\n");
        }
        let _ = writeln!(o, "| figure | value | unit |\n| :--- | ---: | :--- |");
        for f in &s.figures {
            let _ = writeln!(o, "| {} | {} | {} |", f.name, format_value(f.value), f.unit);
        }
        let _ = writeln!(o);
    }
    o
}

fn format_value(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Times `a` and `b` in `blocks` blocks, alternating which goes first (so drift in the
/// machine's load cancels out); returns each one's per-block values and the per-block b/a.
pub(crate) fn interleaved(
    blocks: usize,
    mut a: impl FnMut() -> Result<f64>,
    mut b: impl FnMut() -> Result<f64>,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let (mut av, mut bv, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for block in 0..blocks {
        let (x, y) = if block % 2 == 0 {
            let x = a()?;
            (x, b()?)
        } else {
            let y = b()?;
            (a()?, y)
        };
        av.push(x);
        bv.push(y);
        ratios.push(y / x);
    }
    Ok((av, bv, ratios))
}

/// Median of a non-empty sample (NaN when empty).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn a_failed_section_is_rendered_as_not_measured() {
        let mut s = Section::new("x", "how");
        s.error = Some("dnsperf is not installed".into());
        let r = BenchReport {
            schema: BENCH_SCHEMA.into(),
            started: "t".into(),
            host: "h".into(),
            cpu_model: "c".into(),
            cpus: 2,
            kernel: "k".into(),
            build: "debug".into(),
            quick: true,
            sections: vec![s],
            total_s: 1.0,
        };
        assert!(render(&r).contains("NOT MEASURED (in full): dnsperf is not installed"));
    }
}
