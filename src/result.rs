//! The versioned result documents. The probe writes a `ProbeResult` per cell; `run` saves a
//! `RunResult` that holds them with what they were measured on. Reports read only these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::probe::hickory::HickoryConfig;
use crate::probe::system::Hints;
use crate::stats::LatencySummary;
use crate::trace::CellTrace;

pub const PROBE_SCHEMA: &str = "resolvbench.probe/v1";
pub const RUN_SCHEMA: &str = "resolvbench.run/v1";

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Resolver {
    /// The libc's getaddrinfo.
    System,
    /// hickory-resolver, in process.
    Hickory,
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One call for both families: getaddrinfo(AF_UNSPEC) / hickory Ipv4AndIpv6.
    Parallel,
    /// A then AAAA: getaddrinfo(AF_INET) then (AF_INET6) / hickory A lookup then AAAA lookup.
    Sequential,
}

impl Resolver {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolver::System => "system",
            Resolver::Hickory => "hickory",
        }
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Parallel => "parallel",
            Mode::Sequential => "sequential",
        }
    }
}

/// One cell as measured by one probe process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeResult {
    pub schema: String,
    pub probe: ProbeBuild,
    pub environment: ProbeEnvironment,
    pub cell: CellSpec,
    /// Lookups by outcome: "ok", or the error kind (EAI_NONAME, timeout, NXDOMAIN, ...).
    pub outcomes: BTreeMap<String, u64>,
    pub errors: u64,
    /// Every measured lookup, failed ones included (a user waits for those too).
    pub latency: LatencySummary,
    pub lookups: Vec<LookupRecord>,
    pub started_ns: u64,
    pub finished_ns: u64,
    /// Set when the probe stopped before `count` lookups (its deadline passed).
    pub stopped_early: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeBuild {
    pub version: String,
    /// glibc-dynamic, musl-dynamic or musl-static.
    pub flavour: String,
    pub target: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeEnvironment {
    pub hostname: String,
    pub uid: u32,
    pub kernel: String,
    pub libc: LibcInfo,
    /// Could the probe create a file in / ? (A hardened container: no.)
    pub root_fs_writable: bool,
    /// CapEff from /proc/self/status (all capabilities dropped: 0000000000000000).
    pub capabilities: String,
    /// /etc/resolv.conf as the probe read it.
    pub resolv_conf: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LibcInfo {
    /// glibc, musl.
    pub family: String,
    pub version: String,
    /// How the version was found.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CellSpec {
    pub resolver: Resolver,
    pub mode: Mode,
    pub count: u64,
    pub warmup: u64,
    /// The name resolved, `{id}` standing for each lookup's id.
    pub name_template: String,
    /// The cell id in every lookup name, and the per-process nonce.
    pub cell: String,
    pub nonce: String,
    pub hints: Option<Hints>,
    pub hickory: Option<HickoryConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LookupRecord {
    /// The lookup id (first label of the name).
    pub id: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub outcome: String,
    pub addresses: u32,
}

/// A saved run: every cell's probe result, its trace, and what it all ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunResult {
    pub schema: String,
    pub run_id: String,
    pub started: String,
    pub host: HostInfo,
    pub profile: ProfileInfo,
    pub scenario: crate::server::scenario::Scenario,
    pub cells: Vec<CellResult>,
    /// Cells that produced no result, and why (a crashed or hung probe, an image that failed).
    pub failures: Vec<CellFailure>,
    pub complete: bool,
    pub timings: BTreeMap<String, f64>,
}

impl RunResult {
    /// Reads a saved run from its directory or its run.json; errors are one clear line.
    pub fn load(path: &std::path::Path) -> anyhow::Result<RunResult> {
        use anyhow::Context;
        let file = if path.is_dir() {
            path.join("run.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let run: RunResult = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a resolvbench run", file.display()))?;
        if run.schema != RUN_SCHEMA {
            anyhow::bail!(
                "{} is a {} document, not {RUN_SCHEMA}",
                file.display(),
                run.schema
            );
        }
        Ok(run)
    }
}

impl RunResult {
    /// Seconds the probes spent in timed lookups, summed over the cells.
    pub fn timed_lookup_s(&self) -> f64 {
        self.cells
            .iter()
            .map(|c| c.probe.latency.mean * c.probe.latency.count as f64 / 1e6)
            .sum()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HostInfo {
    pub hostname: String,
    pub kernel: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub engine: String,
    pub engine_version: String,
    pub resolvbench_version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProfileInfo {
    pub name: String,
    /// The resolv.conf given to every probe container (the nameserver line is the server's IP).
    pub resolv_conf: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImageInfo {
    /// What the user asked for, e.g. debian:trixie-slim.
    pub reference: String,
    /// "registry" or "offline-equivalent".
    pub source: String,
    /// The local tag the probe ran in.
    pub local_tag: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CellResult {
    pub image: ImageInfo,
    pub probe: ProbeResult,
    pub trace: CellTrace,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CellFailure {
    pub image: String,
    pub resolver: Resolver,
    pub mode: Mode,
    pub error: String,
}
