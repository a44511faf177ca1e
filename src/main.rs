//! Thin entry point: parse, dispatch, and turn any error into one line (exit 1; a regression
//! found by `compare` exits 2).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;

use resolvbench::cli::{
    BenchArgs, CleanArgs, Cli, Command, ExplainArgs, ImagesArgs, MatrixArgs, ProbeArgs, ReportArgs,
    RunArgs, ServeArgs,
};
use resolvbench::profile::Profile;
use resolvbench::result::RunResult;
use resolvbench::server::{self, log::LogSink, scenario::Scenario};
use resolvbench::{probe, report, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run(a),
        Command::Explain(a) => cmd_explain(a),
        Command::Serve(a) => cmd_serve(a),
        Command::Probe(a) => cmd_probe(a),
        Command::Report(a) => cmd_report(a),
        Command::Compare(a) => cmd_compare(a),
        Command::Schema => cmd_schema(),
        Command::Bench(a) => cmd_bench(a),
        Command::Env => cmd_env(),
        Command::Images(a) => cmd_images(a),
        Command::Clean(a) => cmd_clean(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever an underlying library's message looks like.
            let message = format!("{e:#}").replace('\n', " ");
            // A regression is the gate working, not the tool failing: its own exit code.
            if e.is::<resolvbench::compare::RegressionFound>() {
                eprintln!("resolvbench: {message}");
                return ExitCode::from(2);
            }
            eprintln!("resolvbench: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A preset name, or a path to a TOML file.
fn load_scenario(s: &str) -> Result<Scenario> {
    if Path::new(s).exists() || s.ends_with(".toml") {
        let text =
            std::fs::read_to_string(s).with_context(|| format!("cannot read scenario {s}"))?;
        Scenario::parse_toml(&text, s)
    } else {
        Scenario::preset(s)
    }
}

fn run_options(
    m: MatrixArgs,
    count: u64,
    warmup: u64,
    name: Option<String>,
    cell_timeout_s: u64,
) -> Result<run::RunOptions> {
    Ok(run::RunOptions {
        images: m.images,
        resolvers: m.resolvers,
        modes: m.modes,
        count,
        warmup,
        profile: Profile::load(&m.profile)?,
        scenario: load_scenario(&m.scenario)?,
        name_template: name,
        results_dir: m.results_dir,
        engine: m.engine,
        cell_timeout: std::time::Duration::from_secs(cell_timeout_s),
        quiet: m.quiet,
    })
}

fn cmd_run(a: RunArgs) -> Result<()> {
    resolvbench::interrupt::install();
    let opts = run_options(a.matrix, a.count, a.warmup, a.name, a.cell_timeout)?;
    let (result, dir) = run::run(&opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", report::terminal::render(&result));
        println!("\nsaved: {}", dir.display());
    }
    // After the report: a bad export path costs the export, not the run (it is saved).
    let written = report::export::write(&result, &a.export).with_context(|| {
        format!(
            "the run is saved in {}; export again with `resolvbench report {} --export-...`",
            dir.display(),
            dir.display()
        )
    })?;
    for path in written {
        eprintln!("wrote {path}");
    }
    if !result.complete {
        anyhow::bail!(
            "{} cell(s) failed (see above); the rest is saved in {}",
            result.failures.len(),
            dir.display()
        );
    }
    Ok(())
}

fn cmd_serve(a: ServeArgs) -> Result<()> {
    let scenario = Arc::new(load_scenario(&a.scenario)?);
    let listen = match (&a.listen, std::env::var("PORT")) {
        (Some(l), _) => server::parse_listen(l)?,
        (None, Ok(port)) => server::parse_listen(&format!("0.0.0.0:{port}"))?,
        (None, Err(_)) => server::parse_listen("127.0.0.1:53")?,
    };
    let sink = if a.log == "-" {
        LogSink::Writer(Box::new(std::io::stdout()))
    } else {
        let file = std::fs::File::create(&a.log)
            .with_context(|| format!("cannot create query log {}", a.log))?;
        LogSink::Writer(Box::new(file))
    };
    let log = server::log::spawn_writer(sink);
    let name = scenario.name.clone();
    let running = server::start(
        server::ServerConfig {
            name: a.name,
            listen,
            scenario,
        },
        log,
    )?;
    eprintln!(
        "resolvbench serve: listening on {} (udp+tcp), scenario {name}",
        running.addr
    );
    loop {
        std::thread::park();
    }
}

fn cmd_probe(a: ProbeArgs) -> Result<()> {
    // What the resolver reads: --resolv-conf (hickory only), else the container's own.
    let resolv_conf = match &a.resolv_conf {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
    };
    let lookup = probe::Lookup::new(
        a.resolver,
        a.addrconfig,
        a.resolv_conf.as_ref().map(|_| resolv_conf.as_str()),
        a.port,
    )?;
    let result = probe::run(
        &lookup,
        &probe::ProbeOptions {
            mode: a.mode,
            count: a.count,
            warmup: a.warmup,
            name_template: a.name,
            cell: a.cell,
            max_seconds: a.max_seconds,
        },
        resolv_conf,
    )?;
    // Streamed, not built as one string: a million-lookup result stays out of memory twice.
    match a.out {
        Some(path) => run::write_atomic_with(&path, |w| Ok(serde_json::to_writer(w, &result)?)),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            serde_json::to_writer(&mut w, &result)?;
            writeln!(w)?;
            Ok(w.flush()?)
        }
    }
}

fn cmd_report(a: ReportArgs) -> Result<()> {
    let run = RunResult::load(&a.run)?;
    if a.export.any() {
        for path in report::export::write(&run, &a.export)? {
            eprintln!("wrote {path}");
        }
    } else if a.explain {
        print!("{}", report::explain::render(&run));
    } else {
        print!("{}", report::terminal::render(&run));
    }
    Ok(())
}

fn cmd_bench(a: BenchArgs) -> Result<()> {
    resolvbench::interrupt::install();
    let report = resolvbench::bench::run(&resolvbench::bench::BenchOptions {
        quick: a.quick,
        out: a.out.clone(),
        engine: a.engine,
        quiet: a.quiet,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", resolvbench::bench::render(&report));
        println!("saved: {}", a.out.join("bench.json").display());
    }
    let failed: Vec<&str> = report
        .sections
        .iter()
        .filter(|s| s.error.is_some())
        .map(|s| s.title.as_str())
        .collect();
    if !failed.is_empty() {
        anyhow::bail!("not measured: {} (see above)", failed.join(", "));
    }
    Ok(())
}

fn cmd_schema() -> Result<()> {
    let schema = schemars::schema_for!(RunResult);
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(())
}

fn cmd_env() -> Result<()> {
    let resolv_conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let env = probe::environment::environment(resolv_conf);
    let build = probe::environment::build();
    println!(
        "{}",
        serde_json::json!({ "probe": build, "environment": env })
    );
    Ok(())
}

fn cmd_images(a: ImagesArgs) -> Result<()> {
    use resolvbench::image::{self, CATALOG};
    let engine = resolvbench::runtime::docker::Engine::new(&a.engine);
    engine.check()?;
    if a.build {
        let names: Vec<String> = if a.images.is_empty() {
            CATALOG.iter().map(|e| e.reference.to_string()).collect()
        } else {
            a.images
        };
        for name in names {
            let t = std::time::Instant::now();
            let mut progress = resolvbench::progress::Progress::new(false);
            progress.spinner(&format!("{name}: preparing"));
            let resolved = image::resolve(&engine, &name, &|m| progress.say(m))?;
            let flavour = resolved.libc.probe_flavour();
            image::probe_build::binary(flavour, &|m| progress.say(m))?;
            progress.finish();
            eprintln!(
                "{name}: {} {} ({:?}, {} probe) ready in {:.1} s",
                resolved.info.source,
                resolved.info.local_tag,
                resolved.libc,
                flavour.as_str(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "{:<44} {:<9} {:<55} state",
        "image", "libc", "offline equivalent"
    );
    for e in CATALOG {
        let state = if engine.has_image_named(e.reference) {
            "registry image present"
        } else if engine.image_exists(&engine.local_name(e.equivalent_tag)) {
            "equivalent built"
        } else {
            "not built"
        };
        println!(
            "{:<44} {:<9} {:<55} {state}",
            e.reference,
            format!("{:?}", e.libc),
            e.equivalent_tag
        );
    }
    Ok(())
}

fn cmd_explain(a: ExplainArgs) -> Result<()> {
    resolvbench::interrupt::install();
    // One lookup per cell (after one warm-up), as the timelines show.
    let opts = run_options(a.matrix, 1, 1, a.name, 120)?;
    let (result, dir) = run::run(&opts)?;
    print!("{}", report::explain::render(&result));
    println!("\nsaved: {}", dir.display());
    Ok(())
}

fn cmd_clean(a: CleanArgs) -> Result<()> {
    let engine = resolvbench::runtime::docker::Engine::new(&a.engine);
    engine.check()?;
    let (containers, networks) = engine.remove_all_runs()?;
    let mut dirs = 0;
    if let Ok(entries) = std::fs::read_dir(resolvbench::image::offline::work_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("run-")
                || name.starts_with("build-")
                || name.starts_with("probe-ctx-")
            {
                std::fs::remove_dir_all(e.path())?;
                dirs += 1;
            }
        }
    }
    println!(
        "removed {containers} container(s), {networks} network(s), {dirs} temporary directories"
    );
    Ok(())
}

fn cmd_compare(a: resolvbench::cli::CompareArgs) -> Result<()> {
    use resolvbench::compare;
    let base = RunResult::load(&a.baseline)?;
    let run = RunResult::load(&a.run)?;
    let opts = compare::Options {
        noise_pct: a.noise,
        alpha: a.alpha,
        fail_on_regression_pct: a.fail_on_regression,
    };
    let comparison = compare::compare(&base, &run, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{}", compare::render(&comparison));
    }
    match compare::regression_error(&comparison) {
        Some(regression) => Err(regression.into()),
        None => Ok(()),
    }
}
