//! resolv.conf profiles: the search list and options a probe container gets. The nameserver
//! lines are the test servers' addresses, filled in at run time.
//!
//! `--profile` takes a preset (k8s, gke, eks, docker, ndots1, fqdn, single-request,
//! single-request-reopen, use-vc), optionally with extra options after commas
//! (`k8s,timeout:1,attempts:2`), or a resolv.conf file of one's own.

use std::net::IpAddr;

use anyhow::{Result, bail};

#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub search: Vec<String>,
    pub options: Vec<String>,
    /// Look names up fully qualified (with a trailing dot): no search list applies.
    pub fqdn: bool,
}

const K8S_SEARCH: [&str; 3] = [
    "default.svc.cluster.local",
    "svc.cluster.local",
    "cluster.local",
];

/// Options a resolv.conf may carry (glibc's resolv/res_init.c list; musl and hickory read fewer).
const KNOWN_OPTIONS: &[&str] = &[
    "ndots",
    "timeout",
    "attempts",
    "rotate",
    "single-request",
    "single-request-reopen",
    "use-vc",
    "edns0",
    "no-aaaa",
    "trust-ad",
    "inet6",
    "no-tld-query",
    "debug",
    "no-check-names",
    "no-reload",
    "ip6-bytestring",
    "ip6-dotint",
    "no-ip6-dotint",
];

impl Profile {
    /// A preset, a preset with extra options, or a resolv.conf file.
    pub fn load(spec: &str) -> Result<Profile> {
        if std::path::Path::new(spec).is_file() || spec.contains('/') {
            let text = std::fs::read_to_string(spec)
                .map_err(|e| anyhow::anyhow!("cannot read profile {spec}: {e}"))?;
            return Profile::parse(&text, spec);
        }
        let mut parts = spec.split(',');
        let mut profile = Profile::preset(parts.next().unwrap_or_default())?;
        for option in parts {
            check_option(option).map_err(|e| anyhow::anyhow!("profile {spec:?}: {e}"))?;
            profile
                .options
                .retain(|o| o.split(':').next() != option.split(':').next());
            profile.options.push(option.to_string());
        }
        profile.name = spec.to_string();
        Ok(profile)
    }

    pub fn preset(name: &str) -> Result<Profile> {
        let k8s = |extra: &[&str], options: &[&str]| Profile {
            name: name.to_string(),
            search: K8S_SEARCH
                .iter()
                .chain(extra)
                .map(|s| s.to_string())
                .collect(),
            options: options.iter().map(|s| s.to_string()).collect(),
            fqdn: false,
        };
        Ok(match name {
            // A pod in namespace "default": what kubelet writes (plus the cluster DNS address).
            "k8s" => k8s(&[], &["ndots:5"]),
            // GKE adds the project's and Google's internal domains.
            "gke" => k8s(
                &["c.example-project.internal", "google.internal"],
                &["ndots:5"],
            ),
            // EKS adds the region's EC2 domain.
            "eks" => k8s(&["us-east-2.compute.internal"], &["ndots:5"]),
            // Docker's default bridge: no search list, ndots 1.
            "docker" => Profile {
                name: name.into(),
                search: Vec::new(),
                options: vec!["ndots:1".into()],
                fqdn: false,
            },
            "ndots1" => k8s(&[], &["ndots:1"]),
            "fqdn" => Profile {
                fqdn: true,
                ..k8s(&[], &["ndots:5"])
            },
            "single-request" | "single-request-reopen" | "use-vc" => k8s(&[], &["ndots:5", name]),
            other => bail!(
                "unknown profile {other:?} (presets: k8s, gke, eks, docker, ndots1, fqdn, single-request, \
                 single-request-reopen, use-vc; or a resolv.conf file)"
            ),
        })
    }

    /// Parses a resolv.conf; errors name the line and column. `nameserver` lines are ignored
    /// (the probes always ask the test servers).
    pub fn parse(text: &str, origin: &str) -> Result<Profile> {
        let mut profile = Profile {
            name: origin.to_string(),
            search: Vec::new(),
            options: Vec::new(),
            fqdn: false,
        };
        for (i, line) in text.lines().enumerate() {
            let content = line.split(['#', ';']).next().unwrap_or_default();
            let mut words = content.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let col = line.find(keyword).unwrap_or(0) + 1;
            let at = |c: usize| format!("{origin}:{}:{c}", i + 1);
            match keyword {
                "nameserver" | "sortlist" => {}
                "search" | "domain" => profile.search = words.map(str::to_string).collect(),
                "options" => {
                    for word in words {
                        let col = line.find(word).unwrap_or(0) + 1;
                        check_option(word).map_err(|e| anyhow::anyhow!("{}: {e}", at(col)))?;
                        profile.options.push(word.to_string());
                    }
                }
                other => bail!("{}: unknown resolv.conf directive {other:?}", at(col)),
            }
        }
        Ok(profile)
    }

    pub fn resolv_conf(&self, nameservers: &[IpAddr]) -> String {
        let mut s = String::new();
        for ns in nameservers {
            s.push_str(&format!("nameserver {ns}\n"));
        }
        if !self.search.is_empty() {
            s.push_str(&format!("search {}\n", self.search.join(" ")));
        }
        if !self.options.is_empty() {
            s.push_str(&format!("options {}\n", self.options.join(" ")));
        }
        s
    }
}

fn check_option(option: &str) -> Result<()> {
    let (key, value) = option
        .split_once(':')
        .map_or((option, None), |(k, v)| (k, Some(v)));
    if !KNOWN_OPTIONS.contains(&key) {
        bail!("unknown resolv.conf option {option:?}");
    }
    let numeric = matches!(key, "ndots" | "timeout" | "attempts");
    match (numeric, value) {
        (true, Some(v)) if v.parse::<u32>().is_ok() => Ok(()),
        (true, _) => bail!("option {key} needs a number, as in {key}:2"),
        (false, Some(_)) => bail!("option {key} takes no value"),
        (false, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8s_profile_renders_like_kubelet() {
        let p = Profile::preset("k8s").unwrap();
        assert_eq!(
            p.resolv_conf(&["10.0.0.10".parse().unwrap()]),
            "nameserver 10.0.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        );
        assert!(Profile::preset("nope").is_err());
    }

    #[test]
    fn presets_take_extra_options_and_replace_same_keys() {
        let p = Profile::load("k8s,timeout:1,attempts:1,single-request").unwrap();
        assert_eq!(
            p.options,
            ["ndots:5", "timeout:1", "attempts:1", "single-request"]
        );
        assert_eq!(
            Profile::load("ndots1,ndots:2").unwrap().options,
            ["ndots:2"]
        );
        assert!(Profile::load("k8s,tmeout:1").is_err());
        assert!(Profile::load("fqdn").unwrap().fqdn);
        assert_eq!(Profile::load("gke").unwrap().search.len(), 5);
    }

    #[test]
    fn a_users_resolv_conf_parses_and_errors_name_line_and_column() {
        let p = Profile::parse(
            "# comment\nnameserver 10.0.0.1\nsearch a.test b.test\noptions ndots:3 edns0\n",
            "f",
        )
        .unwrap();
        assert_eq!(p.search, ["a.test", "b.test"]);
        assert_eq!(p.options, ["ndots:3", "edns0"]);
        let err = Profile::parse("search a\n  serch b\n", "my.conf")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "my.conf:2:3: unknown resolv.conf directive \"serch\"");
        let err = Profile::parse("options ndots:x\n", "my.conf")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "my.conf:1:9: option ndots needs a number, as in ndots:2"
        );
    }
}
