//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::result::{Mode, Resolver};

#[derive(Parser, Debug)]
#[command(
    name = "resolvbench",
    version,
    about = "DNS lookup latency of libc and hickory resolvers inside containers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the matrix: images x resolvers x modes, in containers, against the test server.
    Run(RunArgs),
    /// One lookup per cell as a side-by-side timeline, and verdicts on the article's claims.
    Explain(ExplainArgs),
    /// The test DNS server (UDP and TCP), answering from a scenario and logging every query.
    Serve(ServeArgs),
    /// Measure one cell from inside a container; prints a JSON result document.
    Probe(ProbeArgs),
    /// Report a saved run (its directory or run.json): the terminal report, or exports.
    Report(ReportArgs),
    /// Compare two saved runs cell by cell; --fail-on-regression makes it a CI gate.
    Compare(CompareArgs),
    /// Print the JSON Schema of run.json (the saved run document).
    Schema,
    /// Benchmark resolvbench itself: probe overhead, memory, server vs dnsmasq, fidelity, run
    /// efficiency. Figures are ratios measured in one invocation.
    Bench(BenchArgs),
    /// List the image catalog and what is built; --build prepares every base image.
    Images(ImagesArgs),
    /// Remove every container, network and temporary directory a run left behind.
    Clean(CleanArgs),
    /// Print what the probe sees (libc and version, resolv.conf, uid) as JSON; a self-check.
    Env,
}

/// What a run measures and where: shared by `run` and `explain`.
#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// Base image (repeatable). Default: the matrix alpine:3.21, debian:trixie-slim,
    /// gcr.io/distroless/static-debian13:nonroot, gcr.io/distroless/cc-debian13:nonroot.
    #[arg(long = "image", default_values_t = crate::image::default_images())]
    pub images: Vec<String>,
    /// Resolver (repeatable).
    #[arg(long = "resolver", value_enum, default_values_t = vec![Resolver::System, Resolver::Hickory])]
    pub resolvers: Vec<Resolver>,
    /// Mode (repeatable).
    #[arg(long = "mode", value_enum, default_values_t = vec![Mode::Parallel, Mode::Sequential])]
    pub modes: Vec<Mode>,
    /// resolv.conf profile: a preset, `preset,option,...`, or a resolv.conf file.
    #[arg(long, default_value = "k8s")]
    pub profile: String,
    /// Scenario: a preset (k8s, jitter, loss, servfail-search, refused-search, nodata-aaaa,
    /// truncated, large, ns-dead-first, ns-slow-first, ns3-dead-first, nxdomain-long,
    /// in-cluster) or a TOML file.
    #[arg(long, default_value = "k8s")]
    pub scenario: String,
    /// Where runs are saved (a timestamped directory each).
    #[arg(long, default_value = "results/runs")]
    pub results_dir: PathBuf,
    /// Container engine CLI: docker or podman.
    #[arg(long, default_value = "docker")]
    pub engine: String,
    /// No progress messages on stderr.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub matrix: MatrixArgs,
    /// Timed lookups per cell.
    #[arg(long, default_value_t = 200)]
    pub count: u64,
    /// Untimed lookups per cell before the timed ones.
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// The name each lookup resolves; `{id}` becomes a fresh lookup id (so no cache hides a
    /// query and the server log joins to the lookup). Default: the scenario's, else
    /// `{id}.example.test`.
    #[arg(long)]
    pub name: Option<String>,
    /// Wall-time bound per cell, seconds.
    #[arg(long, default_value_t = 300)]
    pub cell_timeout: u64,
    /// Print the run document as JSON on stdout instead of the terminal report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Exports of a run, named as hyperfine names them.
#[derive(Args, Debug, Default)]
pub struct ExportArgs {
    /// The run document (schema resolvbench.run/v1, full HDR histograms) as pretty JSON.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// One row per cell, with what it was measured on.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// The comparison table as Markdown.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// latency-cdf.svg and queries-per-lookup.svg into this directory.
    #[arg(long, value_name = "DIR")]
    pub export_svg: Option<PathBuf>,
    /// One self-contained HTML report with the table and both charts.
    #[arg(long, value_name = "FILE")]
    pub export_html: Option<PathBuf>,
}

impl ExportArgs {
    pub fn any(&self) -> bool {
        self.export_json.is_some()
            || self.export_csv.is_some()
            || self.export_markdown.is_some()
            || self.export_svg.is_some()
            || self.export_html.is_some()
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (UDP and TCP), IP or IP:PORT. Default: 0.0.0.0:$PORT when the
    /// environment sets PORT (a nonroot container cannot bind 53 without help), else 127.0.0.1:53.
    #[arg(long)]
    pub listen: Option<String>,
    /// Scenario: a preset name or a TOML file.
    #[arg(long, default_value = "k8s")]
    pub scenario: String,
    /// Query log (JSON lines); "-" for stdout.
    #[arg(long, default_value = "-")]
    pub log: String,
    /// This instance's name in the log.
    #[arg(long, default_value = "ns1")]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[arg(long, value_enum)]
    pub resolver: Resolver,
    #[arg(long, value_enum)]
    pub mode: Mode,
    #[arg(long, default_value_t = 200)]
    pub count: u64,
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// The name to resolve; `{id}` becomes a fresh lookup id per lookup. Without `{id}` every
    /// lookup resolves the same name (the trace then joins by time).
    #[arg(long, default_value = "{id}.example.test")]
    pub name: String,
    /// Cell id carried in every lookup name.
    #[arg(long, default_value = "c0")]
    pub cell: String,
    /// Pass AI_ADDRCONFIG to getaddrinfo.
    #[arg(long)]
    pub addrconfig: bool,
    /// Stop measuring after this many seconds (the result says so).
    #[arg(long, default_value_t = 280.0)]
    pub max_seconds: f64,
    /// Write the result here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// hickory only: read this resolv.conf instead of /etc/resolv.conf (a probe on the host
    /// against a server on a loopback port, as the benchmarks run it).
    #[arg(long)]
    pub resolv_conf: Option<PathBuf>,
    /// hickory only: the nameservers' port.
    #[arg(long, default_value_t = 53)]
    pub port: u16,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run directory or its run.json.
    pub run: PathBuf,
    /// Timelines, option effects and verdicts (as `explain` prints them) instead of the table.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub export: ExportArgs,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Smoke sizes (seconds, not minutes): every section runs, the figures mean little.
    #[arg(long)]
    pub quick: bool,
    /// Where bench.json and bench.md are written.
    #[arg(long, default_value = "results/bench")]
    pub out: PathBuf,
    #[arg(long, default_value = "docker")]
    pub engine: String,
    /// No progress messages on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Print the report as JSON on stdout instead of Markdown.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Prepare (pull, or build offline equivalents of) these images, or all catalog images.
    #[arg(long)]
    pub build: bool,
    /// Images to prepare with --build (default: the whole catalog).
    #[arg(long = "image")]
    pub images: Vec<String>,
    #[arg(long, default_value = "docker")]
    pub engine: String,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The name to look up (default: the scenario's, else a fresh `{id}.example.test`).
    pub name: Option<String>,
    #[command(flatten)]
    pub matrix: MatrixArgs,
}

#[derive(Args, Debug)]
pub struct CleanArgs {
    #[arg(long, default_value = "docker")]
    pub engine: String,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The baseline run: its directory or run.json.
    pub baseline: PathBuf,
    /// The run to judge against it: its directory or run.json.
    pub run: PathBuf,
    /// p50/p90 changes smaller than PCT % are "within noise", even when significant.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub noise: f64,
    /// Significance level of the Mann-Whitney U test on latencies and of the z-test on error
    /// shares.
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Exit with code 2 if any cell is significantly slower (p < alpha) with its p50 or p90 up by
    /// more than PCT %, or has significantly more errors. p99 is shown but not gated: with 200
    /// lookups per cell it is the third-slowest lookup, too few to judge.
    #[arg(long, value_name = "PCT")]
    pub fail_on_regression: Option<f64>,
    /// Print the comparison as JSON (schema resolvbench.compare/v1) instead of the table.
    #[arg(long)]
    pub json: bool,
}
