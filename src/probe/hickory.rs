//! The in-process resolver: hickory-resolver configured from the container's /etc/resolv.conf
//! (as Go's resolver reads it), with its cache off so every lookup goes to the wire.

use anyhow::{Context, Result};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::LookupIpStrategy;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use serde::{Deserialize, Serialize};

use crate::server::handler::rcode_name;

/// The resolver options that shape the query pattern, as hickory understood resolv.conf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HickoryConfig {
    pub version: String,
    pub search: Vec<String>,
    pub nameservers: Vec<String>,
    pub ndots: usize,
    pub timeout_ms: u64,
    pub attempts: usize,
    pub edns0: bool,
    pub ip_strategy: String,
    pub cache_size: u64,
}

pub struct HickoryProbe {
    runtime: tokio::runtime::Runtime,
    resolver: TokioResolver,
    pub config: HickoryConfig,
}

impl HickoryProbe {
    /// Builds the resolver from /etc/resolv.conf, or from `resolv_conf` text when given
    /// (tests use that, with `port` for a server on an unprivileged loopback port).
    pub fn new(resolv_conf: Option<&str>, port: u16) -> Result<HickoryProbe> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("tokio runtime")?;
        let (mut config, mut opts) = match resolv_conf {
            Some(text) => hickory_resolver::system_conf::parse_resolv_conf(text),
            None => hickory_resolver::system_conf::read_system_conf(),
        }
        .context("hickory could not read resolv.conf")?;
        for ns in &mut config.name_servers {
            for conn in &mut ns.connections {
                conn.port = port;
            }
        }
        opts.cache_size = 0;
        // A and AAAA concurrently, A first: the "parallel" mode; sequential mode asks per type.
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let summary = HickoryConfig {
            version: "0.26".into(),
            search: config.search.iter().map(|n| n.to_ascii()).collect(),
            nameservers: config
                .name_servers
                .iter()
                .map(|ns| ns.ip.to_string())
                .collect(),
            ndots: opts.ndots,
            timeout_ms: opts.timeout.as_millis() as u64,
            attempts: opts.attempts,
            edns0: opts.edns0,
            ip_strategy: format!("{:?}", opts.ip_strategy),
            cache_size: opts.cache_size,
        };
        let resolver = runtime.block_on(async {
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
                .with_options(opts)
                .build()
        })?;
        Ok(HickoryProbe {
            runtime,
            resolver,
            config: summary,
        })
    }

    /// A and AAAA concurrently (LookupIpStrategy::Ipv4AndIpv6).
    pub fn lookup_parallel(&self, name: &str) -> Result<u32, String> {
        self.runtime
            .block_on(self.resolver.lookup_ip(name))
            .map(|l| l.iter().count() as u32)
            .map_err(|e| error_kind(&e))
    }

    /// One A lookup (the benchmarks compare it with a bare UDP exchange).
    pub fn lookup_a(&self, name: &str) -> Result<u32, String> {
        self.runtime
            .block_on(self.resolver.ipv4_lookup(name))
            .map(|l| l.answers().len() as u32)
            .map_err(|e| error_kind(&e))
    }

    /// The A lookup, then the AAAA lookup. Ok if either found an address.
    pub fn lookup_sequential(&self, name: &str) -> Result<u32, String> {
        self.runtime.block_on(async {
            let a = self.resolver.ipv4_lookup(name).await;
            let aaaa = self.resolver.ipv6_lookup(name).await;
            let count = a.as_ref().map_or(0, |l| l.answers().len())
                + aaaa.as_ref().map_or(0, |l| l.answers().len());
            match (a, aaaa) {
                (Err(e), Err(_)) => Err(error_kind(&e)),
                _ => Ok(count as u32),
            }
        })
    }
}

/// A short, stable name for what went wrong, for the outcome counts.
pub fn error_kind(e: &NetError) -> String {
    match e {
        NetError::Timeout => "timeout".into(),
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if nr.response_code == ResponseCode::NXDomain =>
        {
            "NXDOMAIN".into()
        }
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            format!("no-records({})", rcode_name(nr.response_code))
        }
        NetError::Dns(DnsError::ResponseCode(rc)) => rcode_name(*rc),
        NetError::Io(_) => "io".into(),
        NetError::Proto(_) => "protocol".into(),
        NetError::NoConnections => "no-connections".into(),
        _ => "other".into(),
    }
}
