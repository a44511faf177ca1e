//! `compare`: two saved runs, cell by cell, and the regression gate built on it.
//! Why Mann–Whitney U: latency distributions are skewed and multi-modal (rounds of timeouts), so a
//! t-test's normality assumption fails; U is rank-based, needs only the sorted values that the
//! histogram keeps, and tests for one distribution being stochastically larger, which is "slower".

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use anyhow::{Result, bail};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::result::{CellResult, Mode, Resolver, RunResult};

pub const COMPARE_SCHEMA: &str = "resolvbench.compare/v1";

/// What the comparison judges with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Options {
    /// p50/p90 changes within this many percent are noise, significant or not.
    pub noise_pct: f64,
    /// Significance level of both tests.
    pub alpha: f64,
    /// `--fail-on-regression PCT`: the p50/p90 rise, in percent, that fails the gate.
    pub fail_on_regression_pct: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            noise_pct: 5.0,
            alpha: 0.01,
            fail_on_regression_pct: None,
        }
    }
}

/// The whole comparison, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub schema: &'static str,
    pub baseline: RunSummary,
    pub run: RunSummary,
    /// Differences in what the runs were measured on (the comparison is still made).
    pub notes: Vec<String>,
    pub options: Options,
    pub cells: Vec<CellComparison>,
    pub only_in_baseline: Vec<UnmatchedCell>,
    pub only_in_run: Vec<UnmatchedCell>,
    /// Cells in both runs that could not be compared (a histogram that does not decode), why.
    pub not_comparable: Vec<String>,
    /// Cells that fail `--fail-on-regression`, with why (empty without the option).
    pub regressions: Vec<String>,
}

/// What one run was measured on.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub started: String,
    pub hostname: String,
    pub cpu_model: String,
    pub cpus: usize,
    pub profile: String,
    pub scenario: String,
    /// Timed lookups per cell, each distinct value once.
    pub lookups_per_cell: Vec<u64>,
    pub cells: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnmatchedCell {
    pub image: String,
    pub resolver: Resolver,
    pub mode: Mode,
    /// The other run's error for this cell, when it lists the cell as failed.
    pub failed_there: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CellComparison {
    pub image: String,
    pub resolver: Resolver,
    pub mode: Mode,
    pub baseline: Percentiles,
    pub run: Percentiles,
    /// Run against baseline, in percent; null when the baseline value is 0.
    pub p50_change_pct: Option<f64>,
    pub p90_change_pct: Option<f64>,
    pub p99_change_pct: Option<f64>,
    pub u_test: UTest,
    pub errors_baseline: u64,
    pub errors_run: u64,
    /// Two-proportion z-test on the error shares, two-sided.
    pub errors_p_value: f64,
    /// The run's error share is higher, significantly at alpha.
    pub errors_up: bool,
    pub verdict: Verdict,
    /// Fails `--fail-on-regression` (always false without it).
    pub regression: bool,
}

/// From the full histogram, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    pub lookups: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
}

/// Mann–Whitney U test of the run's sample against the baseline's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UTest {
    /// U of the run: pairs where the run's lookup is slower, plus half the ties.
    pub u: f64,
    /// Two-sided, normal approximation with tie and continuity corrections (as scipy's).
    pub p_value: f64,
    /// P(run > base) + 0.5·P(tie) = U/(n1·n2): 0.5 is no difference, 1 is every lookup slower.
    pub prob_run_slower: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Slower,
    Faster,
    /// Not significant, or the change is within noise.
    Same,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Slower => "slower",
            Verdict::Faster => "faster",
            Verdict::Same => "same",
        }
    }
}

/// `--fail-on-regression` tripped; main turns this into exit code 2.
#[derive(Debug)]
pub struct RegressionFound(pub String);

impl fmt::Display for RegressionFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RegressionFound {}

type Key<'a> = (&'a str, Resolver, Mode);

fn key(c: &CellResult) -> Key<'_> {
    (&c.image.reference, c.probe.cell.resolver, c.probe.cell.mode)
}

fn label((image, resolver, mode): Key<'_>) -> String {
    format!("{image} {} {}", resolver.as_str(), mode.as_str())
}

fn index<'a>(run: &'a RunResult, which: &str) -> Result<BTreeMap<Key<'a>, &'a CellResult>> {
    let mut cells = BTreeMap::new();
    for c in &run.cells {
        if cells.insert(key(c), c).is_some() {
            bail!("the {which} run has two cells for {}", label(key(c)));
        }
    }
    Ok(cells)
}

pub fn compare(base: &RunResult, run: &RunResult, opts: &Options) -> Result<Comparison> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        bail!("--alpha must be between 0 and 1, not {}", opts.alpha);
    }
    if !(opts.noise_pct >= 0.0 && opts.noise_pct.is_finite()) {
        bail!("--noise must be a percentage >= 0, not {}", opts.noise_pct);
    }
    if let Some(p) = opts.fail_on_regression_pct
        && !(p >= 0.0 && p.is_finite())
    {
        bail!("--fail-on-regression must be a percentage >= 0, not {p}");
    }
    let base_cells = index(base, "baseline")?;
    let run_cells = index(run, "compared")?;
    let mut cells = Vec::new();
    let mut only_in_baseline = Vec::new();
    let mut not_comparable = Vec::new();
    for c in &base.cells {
        match run_cells.get(&key(c)) {
            // One damaged cell does not hide the comparison of the others.
            Some(r) => match compare_cell(c, r, opts) {
                Ok(x) => cells.push(x),
                Err(e) => not_comparable.push(format!("{}: {e:#}", label(key(c)))),
            },
            None => only_in_baseline.push(unmatched(key(c), run)),
        }
    }
    let only_in_run = run
        .cells
        .iter()
        .filter(|c| !base_cells.contains_key(&key(c)))
        .map(|c| unmatched(key(c), base))
        .collect();
    let mut regressions: Vec<String> = cells
        .iter()
        .filter(|c| c.regression)
        .map(|c| regression_reason(c, opts))
        .collect();
    // A cell the baseline measured and the run did not (it failed, or the run stopped) is the
    // worst regression of all for a gate.
    if opts.fail_on_regression_pct.is_some() {
        regressions.extend(
            not_comparable
                .iter()
                .map(|n| format!("not comparable: {n}")),
        );
        regressions.extend(only_in_baseline.iter().map(|u: &UnmatchedCell| {
            let what = label((&u.image, u.resolver, u.mode));
            match &u.failed_there {
                Some(e) => format!("{what} (failed: {e})"),
                None => format!("{what} (not measured)"),
            }
        }));
    }
    Ok(Comparison {
        schema: COMPARE_SCHEMA,
        baseline: summary(base),
        run: summary(run),
        notes: notes(base, run, &base_cells, &run_cells),
        options: *opts,
        cells,
        only_in_baseline,
        only_in_run,
        not_comparable,
        regressions,
    })
}

fn unmatched(k: Key<'_>, other: &RunResult) -> UnmatchedCell {
    let (image, resolver, mode) = k;
    UnmatchedCell {
        image: image.to_string(),
        resolver,
        mode,
        failed_there: other
            .failures
            .iter()
            .find(|f| f.image == image && f.resolver == resolver && f.mode == mode)
            .map(|f| f.error.clone()),
    }
}

fn lookups_per_cell(run: &RunResult) -> Vec<u64> {
    let mut counts: Vec<u64> = run.cells.iter().map(|c| c.probe.cell.count).collect();
    counts.sort_unstable();
    counts.dedup();
    counts
}

fn summary(run: &RunResult) -> RunSummary {
    RunSummary {
        run_id: run.run_id.clone(),
        started: run.started.clone(),
        hostname: run.host.hostname.clone(),
        cpu_model: run.host.cpu_model.clone(),
        cpus: run.host.cpus,
        profile: run.profile.name.clone(),
        scenario: run.scenario.name.clone(),
        lookups_per_cell: lookups_per_cell(run),
        cells: run.cells.len(),
    }
}

fn notes(
    base: &RunResult,
    run: &RunResult,
    base_cells: &BTreeMap<Key<'_>, &CellResult>,
    run_cells: &BTreeMap<Key<'_>, &CellResult>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (which, r) in [("baseline", base), ("run", run)] {
        if !r.complete {
            notes.push(format!(
                "the {which} {} is incomplete ({} failed cell(s))",
                r.run_id,
                r.failures.len()
            ));
        }
    }
    let (b, r) = (&base.host, &run.host);
    if b.hostname != r.hostname {
        notes.push(format!("hosts differ: {} vs {}", b.hostname, r.hostname));
    }
    if (&b.cpu_model, b.cpus) != (&r.cpu_model, r.cpus) {
        notes.push(format!(
            "cpus differ: {} ({} cpus) vs {} ({} cpus)",
            b.cpu_model, b.cpus, r.cpu_model, r.cpus
        ));
    }
    // The nameserver line is the test server's address, which changes from run to run.
    let options = |conf: &str| -> Vec<String> {
        conf.lines()
            .filter(|l| !l.trim_start().starts_with("nameserver"))
            .map(str::to_string)
            .collect()
    };
    if base.profile.name != run.profile.name {
        notes.push(format!(
            "profiles differ: {} vs {}",
            base.profile.name, run.profile.name
        ));
    } else if options(&base.profile.resolv_conf) != options(&run.profile.resolv_conf) {
        notes.push(format!(
            "profile {} gives a different resolv.conf in each run",
            base.profile.name
        ));
    }
    if base.scenario.name != run.scenario.name {
        notes.push(format!(
            "scenarios differ: {} vs {}",
            base.scenario.name, run.scenario.name
        ));
    } else if base.scenario != run.scenario {
        notes.push(format!(
            "scenario {} has different contents in each run",
            base.scenario.name
        ));
    }
    let (lb, lr) = (lookups_per_cell(base), lookups_per_cell(run));
    if lb != lr {
        notes.push(format!(
            "lookups per cell differ: {} vs {}",
            join(&lb),
            join(&lr)
        ));
    }
    let mut seen = Vec::new();
    for (k, bc) in base_cells {
        if let Some(rc) = run_cells.get(k)
            && bc.image.source != rc.image.source
            && !seen.contains(&k.0)
        {
            seen.push(k.0);
            notes.push(format!(
                "image {}: {} in the baseline, {} in the run",
                k.0, bc.image.source, rc.image.source
            ));
        }
    }
    notes
}

fn join(v: &[u64]) -> String {
    let s: Vec<String> = v.iter().map(u64::to_string).collect();
    s.join("/")
}

fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let ms = |q: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(q) as f64 / 1000.0
        }
    };
    Percentiles {
        lookups: h.len(),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
    }
}

fn change_pct(base: f64, run: f64) -> Option<f64> {
    (base > 0.0).then(|| (run - base) / base * 100.0)
}

fn compare_cell(b: &CellResult, r: &CellResult, opts: &Options) -> Result<CellComparison> {
    let decode = |c: &CellResult, which: &str| {
        c.probe
            .latency
            .histogram()
            .map_err(|e| anyhow::anyhow!("{which} {}: {e:#}", label(key(c))))
    };
    Ok(compare_samples(
        key(b),
        (&decode(b, "baseline")?, b.probe.errors),
        (&decode(r, "run")?, r.probe.errors),
        opts,
    ))
}

/// One cell: its latency histogram and error count in each run.
fn compare_samples(
    (image, resolver, mode): Key<'_>,
    (hb, eb): (&Histogram<u64>, u64),
    (hr, er): (&Histogram<u64>, u64),
    opts: &Options,
) -> CellComparison {
    let (pb, pr) = (percentiles(hb), percentiles(hr));
    let u_test = mann_whitney(hb, hr);
    let p50 = change_pct(pb.p50_ms, pr.p50_ms);
    let p90 = change_pct(pb.p90_ms, pr.p90_ms);
    let p99 = change_pct(pb.p99_ms, pr.p99_ms);
    let errors_p_value = two_proportion_p(eb, pb.lookups, er, pr.lookups);
    let share = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let errors_up = share(er, pr.lookups) > share(eb, pb.lookups) && errors_p_value < opts.alpha;

    let significant = u_test.p_value < opts.alpha;
    let run_slower = u_test.prob_run_slower > 0.5;
    // p50 or p90 moved beyond `pct` in the direction the U test found.
    let moved = |pct: f64| {
        [p50, p90]
            .iter()
            .flatten()
            .any(|&c| if run_slower { c > pct } else { c < -pct })
    };
    let verdict = match (significant && moved(opts.noise_pct), run_slower) {
        (false, _) => Verdict::Same,
        (true, true) => Verdict::Slower,
        (true, false) => Verdict::Faster,
    };
    // p99 is not gated: with a few hundred lookups it is decided by the slowest three or so.
    let slower_beyond = |pct: f64| significant && run_slower && moved(pct);
    let regression = opts
        .fail_on_regression_pct
        .is_some_and(|pct| slower_beyond(pct) || errors_up);
    CellComparison {
        image: image.to_string(),
        resolver,
        mode,
        baseline: pb,
        run: pr,
        p50_change_pct: p50,
        p90_change_pct: p90,
        p99_change_pct: p99,
        u_test,
        errors_baseline: eb,
        errors_run: er,
        errors_p_value,
        errors_up,
        verdict,
        regression,
    }
}

/// "IMAGE RESOLVER MODE (p50 +30%, p90 +28%)": what tripped the gate for a regressed cell.
fn regression_reason(c: &CellComparison, opts: &Options) -> String {
    let pct = opts.fail_on_regression_pct.unwrap_or(0.0);
    let mut why = Vec::new();
    if c.u_test.p_value < opts.alpha && c.u_test.prob_run_slower > 0.5 {
        for (name, change) in [("p50", c.p50_change_pct), ("p90", c.p90_change_pct)] {
            if let Some(p) = change.filter(|&p| p > pct) {
                why.push(format!("{name} {}", fmt_pct(Some(p))));
            }
        }
    }
    if c.errors_up {
        why.push(format!("errors {}→{}", c.errors_baseline, c.errors_run));
    }
    format!(
        "{} ({})",
        label((&c.image, c.resolver, c.mode)),
        why.join(", ")
    )
}

/// Mann–Whitney U of `run` against `base`, two-sided, computed on the histograms' buckets:
/// lookups in the same bucket (equal within 3 significant digits) are ties.
pub fn mann_whitney(base: &Histogram<u64>, run: &Histogram<u64>) -> UTest {
    let mut buckets: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for v in base.iter_recorded() {
        buckets.entry(v.value_iterated_to()).or_default().0 += v.count_at_value();
    }
    for v in run.iter_recorded() {
        buckets.entry(v.value_iterated_to()).or_default().1 += v.count_at_value();
    }
    let (n1, n2) = (base.len() as f64, run.len() as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return UTest {
            u: 0.0,
            p_value: 1.0,
            prob_run_slower: 0.5,
        };
    }
    // Walking up the buckets: each run lookup beats every baseline lookup below its bucket
    // and ties with those in it. Same U as from mid-ranks, without ranking.
    let (mut u, mut base_below, mut tie_term) = (0.0, 0.0, 0.0);
    for &(b, r) in buckets.values() {
        let (b, r) = (b as f64, r as f64);
        u += r * (base_below + 0.5 * b);
        base_below += b;
        let t = b + r;
        tie_term += t * t * t - t;
    }
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    // As scipy.stats.mannwhitneyu(method="asymptotic"): the larger U, less 0.5 for continuity.
    let p_value = if variance > 0.0 {
        let z = ((u - mean).abs() - 0.5) / variance.sqrt();
        (2.0 * normal_sf(z)).min(1.0)
    } else {
        1.0 // every lookup in one bucket: nothing to tell apart
    };
    UTest {
        u,
        p_value,
        prob_run_slower: u / (n1 * n2),
    }
}

/// Two-sided p-value of the pooled two-proportion z-test (e1 of n1 vs e2 of n2); 1 when undefined.
pub fn two_proportion_p(e1: u64, n1: u64, e2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    let (p1, p2) = (e1 as f64 / n1, e2 as f64 / n2);
    let pooled = (e1 + e2) as f64 / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    (2.0 * normal_sf(((p2 - p1) / se).abs())).min(1.0)
}

/// P(Z > z) for a standard normal Z (statrs' erfc keeps tiny p-values' digits).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
}

fn fmt_pct(p: Option<f64>) -> String {
    match p {
        None => "n/a".into(),
        Some(p) if p.abs() < 10.0 => format!("{p:+.1}%"),
        Some(p) => format!("{p:+.0}%"),
    }
}

fn fmt_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else if p >= 1e-300 {
        format!("{p:.1e}")
    } else {
        "<1e-300".into()
    }
}

fn describe(s: &RunSummary) -> String {
    format!(
        "run {}, started {}, host {} ({}, {} cpus), profile {}, scenario {}, {} lookups per cell",
        s.run_id,
        s.started,
        s.hostname,
        s.cpu_model,
        s.cpus,
        s.profile,
        s.scenario,
        join(&s.lookups_per_cell)
    )
}

/// The text report: what each run was measured on, then one row per matched cell, grouped by image.
pub fn render(c: &Comparison) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "baseline: {}", describe(&c.baseline));
    let _ = writeln!(o, "run:      {}", describe(&c.run));
    for n in &c.notes {
        let _ = writeln!(o, "note: {n}");
    }
    let opts = &c.options;
    let _ = writeln!(
        o,
        "Mann-Whitney U on the full histograms, two-sided, alpha {}; p50/p90 changes within {}% are noise",
        opts.alpha, opts.noise_pct
    );
    let _ = writeln!(o);

    let header = [
        "resolver",
        "mode",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "errors",
        "p-value",
        "P(run>base)",
        "verdict",
    ];
    let span = |b: f64, r: f64, p: Option<f64>| format!("{b:.2}→{r:.2} {}", fmt_pct(p));
    let rows: Vec<(String, Vec<String>)> = c
        .cells
        .iter()
        .map(|x| {
            let mut verdict = x.verdict.as_str().to_string();
            if x.errors_up {
                verdict.push_str(", errors up");
            }
            if x.regression {
                verdict.push_str(" !");
            }
            let row = vec![
                x.resolver.as_str().to_string(),
                x.mode.as_str().to_string(),
                span(x.baseline.p50_ms, x.run.p50_ms, x.p50_change_pct),
                span(x.baseline.p90_ms, x.run.p90_ms, x.p90_change_pct),
                span(x.baseline.p99_ms, x.run.p99_ms, x.p99_change_pct),
                format!("{}→{}", x.errors_baseline, x.errors_run),
                fmt_p(x.u_test.p_value),
                format!("{:.2}", x.u_test.prob_run_slower),
                verdict,
            ];
            (x.image.clone(), row)
        })
        .collect();
    let widths = crate::report::terminal::column_widths(&header, rows.iter().map(|(_, r)| r));
    let line = |cells: &[String]| {
        format!("  {}", crate::report::terminal::pad_line(cells, &widths)) + "\n"
    };
    if !rows.is_empty() {
        o.push_str(&line(&header.map(String::from)));
    }
    let mut image = None;
    for (img, row) in &rows {
        if image != Some(img) {
            let _ = writeln!(o, "{img}");
            image = Some(img);
        }
        o.push_str(&line(row));
    }
    if c.cells.iter().any(|x| x.regression)
        && let Some(pct) = opts.fail_on_regression_pct
    {
        let _ = writeln!(
            o,
            "! regression: significantly slower with p50 or p90 up more than {pct}%, or significantly more errors"
        );
    }

    let _ = writeln!(o);
    let count = |v: Verdict| c.cells.iter().filter(|x| x.verdict == v).count();
    let _ = writeln!(
        o,
        "{} cell(s) matched: {} slower, {} faster, {} same",
        c.cells.len(),
        count(Verdict::Slower),
        count(Verdict::Faster),
        count(Verdict::Same)
    );
    for (which, list, other) in [
        ("baseline", &c.only_in_baseline, "run"),
        ("run", &c.only_in_run, "baseline"),
    ] {
        for u in list {
            let failed = u
                .failed_there
                .as_ref()
                .map(|e| format!(" (failed in the {other}: {e})"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "only in {which}: {}{failed}",
                label((&u.image, u.resolver, u.mode))
            );
        }
    }
    for n in &c.not_comparable {
        let _ = writeln!(o, "not comparable: {n}");
    }
    if let Some(pct) = opts.fail_on_regression_pct {
        let _ = if c.regressions.is_empty() {
            writeln!(o, "gate --fail-on-regression {pct}: passed")
        } else {
            writeln!(
                o,
                "gate --fail-on-regression {pct}: FAILED, {} cell(s) regressed",
                c.regressions.len()
            )
        };
    }
    o
}

/// The one line naming the regressed cells (None when the gate is off or passed).
pub fn regression_error(c: &Comparison) -> Option<RegressionFound> {
    (c.options.fail_on_regression_pct.is_some() && !c.regressions.is_empty()).then(|| {
        RegressionFound(format!(
            "regression in {} cell(s): {}",
            c.regressions.len(),
            c.regressions.join("; ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    fn hist(values: &[u64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    // Values below 2048 µs are exact in a 3-digit histogram, so scipy sees the same samples.
    const BASE: [u64; 12] = [110, 120, 120, 130, 150, 150, 150, 170, 200, 250, 400, 1900];
    const RUN: [u64; 13] = [
        120, 150, 160, 170, 170, 200, 210, 230, 250, 300, 310, 1900, 2000,
    ];

    #[test]
    fn u_test_matches_scipy_with_ties() {
        // scipy 1.17.1: mannwhitneyu(RUN, BASE, alternative="two-sided", method="asymptotic")
        // -> statistic 109.0, pvalue 0.09576882064113725
        let t = mann_whitney(&hist(&BASE), &hist(&RUN));
        assert_eq!(t.u, 109.0);
        assert!(close(t.p_value, 0.095_768_820_641_137_25, 1e-6), "{t:?}");
        assert!(close(t.prob_run_slower, 109.0 / 156.0, 1e-12), "{t:?}");
        // Swapped: U is the complement, p the same.
        let s = mann_whitney(&hist(&RUN), &hist(&BASE));
        assert_eq!(s.u, 47.0);
        assert!(close(s.p_value, t.p_value, 1e-12));
    }

    #[test]
    fn u_test_matches_scipy_on_heavy_ties() {
        // scipy 1.17.1: statistic 325.0, pvalue 0.00036050653124542815
        let base: Vec<u64> = [(1000, 5), (1100, 10), (1200, 5)]
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .collect();
        let run: Vec<u64> = base.iter().map(|v| v + 100).collect();
        let t = mann_whitney(&hist(&base), &hist(&run));
        assert_eq!(t.u, 325.0);
        assert!(
            close(t.p_value, 0.000_360_506_531_245_428_15, 1e-6),
            "{t:?}"
        );
        assert_eq!(t.prob_run_slower, 0.8125);
    }

    #[test]
    fn values_equal_within_precision_are_ties() {
        // 10001 and 10003 µs share a bucket (resolution 8 µs at 10 ms).
        let t = mann_whitney(&hist(&[10_001, 10_001]), &hist(&[10_003, 10_003]));
        assert_eq!((t.p_value, t.prob_run_slower), (1.0, 0.5));
    }

    #[test]
    fn normal_tail_is_accurate_far_out() {
        // scipy.stats.norm.sf
        for (z, sf) in [
            (1.959_963_984_540_054, 0.025),
            (5.0, 2.866_515_718_791_933e-7),
            (10.0, 7.619_853_024_160_47e-24),
            (20.0, 2.753_624_118_606_155_6e-89),
        ] {
            assert!(close(normal_sf(z), sf, 2e-7), "sf({z}) = {}", normal_sf(z));
        }
        assert!(close(
            normal_sf(-5.0),
            1.0 - 2.866_515_718_791_933e-7,
            1e-12
        ));
    }

    #[test]
    fn two_proportion_test() {
        // 0 of 200 vs 10 of 200: z = 3.2026, scipy 2*norm.sf(z) = 0.001362104671584203
        assert!(close(
            two_proportion_p(0, 200, 10, 200),
            0.001_362_104_671_584_203,
            1e-6
        ));
        assert_eq!(two_proportion_p(0, 200, 0, 200), 1.0);
        assert_eq!(two_proportion_p(3, 200, 3, 200), 1.0);
    }

    /// A skewed sample with a tail of timeout rounds, like a real cell.
    fn latencies(scale: f64) -> Vec<u64> {
        (0..200u64)
            .map(|i| {
                let base =
                    3_000.0 + 10.0 * (i % 50) as f64 + if i % 40 == 0 { 5_000.0 } else { 0.0 };
                (base * scale) as u64
            })
            .collect()
    }

    fn judge(base: (&[u64], u64), run: (&[u64], u64), opts: &Options) -> CellComparison {
        compare_samples(
            ("img", Resolver::System, Mode::Parallel),
            (&hist(base.0), base.1),
            (&hist(run.0), run.1),
            opts,
        )
    }

    fn gate() -> Options {
        Options {
            fail_on_regression_pct: Some(10.0),
            ..Options::default()
        }
    }

    #[test]
    fn identical_histograms_are_same() {
        let v = latencies(1.0);
        let x = judge((&v, 0), (&v, 0), &gate());
        assert_eq!(x.u_test.p_value, 1.0);
        assert_eq!(x.u_test.prob_run_slower, 0.5);
        assert_eq!(x.verdict, Verdict::Same);
        assert!(!x.regression && !x.errors_up);
    }

    #[test]
    fn shifted_sample_is_slower_and_fails_the_gate() {
        let (b, r) = (latencies(1.0), latencies(1.2));
        let x = judge((&b, 0), (&r, 0), &gate());
        assert_eq!(x.verdict, Verdict::Slower);
        assert!(x.u_test.p_value < 1e-10, "{:?}", x.u_test);
        assert!(x.u_test.prob_run_slower > 0.9, "{:?}", x.u_test);
        assert!(x.regression);
        // The other way round it is faster, and no regression.
        let y = judge((&r, 0), (&b, 0), &gate());
        assert_eq!(y.verdict, Verdict::Faster);
        assert!(!y.regression);
    }

    #[test]
    fn significant_but_within_noise_is_same() {
        let x = judge((&latencies(1.0), 0), (&latencies(1.03), 0), &gate());
        assert!(x.u_test.p_value < 0.01, "{:?}", x.u_test);
        assert_eq!(x.verdict, Verdict::Same);
        assert!(!x.regression);
    }

    #[test]
    fn more_errors_is_a_regression() {
        let v = latencies(1.0);
        let x = judge((&v, 0), (&v, 12), &gate());
        assert!(x.errors_up && x.regression);
        assert_eq!(x.verdict, Verdict::Same);
        let y = judge((&v, 12), (&v, 0), &gate());
        assert!(!y.errors_up && !y.regression);
    }
}
