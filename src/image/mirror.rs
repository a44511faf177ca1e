//! Which Debian mirror to build offline images from: the one the host's apt already uses
//! (so resolvbench reaches exactly what this machine is allowed to reach), or
//! RESOLVBENCH_DEBIAN_MIRROR.

use anyhow::{Result, bail};

pub fn debian_mirror() -> Result<String> {
    if let Ok(m) = std::env::var("RESOLVBENCH_DEBIAN_MIRROR") {
        return Ok(m);
    }
    host_sources().iter().find_map(|t| mirror_in(t, "/debian")).map_or_else(
        || bail!("no Debian mirror found in the host's apt sources; set RESOLVBENCH_DEBIAN_MIRROR"),
        Ok,
    )
}

/// The security archive, if the host's apt uses one (or RESOLVBENCH_DEBIAN_SECURITY_MIRROR).
pub fn debian_security_mirror() -> Option<String> {
    std::env::var("RESOLVBENCH_DEBIAN_SECURITY_MIRROR")
        .ok()
        .or_else(|| {
            host_sources()
                .iter()
                .find_map(|t| mirror_in(t, "/debian-security"))
        })
}

fn host_sources() -> Vec<String> {
    let mut texts = Vec::new();
    for dir in ["/etc/apt/sources.list.d"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                let name = p.to_string_lossy().to_string();
                if name.ends_with(".sources") || name.ends_with(".list") {
                    texts.push(std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
    }
    texts.push(std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    texts
}

/// The first URI whose path ends in `tail` ("/debian" or "/debian-security"), in deb822 or
/// one-line sources.
fn mirror_in(text: &str, tail: &str) -> Option<String> {
    let uris = text.lines().flat_map(|l| {
        let l = l.trim();
        if let Some(rest) = l.strip_prefix("URIs:") {
            rest.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        } else if l.starts_with("deb ") {
            l.split_whitespace()
                .skip(1)
                .find(|w| !w.starts_with('['))
                .map(str::to_string)
                .into_iter()
                .collect()
        } else {
            Vec::new()
        }
    });
    uris.into_iter()
        .find(|u| u.trim_end_matches('/').ends_with(tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_main_archive_in_both_formats() {
        let deb822 = "Types: deb\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.invalid/debian-security\n";
        assert_eq!(
            mirror_in(deb822, "/debian").as_deref(),
            Some("http://mirror.invalid/debian")
        );
        assert_eq!(
            mirror_in(deb822, "/debian-security").as_deref(),
            Some("http://mirror.invalid/debian-security")
        );
        let one_line = "deb [arch=amd64] http://m.invalid/debian/ bookworm main\n";
        assert_eq!(
            mirror_in(one_line, "/debian").as_deref(),
            Some("http://m.invalid/debian/")
        );
        assert_eq!(
            mirror_in("deb https://other.invalid/apt stable main", "/debian"),
            None
        );
    }
}
