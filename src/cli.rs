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
    /// The test DNS server (UDP and TCP), answering from a scenario and logging every query.
    Serve(ServeArgs),
    /// Measure one cell from inside a container; prints a JSON result document.
    Probe(ProbeArgs),
    /// Print the terminal report of a saved run (its directory or run.json).
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Base image (repeatable).
    #[arg(long = "image", default_values_t = vec!["debian:trixie-slim".to_string()])]
    pub images: Vec<String>,
    /// Resolver (repeatable).
    #[arg(long = "resolver", value_enum, default_values_t = vec![Resolver::System, Resolver::Hickory])]
    pub resolvers: Vec<Resolver>,
    /// Mode (repeatable).
    #[arg(long = "mode", value_enum, default_values_t = vec![Mode::Parallel, Mode::Sequential])]
    pub modes: Vec<Mode>,
    /// Timed lookups per cell.
    #[arg(long, default_value_t = 200)]
    pub count: u64,
    /// Untimed lookups per cell before the timed ones.
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// resolv.conf profile.
    #[arg(long, default_value = "k8s")]
    pub profile: String,
    /// Scenario: a preset name or a TOML file.
    #[arg(long, default_value = "k8s")]
    pub scenario: String,
    /// Domain the lookup names are under (the scenario must answer it).
    #[arg(long, default_value = "example.test")]
    pub domain: String,
    /// Where runs are saved (a timestamped directory each).
    #[arg(long, default_value = "results/runs")]
    pub results_dir: PathBuf,
    /// Container engine CLI: docker or podman.
    #[arg(long, default_value = "docker")]
    pub engine: String,
    /// Wall-time bound per cell, seconds.
    #[arg(long, default_value_t = 300)]
    pub cell_timeout: u64,
    /// Print the run document as JSON on stdout instead of the terminal report.
    #[arg(long)]
    pub json: bool,
    /// No progress messages on stderr.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (UDP and TCP), IP or IP:PORT.
    #[arg(long, default_value = "127.0.0.1:53")]
    pub listen: String,
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
    #[arg(long, default_value = "example.test")]
    pub domain: String,
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
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A run directory or its run.json.
    pub run: PathBuf,
}
