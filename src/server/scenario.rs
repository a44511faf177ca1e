//! What the test server answers, and how slowly: a scenario is a list of rules matched by
//! name suffix (longest match wins), plus a default for names no rule covers.
//!
//! File format (TOML), documented in the README:
//!
//! ```toml
//! name = "k8s"
//! [default]                 # names under no rule: what a recursive server says of an unknown TLD
//! respond = "nxdomain"
//! delay_ms = 2.0
//! [[rule]]
//! suffix = "example.test"   # matches example.test and every name below it
//! respond = "address"       # address | nxdomain | nodata | servfail | refused
//! delay_ms = 2.0            # injected before the answer is sent
//! jitter_ms = 0.0           # uniform +- jitter added to the delay
//! loss = 0.0                # probability that a query gets no answer at all
//! nodata = ["AAAA"]         # types answered NOERROR with no records
//! truncate_udp = false      # always answer TC over UDP (the client must retry over TCP)
//! addresses = 1             # how many A / AAAA records an answer carries (large answers)
//! a = ["192.0.2.10"]
//! aaaa = ["2001:db8::10"]
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// The name lookups resolve unless `--name` says otherwise (`{id}`: the lookup id).
    #[serde(default)]
    pub lookup: Option<String>,
    #[serde(default = "Rule::root_default")]
    pub default: Rule,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// The nameservers, in resolv.conf order; one normal server when absent.
    #[serde(default, rename = "nameserver")]
    pub nameservers: Vec<Nameserver>,
}

/// One server instance (its own container and address) and how it misbehaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nameserver {
    pub name: String,
    /// Answers nothing at all (every query is logged, dropped as "dead").
    #[serde(default)]
    pub dead: bool,
    /// Added to every delay of the rules.
    #[serde(default)]
    pub extra_delay_ms: f64,
}

impl Nameserver {
    pub fn normal(name: &str) -> Nameserver {
        Nameserver {
            name: name.into(),
            dead: false,
            extra_delay_ms: 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Respond {
    /// A and AAAA records for every name under the suffix; NODATA for other types.
    Address,
    Nxdomain,
    Nodata,
    Servfail,
    Refused,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Zone this rule covers; "." for the default rule. Also the owner of the SOA sent with
    /// NXDOMAIN and NODATA answers.
    #[serde(default = "root")]
    pub suffix: String,
    /// Match only the suffix itself, not names below it (a single service name).
    #[serde(default)]
    pub exact: bool,
    pub respond: Respond,
    #[serde(default)]
    pub delay_ms: f64,
    #[serde(default)]
    pub jitter_ms: f64,
    #[serde(default)]
    pub loss: f64,
    #[serde(default)]
    pub nodata: Vec<String>,
    #[serde(default)]
    pub truncate_udp: bool,
    #[serde(default = "one")]
    pub addresses: u16,
    #[serde(default = "default_a")]
    pub a: Vec<Ipv4Addr>,
    #[serde(default = "default_aaaa")]
    pub aaaa: Vec<Ipv6Addr>,
}

fn root() -> String {
    ".".into()
}
fn one() -> u16 {
    1
}
fn default_a() -> Vec<Ipv4Addr> {
    vec![Ipv4Addr::new(192, 0, 2, 10)]
}
fn default_aaaa() -> Vec<Ipv6Addr> {
    vec!["2001:db8::10".parse().expect("valid literal")]
}

impl Rule {
    fn root_default() -> Rule {
        Rule::new(".", Respond::Nxdomain, 2.0)
    }

    pub fn new(suffix: &str, respond: Respond, delay_ms: f64) -> Rule {
        Rule {
            suffix: suffix.into(),
            exact: false,
            respond,
            delay_ms,
            jitter_ms: 0.0,
            loss: 0.0,
            nodata: Vec::new(),
            truncate_udp: false,
            addresses: 1,
            a: default_a(),
            aaaa: default_aaaa(),
        }
    }

    /// Does this rule cover `name` (lowercase, no trailing dot)? Returns the match length.
    fn match_len(&self, name: &str) -> Option<usize> {
        let suffix = self.suffix.trim_end_matches('.');
        if suffix.is_empty() {
            return Some(0);
        }
        let below = !self.exact
            && name.len() > suffix.len()
            && name.ends_with(suffix)
            && name.as_bytes()[name.len() - suffix.len() - 1] == b'.';
        (name == suffix || below).then_some(suffix.len())
    }

    pub fn is_nodata_type(&self, qtype: &str) -> bool {
        self.nodata.iter().any(|t| t.eq_ignore_ascii_case(qtype))
    }

    fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.loss) {
            bail!("rule {:?}: loss must be between 0 and 1", self.suffix);
        }
        if self.delay_ms < 0.0 || self.jitter_ms < 0.0 || self.jitter_ms > self.delay_ms {
            bail!(
                "rule {:?}: delay_ms and jitter_ms must be >= 0 and jitter_ms <= delay_ms",
                self.suffix
            );
        }
        if self.respond == Respond::Address && (self.a.is_empty() || self.aaaa.is_empty()) {
            bail!(
                "rule {:?}: an address rule needs at least one a and one aaaa",
                self.suffix
            );
        }
        for t in &self.nodata {
            if !matches!(t.to_ascii_uppercase().as_str(), "A" | "AAAA") {
                bail!("rule {:?}: nodata takes A or AAAA, not {t:?}", self.suffix);
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// The rule that decides the answer for `name` (any case, trailing dot or not).
    pub fn rule_for(&self, name: &str) -> &Rule {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.rules
            .iter()
            .filter_map(|r| r.match_len(&name).map(|len| (len, r)))
            .max_by_key(|(len, _)| *len)
            .map(|(_, r)| r)
            .unwrap_or(&self.default)
    }

    pub fn parse_toml(text: &str, origin: &str) -> Result<Scenario> {
        // One line, FILE:LINE:COLUMN: message (toml's own Display is a multi-line snippet).
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
            anyhow::anyhow!("{origin}:{line}:{column}: {}", e.message().trim())
        })?;
        scenario.validate().with_context(|| origin.to_string())?;
        Ok(scenario)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a scenario always serializes")
    }

    pub fn validate(&self) -> Result<()> {
        self.default.validate()?;
        self.rules.iter().try_for_each(Rule::validate)
    }

    /// A built-in scenario by name.
    /// The server instances to start, in resolv.conf order.
    pub fn servers(&self) -> Vec<Nameserver> {
        if self.nameservers.is_empty() {
            vec![Nameserver::normal("ns1")]
        } else {
            self.nameservers.clone()
        }
    }

    pub fn nameserver(&self, name: &str) -> Nameserver {
        self.servers()
            .into_iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| Nameserver::normal(name))
    }

    pub const PRESETS: &[&str] = &[
        "k8s",
        "jitter",
        "loss",
        "servfail-search",
        "refused-search",
        "nodata-aaaa",
        "truncated",
        "large",
        "ns-dead-first",
        "ns-slow-first",
        "ns3-dead-first",
        "nxdomain-long",
        "in-cluster",
    ];

    /// A built-in scenario by name: the k8s cluster with one thing changed.
    pub fn preset(name: &str) -> Result<Scenario> {
        let mut s = Self::k8s();
        s.name = name.into();
        let upstream = s.rules.len() - 1; // the example.test rule
        let search_domain = |respond| {
            // Only the second candidate, <name>.svc.cluster.local: default.svc.cluster.local stays NXDOMAIN.
            vec![
                Rule::new("default.svc.cluster.local", Respond::Nxdomain, 0.2),
                Rule::new("svc.cluster.local", respond, 0.2),
            ]
        };
        let ns = |specs: &[(&str, bool, f64)]| {
            specs
                .iter()
                .map(|(name, dead, extra)| Nameserver {
                    name: name.to_string(),
                    dead: *dead,
                    extra_delay_ms: *extra,
                })
                .collect()
        };
        match name {
            "k8s" => {}
            "jitter" => {
                for r in &mut s.rules {
                    r.delay_ms = if r.respond == Respond::Address && !r.exact {
                        5.0
                    } else {
                        1.0
                    };
                    r.jitter_ms = r.delay_ms / 2.0;
                }
            }
            "loss" => s.rules[upstream].loss = 0.2,
            "servfail-search" => s.rules.extend(search_domain(Respond::Servfail)),
            "refused-search" => s.rules.extend(search_domain(Respond::Refused)),
            "nodata-aaaa" => s.rules[upstream].nodata = vec!["AAAA".into()],
            "truncated" => s.rules[upstream].truncate_udp = true,
            // 40 records: A 40 x 16 and AAAA 40 x 28 bytes, both over 512.
            "large" => s.rules[upstream].addresses = 40,
            "ns-dead-first" => s.nameservers = ns(&[("ns1", true, 0.0), ("ns2", false, 0.0)]),
            "ns-slow-first" => s.nameservers = ns(&[("ns1", false, 50.0), ("ns2", false, 0.0)]),
            "ns3-dead-first" => {
                s.nameservers = ns(&[("ns1", true, 0.0), ("ns2", false, 0.0), ("ns3", false, 0.0)])
            }
            // At least ndots (5) dots, and nowhere: asked as is first, then every search domain.
            "nxdomain-long" => s.lookup = Some("{id}.a.b.c.nowhere.test".into()),
            // A single label that exists only under the first search domain: a service in the namespace.
            "in-cluster" => {
                s.rules.push(Rule::new(
                    "default.svc.cluster.local",
                    Respond::Address,
                    0.2,
                ));
                s.lookup = Some("{id}".into());
            }
            other => bail!(
                "unknown scenario preset {other:?} (known: {})",
                Self::PRESETS.join(", ")
            ),
        }
        Ok(s)
    }

    /// A Kubernetes cluster DNS (CoreDNS) in front of an upstream: the cluster zone answers
    /// fast and NXDOMAIN except for its services; external names cost an upstream round trip.
    pub fn k8s() -> Scenario {
        let cluster = Rule::new("cluster.local", Respond::Nxdomain, 0.2);
        let mut service = Rule::new(
            "kubernetes.default.svc.cluster.local",
            Respond::Address,
            0.2,
        );
        service.exact = true;
        service.a = vec![Ipv4Addr::new(10, 96, 0, 1)];
        service.aaaa = vec!["fd00:10:96::1".parse().expect("valid literal")];
        Scenario {
            name: "k8s".into(),
            lookup: None,
            nameservers: Vec::new(),
            default: Rule::new(".", Respond::Nxdomain, 2.0),
            rules: vec![
                cluster,
                service,
                Rule::new("example.test", Respond::Address, 2.0),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_suffix_wins_and_exact_rules_do_not_cover_children() {
        let s = Scenario::k8s();
        assert_eq!(s.rule_for("lk-1.example.test.").suffix, "example.test");
        assert_eq!(s.rule_for("EXAMPLE.test").suffix, "example.test");
        assert_eq!(s.rule_for("x.svc.cluster.local").suffix, "cluster.local");
        let svc = s.rule_for("kubernetes.default.svc.cluster.local");
        assert_eq!(svc.respond, Respond::Address);
        assert_eq!(
            s.rule_for("a.kubernetes.default.svc.cluster.local").suffix,
            "cluster.local"
        );
        assert_eq!(s.rule_for("notexample.test").suffix, ".");
        assert_eq!(
            s.rule_for("lk-1.example.test.default.svc.cluster.local")
                .suffix,
            "cluster.local"
        );
    }

    #[test]
    fn toml_round_trip_and_errors_name_line_and_column() {
        let s = Scenario::k8s();
        assert_eq!(Scenario::parse_toml(&s.to_toml(), "k8s").unwrap(), s);
        let err =
            Scenario::parse_toml("name = \"x\"\n[[rule]]\nsuffix = 3\n", "bad.toml").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.starts_with("bad.toml:3:10: "), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
        let err = Scenario::parse_toml(
            "name = \"x\"\n[[rule]]\nsuffix = \"a\"\nrespond = \"address\"\nloss = 2.0\n",
            "f",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("loss"));
    }
}

#[cfg(test)]
mod preset_tests {
    use super::*;

    #[test]
    fn every_preset_builds_validates_and_round_trips() {
        for name in Scenario::PRESETS {
            let s = Scenario::preset(name).unwrap();
            s.validate().unwrap();
            assert_eq!(
                Scenario::parse_toml(&s.to_toml(), name).unwrap(),
                s,
                "{name}"
            );
        }
        let s = Scenario::preset("servfail-search").unwrap();
        assert_eq!(
            s.rule_for("x.example.test.svc.cluster.local").respond,
            Respond::Servfail
        );
        assert_eq!(
            s.rule_for("x.example.test.default.svc.cluster.local")
                .respond,
            Respond::Nxdomain
        );
        assert_eq!(
            s.rule_for("x.example.test.cluster.local").respond,
            Respond::Nxdomain
        );
        assert!(
            Scenario::preset("ns-dead-first")
                .unwrap()
                .nameserver("ns1")
                .dead
        );
    }
}
