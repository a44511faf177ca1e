//! The probe: what runs inside a container. One process measures one cell (resolver x mode):
//! warm-up lookups, then `count` timed lookups of fresh names, and writes a ProbeResult.

pub mod environment;
pub mod hickory;
pub mod names;
pub mod system;

use std::collections::BTreeMap;

use anyhow::Result;

use crate::clock::monotonic_ns;
use crate::result::{CellSpec, LookupRecord, Mode, PROBE_SCHEMA, ProbeResult, Resolver};
use crate::stats::{LatencySummary, new_histogram};
use system::{Family, Hints};

#[derive(Clone)]
pub struct ProbeOptions {
    pub mode: Mode,
    pub count: u64,
    pub warmup: u64,
    pub name_template: String,
    pub cell: String,
    /// Stop measuring (and say so) once this much wall time has passed.
    pub max_seconds: f64,
}

/// One resolver, ready to be timed.
pub enum Lookup {
    System(Hints),
    Hickory(Box<hickory::HickoryProbe>),
}

impl Lookup {
    /// The resolver a probe measures: the system's reads /etc/resolv.conf by itself; hickory
    /// reads `resolv_conf` (text) when given, else /etc/resolv.conf, and asks on `port`.
    pub fn new(
        resolver: Resolver,
        addrconfig: bool,
        resolv_conf: Option<&str>,
        port: u16,
    ) -> Result<Lookup> {
        Ok(match resolver {
            Resolver::System if resolv_conf.is_some() || port != 53 => anyhow::bail!(
                "the system resolver reads /etc/resolv.conf and asks port 53; \
                 --resolv-conf and --port are for hickory"
            ),
            Resolver::System => Lookup::System(Hints::new(addrconfig)),
            Resolver::Hickory => {
                Lookup::Hickory(Box::new(hickory::HickoryProbe::new(resolv_conf, port)?))
            }
        })
    }

    pub fn resolve(&self, name: &str, mode: Mode) -> Result<u32, String> {
        match (self, mode) {
            (Lookup::System(h), Mode::Parallel) => system::getaddrinfo(name, Family::Unspec, h),
            (Lookup::System(h), Mode::Sequential) => {
                let v4 = system::getaddrinfo(name, Family::Inet, h);
                let v6 = system::getaddrinfo(name, Family::Inet6, h);
                match (v4, v6) {
                    (Err(e), Err(_)) => Err(e),
                    (a, b) => Ok(a.unwrap_or(0) + b.unwrap_or(0)),
                }
            }
            (Lookup::Hickory(p), Mode::Parallel) => p.lookup_parallel(name),
            (Lookup::Hickory(p), Mode::Sequential) => p.lookup_sequential(name),
        }
    }
}

/// Measures one cell with `lookup`; `resolv_conf` is recorded as what the resolver read.
pub fn run(lookup: &Lookup, opts: &ProbeOptions, resolv_conf: String) -> Result<ProbeResult> {
    let nonce = names::process_nonce();
    let name = |seq, warmup| {
        opts.name_template.replace(
            "{id}",
            &names::lookup_label(&opts.cell, &nonce, seq, warmup),
        )
    };
    let id = |seq| names::lookup_label(&opts.cell, &nonce, seq, false);

    for seq in 0..opts.warmup {
        let _ = lookup.resolve(&name(seq, true), opts.mode);
    }

    let mut histogram = new_histogram();
    let mut outcomes = BTreeMap::new();
    let mut lookups = Vec::with_capacity(opts.count.min(1 << 20) as usize);
    let started_ns = monotonic_ns();
    let deadline_ns = started_ns + (opts.max_seconds * 1e9) as u64;
    let mut stopped_early = None;
    for seq in 0..opts.count {
        if monotonic_ns() > deadline_ns {
            stopped_early = Some(format!(
                "deadline of {} s reached after {seq} lookups",
                opts.max_seconds
            ));
            break;
        }
        let name = name(seq, false);
        let start_ns = monotonic_ns();
        let result = lookup.resolve(&name, opts.mode);
        let end_ns = monotonic_ns();
        histogram.saturating_record(((end_ns - start_ns) / 1000).max(1));
        let (outcome, addresses) = match result {
            Ok(n) => ("ok".to_string(), n),
            Err(kind) => (kind, 0),
        };
        *outcomes.entry(outcome.clone()).or_insert(0) += 1;
        lookups.push(LookupRecord {
            id: id(seq),
            start_ns,
            end_ns,
            outcome,
            addresses,
        });
    }
    let finished_ns = monotonic_ns();

    let errors = outcomes
        .iter()
        .filter(|(k, _)| *k != "ok")
        .map(|(_, v)| v)
        .sum();
    let (resolver, hints, hickory) = match lookup {
        Lookup::System(h) => (Resolver::System, Some(h.clone()), None),
        Lookup::Hickory(p) => (Resolver::Hickory, None, Some(p.config.clone())),
    };
    Ok(ProbeResult {
        schema: PROBE_SCHEMA.into(),
        probe: environment::build(),
        environment: environment::environment(resolv_conf),
        cell: CellSpec {
            resolver,
            mode: opts.mode,
            count: opts.count,
            warmup: opts.warmup,
            name_template: opts.name_template.clone(),
            cell: opts.cell.clone(),
            nonce,
            hints,
            hickory,
        },
        outcomes,
        errors,
        latency: LatencySummary::from_histogram(&histogram),
        lookups,
        started_ns,
        finished_ns,
        stopped_early,
    })
}
