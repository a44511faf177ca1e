//! resolv.conf profiles: the search list and options a probe container gets. The nameserver
//! line is filled in with the test server's address at run time.

use std::net::IpAddr;

use anyhow::{Result, bail};

#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub name: String,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl Profile {
    pub fn preset(name: &str) -> Result<Profile> {
        match name {
            // A pod in namespace "default": kubelet writes exactly this (plus the cluster DNS IP).
            "k8s" => Ok(Profile {
                name: "k8s".into(),
                search: vec![
                    "default.svc.cluster.local".into(),
                    "svc.cluster.local".into(),
                    "cluster.local".into(),
                ],
                options: vec!["ndots:5".into()],
            }),
            other => bail!("unknown profile {other:?} (known: k8s)"),
        }
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
}
