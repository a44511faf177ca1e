//! `resolvbench run`: the pipeline. Images -> a private network with the test server ->
//! one fresh probe container per cell -> the server's query log -> traces -> a saved run.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::image::{self, probe_build};
use crate::profile::Profile;
use crate::progress::Progress;
use crate::result::{
    CellFailure, CellResult, HostInfo, ImageInfo, Mode, ProbeResult, ProfileInfo, RUN_SCHEMA,
    Resolver, RunResult,
};
use crate::runtime::docker::{ContainerSpec, Engine, RUN_LABEL};
use crate::server::log::{QueryLogEntry, read_log};
use crate::server::scenario::Scenario;
use crate::trace::trace_cell;

/// The image the test server runs in (with the glibc build of this binary).
const SERVER_IMAGE: &str = "debian:trixie-slim";

/// An image ready for cells: its description, its probe image, and the libc the probe saw.
struct PreparedImage {
    info: ImageInfo,
    probe_image: String,
}

pub struct RunOptions {
    pub images: Vec<String>,
    pub resolvers: Vec<Resolver>,
    pub modes: Vec<Mode>,
    pub count: u64,
    pub warmup: u64,
    pub profile: Profile,
    pub scenario: Scenario,
    /// None: the scenario's `lookup`, else `{id}.example.test`.
    pub name_template: Option<String>,
    pub results_dir: PathBuf,
    pub engine: String,
    pub cell_timeout: Duration,
    pub quiet: bool,
}

/// Everything a run created, removed when the run ends however it ends.
struct RunGuard {
    engine: Engine,
    run_id: String,
    tmp: PathBuf,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Err(e) = self.engine.remove_run(&self.run_id) {
            eprintln!(
                "resolvbench: warning: cleanup of run {} failed: {e:#}",
                self.run_id
            );
        }
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Runs the matrix and saves it; returns the run and the directory it was saved in.
pub fn run(opts: &RunOptions) -> Result<(RunResult, PathBuf)> {
    let mut progress = Progress::new(opts.quiet);
    let t0 = Instant::now();
    let engine = Engine::new(&opts.engine);
    let engine_version = engine.check()?;
    if opts.images.is_empty() {
        bail!("no image given");
    }
    let results_dir = prepare_results_dir(&opts.results_dir)?;

    let run_id = format!("{:08x}", rand::random::<u32>());
    let started = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let tmp = image::offline::work_dir().join(format!("run-{run_id}"));
    let guard = RunGuard {
        engine: engine.clone(),
        run_id: run_id.clone(),
        tmp: tmp.clone(),
    };
    std::fs::create_dir_all(&tmp)?;
    image::offline::set_mode(&tmp, 0o777)?; // the server runs as uid 65532 and writes its log here

    // Every image and probe is ready (or the run stops with one error) before anything is measured.
    progress.spinner("preparing images and probes");
    let mut images = Vec::new();
    for name in &opts.images {
        images.push(prepare_image(&engine, name, &|m| progress.say(m))?);
    }
    let server_image = prepare_image(&engine, SERVER_IMAGE, &|m| progress.say(m))?.probe_image;
    progress.finish();
    let setup_s = t0.elapsed().as_secs_f64();

    // The private network and the server.
    let network = format!("rb-{run_id}");
    engine.create_network(&network, &run_id)?;
    std::fs::write(tmp.join("scenario.toml"), opts.scenario.to_toml())?;
    // One server container per nameserver of the scenario, in resolv.conf order.
    let servers = opts.scenario.servers();
    let mut server_ips = Vec::new();
    for ns in &servers {
        server_ips.push(start_server(
            &engine,
            &run_id,
            &network,
            &server_image,
            &tmp,
            &ns.name,
        )?);
    }
    let server_ip = server_ips
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let resolv_conf = opts.profile.resolv_conf(&server_ips);
    std::fs::write(tmp.join("resolv.conf"), &resolv_conf)?;
    image::offline::set_mode(&tmp.join("resolv.conf"), 0o644)?;
    progress.say(&format!(
        "run {run_id}: nameserver(s) {server_ip}, profile {}, scenario {}",
        opts.profile.name, opts.scenario.name
    ));

    // One fresh probe process per cell: glibc, for one, changes how it sends after a timeout.
    let t_measure = Instant::now();
    let mut measured: Vec<(ImageInfo, ProbeResult)> = Vec::new();
    let mut failures = Vec::new();
    let total = images.len() * opts.resolvers.len() * opts.modes.len();
    progress.start(total as u64);
    let mut index = 0;
    'cells: for PreparedImage { info, probe_image } in &images {
        for &resolver in &opts.resolvers {
            for &mode in &opts.modes {
                if crate::interrupt::requested() {
                    break 'cells;
                }
                index += 1;
                let cell = format!("c{index}");
                let label = format!("{} {} {}", info.reference, resolver.as_str(), mode.as_str());
                progress.step(index, total, &label);
                match run_cell(
                    &engine,
                    opts,
                    &run_id,
                    &network,
                    probe_image,
                    &tmp,
                    &cell,
                    resolver,
                    mode,
                ) {
                    Ok(result) => measured.push((info.clone(), result)),
                    Err(e) => {
                        progress.say(&format!("[{index}/{total}] {label}: FAILED: {e:#}"));
                        failures.push(CellFailure {
                            image: info.reference.clone(),
                            resolver,
                            mode,
                            error: format!("{e:#}"),
                        });
                    }
                }
            }
        }
    }
    progress.finish();
    let measure_s = t_measure.elapsed().as_secs_f64();

    // Let the server's log writer drain, then read the log.
    std::thread::sleep(Duration::from_millis(300));
    let mut log = Vec::new();
    for ns in &servers {
        let text = std::fs::read_to_string(tmp.join(format!("queries-{}.jsonl", ns.name)))
            .unwrap_or_default();
        log.extend(read_log(&text)?);
    }
    log.sort_by_key(|e| e.recv_ns);
    let log_text: String = log
        .iter()
        .map(|e| serde_json::to_string(e).expect("serializes") + "\n")
        .collect();
    let cells = join_traces(measured, &log);

    let host = host_info(&engine, &engine_version);
    let mut run = RunResult {
        schema: RUN_SCHEMA.into(),
        run_id: run_id.clone(),
        started,
        host,
        profile: ProfileInfo {
            name: opts.profile.name.clone(),
            resolv_conf,
        },
        scenario: opts.scenario.clone(),
        complete: failures.is_empty() && !crate::interrupt::requested() && index == total,
        cells,
        failures,
        timings: Default::default(),
    };
    run.timings.insert("setup_s".into(), setup_s);
    run.timings.insert("measure_s".into(), measure_s);
    run.timings
        .insert("total_s".into(), t0.elapsed().as_secs_f64());
    let dir = save(&results_dir, &run, &log_text)?;
    drop(guard);
    if crate::interrupt::requested() {
        bail!(
            "interrupted after {} of {total} cells; what was measured is saved, marked incomplete, in {}",
            run.cells.len(),
            dir.display()
        );
    }
    Ok((run, dir))
}

fn prepare_image(engine: &Engine, name: &str, say: &dyn Fn(&str)) -> Result<PreparedImage> {
    let resolved = image::resolve(engine, name, say)?;
    let binary = probe_build::binary(resolved.libc.probe_flavour(), say)?;
    let probe_image = image::ensure_probe_image(engine, &resolved.info, &binary)?;
    self_check(engine, &probe_image, &resolved.info.reference)?;
    Ok(PreparedImage {
        info: resolved.info,
        probe_image,
    })
}

/// Runs `resolvbench env` in the probe image: proves the probe starts there (a glibc too old
/// for it, a missing library) before any cell is measured.
fn self_check(engine: &Engine, probe_image: &str, reference: &str) -> Result<()> {
    let spec = ContainerSpec {
        name: format!("resolvbench-check-{}", std::process::id()),
        image: probe_image.into(),
        network: "none".into(),
        hostname: "probe".into(),
        command: vec!["env".into()],
        ..ContainerSpec::default()
    };
    let out = engine.run_attached(&spec, Duration::from_secs(60))?;
    let _ = engine.remove_container(&spec.name);
    if !out.status.success() {
        bail!(
            "the probe cannot run in image {reference}: {}",
            out.last_error_line()
        );
    }
    Ok(())
}

fn labels(run_id: &str) -> Vec<(String, String)> {
    vec![(RUN_LABEL.to_string(), run_id.to_string())]
}

fn start_server(
    engine: &Engine,
    run_id: &str,
    network: &str,
    image: &str,
    tmp: &Path,
    instance: &str,
) -> Result<IpAddr> {
    let name = format!("rb-{run_id}-{instance}");
    let spec = ContainerSpec {
        name: name.clone(),
        image: image.into(),
        network: network.into(),
        hostname: instance.into(),
        labels: labels(run_id),
        mounts: vec![(tmp.to_path_buf(), "/rb".into(), false)],
        // Port 53 as uid 65532 with no capability: the namespaced sysctl.
        sysctls: vec!["net.ipv4.ip_unprivileged_port_start=53".into()],
        command: [
            "serve",
            "--listen",
            "0.0.0.0:53",
            "--scenario",
            "/rb/scenario.toml",
            "--log",
            &format!("/rb/queries-{instance}.jsonl"),
            "--name",
            instance,
        ]
        .map(String::from)
        .to_vec(),
    };
    engine.run_detached(&spec)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let logs = engine.logs(&name);
        if logs.contains("listening on") {
            break;
        }
        if !engine.is_running(&name) || Instant::now() > deadline {
            let last = logs.lines().last().unwrap_or("(no output)").to_string();
            bail!("the test server did not start: {last}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    engine.container_ip(&name)
}

#[allow(clippy::too_many_arguments)]
fn run_cell(
    engine: &Engine,
    opts: &RunOptions,
    run_id: &str,
    network: &str,
    image: &str,
    tmp: &Path,
    cell: &str,
    resolver: Resolver,
    mode: Mode,
) -> Result<ProbeResult> {
    // The probe stops itself before the engine would kill it, so a slow cell still reports.
    let max_seconds = (opts.cell_timeout.as_secs_f64() - 20.0).max(5.0);
    let spec = ContainerSpec {
        name: format!("rb-{run_id}-{cell}"),
        image: image.into(),
        network: network.into(),
        hostname: "probe".into(),
        labels: labels(run_id),
        mounts: vec![(tmp.join("resolv.conf"), "/etc/resolv.conf".into(), true)],
        sysctls: Vec::new(),
        command: vec![
            "probe".into(),
            format!("--resolver={}", resolver.as_str()),
            format!("--mode={}", mode.as_str()),
            format!("--count={}", opts.count),
            format!("--warmup={}", opts.warmup),
            format!("--name={}", lookup_name(opts)),
            format!("--cell={cell}"),
            format!("--max-seconds={max_seconds}"),
        ],
    };
    let out = engine.run_attached(&spec, opts.cell_timeout)?;
    let _ = engine.remove_container(&spec.name);
    if !out.status.success() {
        bail!(
            "probe exited with {}: {}",
            out.status,
            out.last_error_line()
        );
    }
    serde_json::from_str(&out.stdout).context("probe printed no valid result")
}

/// The name template, fully qualified when the profile says so.
fn lookup_name(opts: &RunOptions) -> String {
    let name = (opts.name_template.clone())
        .or_else(|| opts.scenario.lookup.clone())
        .unwrap_or_else(|| "{id}.example.test".into());
    if opts.profile.fqdn && !name.ends_with('.') {
        name + "."
    } else {
        name
    }
}

fn join_traces(measured: Vec<(ImageInfo, ProbeResult)>, log: &[QueryLogEntry]) -> Vec<CellResult> {
    measured
        .into_iter()
        .map(|(image, probe)| {
            let prefix = format!("lk-{}-{}-", probe.cell.cell, probe.cell.nonce);
            let mine: Vec<QueryLogEntry> = log
                .iter()
                .filter(|e| match e.lookup.as_deref() {
                    Some(l) => l.starts_with(&prefix),
                    // Fixed names (no lookup id): what arrived while this cell measured.
                    None => (probe.started_ns..=probe.finished_ns).contains(&e.recv_ns),
                })
                .cloned()
                .collect();
            let trace = trace_cell(&probe.lookups, &mine);
            CellResult {
                image,
                probe,
                trace,
            }
        })
        .collect()
}

/// Creates the results directory and proves it writable before anything is measured.
fn prepare_results_dir(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("results directory {} cannot be created", dir.display()))?;
    let probe = dir.join(".resolvbench-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("results directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir.to_path_buf())
}

/// Saves run.json (atomically: temp file + rename) and the server's query log.
fn save(results_dir: &Path, run: &RunResult, log_text: &str) -> Result<PathBuf> {
    let stamp = run.started.replace([':', '-'], "");
    let dir = results_dir.join(format!("{stamp}-{}", run.run_id));
    std::fs::create_dir_all(&dir)?;
    write_atomic(&dir.join("queries.jsonl"), log_text.as_bytes())?;
    write_atomic(
        &dir.join("run.json"),
        serde_json::to_string_pretty(run)?.as_bytes(),
    )?;
    Ok(dir)
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| Ok(w.write_all(bytes)?))
}

/// Writes through `fill` into a temporary file beside `path`, then renames it into place; a
/// failure leaves neither a partial file nor the temporary one.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let written = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        w.flush()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("cannot write {}", tmp.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename to {}", path.display()))
}

/// The host's CPU model, from /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn host_info(engine: &Engine, engine_version: &str) -> HostInfo {
    let env = crate::probe::environment::environment(String::new());
    HostInfo {
        hostname: env.hostname,
        kernel: env.kernel,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model: cpu_model(),
        engine: engine.program.clone(),
        engine_version: engine_version.into(),
        resolvbench_version: env!("CARGO_PKG_VERSION").into(),
    }
}
