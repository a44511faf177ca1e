//! Thin entry point: parse, dispatch, and turn any error into one line and exit code 1.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;

use resolvbench::cli::{
    CleanArgs, Cli, Command, ExplainArgs, ImagesArgs, MatrixArgs, ProbeArgs, ReportArgs, RunArgs,
    ServeArgs,
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
        Command::Schema => cmd_schema(),
        Command::Env => cmd_env(),
        Command::Images(a) => cmd_images(a),
        Command::Clean(a) => cmd_clean(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever an underlying library's message looks like.
            let message = format!("{e:#}").replace('\n', " ");
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
    for path in report::export::write(&result, &a.export)? {
        eprintln!("wrote {path}");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", report::terminal::render(&result));
        println!("\nsaved: {}", dir.display());
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
    let result = probe::run(&probe::ProbeOptions {
        resolver: a.resolver,
        mode: a.mode,
        count: a.count,
        warmup: a.warmup,
        name_template: a.name,
        cell: a.cell,
        addrconfig: a.addrconfig,
        max_seconds: a.max_seconds,
    })?;
    let json = serde_json::to_string(&result)?;
    match a.out {
        Some(path) => run::write_atomic(&path, json.as_bytes()),
        None => {
            println!("{json}");
            Ok(())
        }
    }
}

fn cmd_report(a: ReportArgs) -> Result<()> {
    let path = if a.run.is_dir() {
        a.run.join("run.json")
    } else {
        a.run.clone()
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let run: RunResult = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a resolvbench run", path.display()))?;
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
            let resolved = image::resolve(&engine, &name, &|m| eprintln!("{m}"))?;
            let flavour = resolved.libc.probe_flavour();
            image::probe_build::binary(flavour, &|m| eprintln!("{m}"))?;
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
