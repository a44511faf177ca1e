//! Benchmarks through the real pipeline (containers, the server container, traces): how close
//! measured latency comes to the delay the server injected, and how much of a matrix run's
//! wall time is lookups.

use std::time::Duration;

use anyhow::Result;

use super::loopback::uniform_delay;
use super::{BenchOptions, Section, median};
use crate::profile::Profile;
use crate::result::{Mode, Resolver, RunResult};
use crate::run::{self, RunOptions};

fn run_matrix(
    opts: &BenchOptions,
    images: Vec<String>,
    resolvers: Vec<Resolver>,
    modes: Vec<Mode>,
    count: u64,
    scenario: crate::server::scenario::Scenario,
) -> Result<RunResult> {
    let results_dir =
        crate::image::offline::work_dir().join(format!("bench-runs-{}", std::process::id()));
    let result = run::run(&RunOptions {
        images,
        resolvers,
        modes,
        count,
        warmup: 10,
        profile: Profile::load("k8s")?,
        scenario,
        name_template: None,
        results_dir: results_dir.clone(),
        engine: opts.engine.clone(),
        cell_timeout: Duration::from_secs(600),
        quiet: true,
    });
    let _ = std::fs::remove_dir_all(&results_dir);
    let (run, _) = result?;
    if !run.complete {
        anyhow::bail!("the run was incomplete: {:?}", run.failures);
    }
    Ok(run)
}

/// measured p50 / predicted p50 (rounds x injected delay) with every delay at 1, 5, 20 ms.
pub fn fidelity(s: &mut Section, opts: &BenchOptions) -> Result<()> {
    let (images, resolvers, count) = if opts.quick {
        (vec!["debian:trixie-slim"], vec![Resolver::System], 10)
    } else {
        (
            vec!["debian:trixie-slim", "alpine:3.21"],
            vec![Resolver::System, Resolver::Hickory],
            50,
        )
    };
    let images: Vec<String> = images.into_iter().map(String::from).collect();
    s.describe(
        "fidelity to injected delay (containers, k8s profile)",
        &format!(
            "Every answer of the k8s scenario delayed by d; {} x {} parallel, {count} lookups per \
             cell. Per cell: measured p50 / predicted p50, where a lookup's prediction is the sum \
             over its rounds of the largest injected delay (from the server's log). 1.0 = all \
             the time went to injected delay; above 1 is the cost of the stack.",
            images.join(", "),
            resolvers
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    );
    for delay in [1.0, 5.0, 20.0] {
        let run = run_matrix(
            opts,
            images.clone(),
            resolvers.clone(),
            vec![Mode::Parallel],
            count,
            uniform_delay(delay),
        )?;
        let ratios: Vec<f64> = run
            .cells
            .iter()
            .map(|c| c.trace.measured_over_predicted)
            .collect();
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        s.add(
            &format!("measured / predicted at {delay} ms (median of cells; range {lo:.3}-{hi:.3})"),
            median(ratios),
            "ratio",
        );
    }
    Ok(())
}

/// Wall time of the default matrix (as `resolvbench run` runs it) vs its timed lookups.
pub fn efficiency(s: &mut Section, opts: &BenchOptions) -> Result<()> {
    let (images, resolvers, modes, count) = if opts.quick {
        (
            vec!["debian:trixie-slim".to_string()],
            vec![Resolver::System],
            vec![Mode::Parallel],
            20,
        )
    } else {
        (
            crate::image::default_images(),
            vec![Resolver::System, Resolver::Hickory],
            vec![Mode::Parallel, Mode::Sequential],
            200,
        )
    };
    s.describe(
        "run efficiency (the default matrix, images already built)",
        &format!(
            "resolvbench run of {} image(s) x {} resolver(s) x {} mode(s) x {count} lookups (k8s \
             profile and scenario), its images and probes built beforehand: wall time vs the sum \
             of the lookup times the probes measured.",
            images.len(),
            resolvers.len(),
            modes.len()
        ),
    );
    // Build what the run needs first, so the figure is a run's, not a first run's.
    let engine = crate::runtime::docker::Engine::new(&opts.engine);
    engine.check()?;
    let progress = crate::progress::Progress::new(opts.quiet);
    let say = |m: &str| progress.say(m);
    for name in &images {
        let resolved = crate::image::resolve(&engine, name, &say)?;
        crate::image::probe_build::binary(resolved.libc.probe_flavour(), &say)?;
    }
    let run = run_matrix(
        opts,
        images,
        resolvers,
        modes,
        count,
        crate::server::scenario::Scenario::k8s(),
    )?;
    let timed_s = run.timed_lookup_s();
    let t = |k: &str| run.timings.get(k).copied().unwrap_or(f64::NAN);
    s.add(
        "wall time / sum of measured lookups",
        t("total_s") / timed_s,
        "ratio",
    );
    s.add(
        "measuring phase / sum of measured lookups",
        t("measure_s") / timed_s,
        "ratio",
    );
    s.add("wall time", t("total_s"), "s");
    s.add("setup (images, probes, self-checks)", t("setup_s"), "s");
    s.add("measuring (one container per cell)", t("measure_s"), "s");
    s.add("sum of measured lookups", timed_s, "s");
    Ok(())
}
