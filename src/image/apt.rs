//! A private apt: downloads Debian packages of any suite (trixie on a bookworm host) without
//! touching the host's apt state, and unpacks them into a rootfs without running maintainer
//! scripts (as distroless's Bazel rules do).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::mirror::{debian_mirror, debian_security_mirror};
use crate::runtime::process::run_with_deadline;

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

pub struct PrivateApt {
    dir: PathBuf,
    config: PathBuf,
}

impl PrivateApt {
    /// Sets up (or reuses) apt state for `suite` under `dir` and updates its lists.
    pub fn new(dir: &Path, suite: &str) -> Result<PrivateApt> {
        for sub in [
            "etc/apt.conf.d",
            "etc/preferences.d",
            "state/lists/partial",
            "cache/archives/partial",
            "debs",
        ] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let mirror = debian_mirror()?;
        let mut sources = format!(
            "deb [signed-by={KEYRING}] {mirror} {suite} main\ndeb [signed-by={KEYRING}] {mirror} {suite}-updates main\n"
        );
        if let Some(security) = debian_security_mirror() {
            sources.push_str(&format!(
                "deb [signed-by={KEYRING}] {security} {suite}-security main\n"
            ));
        }
        std::fs::write(dir.join("etc/sources.list"), sources)?;
        let status = dir.join("state/status");
        if !status.exists() {
            std::fs::write(&status, "")?;
        }
        let d = dir.display();
        let config = dir.join("apt.conf");
        std::fs::write(
            &config,
            format!(
                "Dir::Etc \"{d}/etc\";\nDir::Etc::sourcelist \"{d}/etc/sources.list\";\nDir::Etc::sourceparts \"-\";\n\
                 Dir::Etc::parts \"{d}/etc/apt.conf.d\";\nDir::Etc::preferencesparts \"{d}/etc/preferences.d\";\n\
                 Dir::State \"{d}/state\";\nDir::State::status \"{d}/state/status\";\nDir::Cache \"{d}/cache\";\n\
                 APT::Architecture \"amd64\";\nAPT::Sandbox::User \"root\";\n"
            ),
        )?;
        let apt = PrivateApt {
            dir: dir.to_path_buf(),
            config,
        };
        apt.apt(&["update", "-qq"], &apt.dir)?;
        Ok(apt)
    }

    fn apt(&self, args: &[&str], cwd: &Path) -> Result<()> {
        let f = run_with_deadline(
            Command::new("apt-get")
                .args(args)
                .env("APT_CONFIG", &self.config)
                .current_dir(cwd),
            Duration::from_secs(600),
        )?;
        if !f.status.success() {
            bail!("apt-get {} failed: {}", args.join(" "), f.last_error_line());
        }
        Ok(())
    }

    /// Downloads the packages (exactly these, no dependency resolution) and returns the .debs.
    pub fn download(&self, packages: &[&str]) -> Result<Vec<PathBuf>> {
        let debs = self.dir.join("debs");
        let mut args = vec!["download", "-qq"];
        args.extend(packages);
        self.apt(&args, &debs)?;
        packages
            .iter()
            .map(|p| {
                std::fs::read_dir(&debs)?
                    .flatten()
                    .map(|e| e.path())
                    .find(|f| {
                        f.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{p}_")))
                    })
                    .with_context(|| format!("package {p} was not downloaded"))
            })
            .collect()
    }

    /// The version string of a downloaded package, from its file name (name_version_arch.deb).
    pub fn version_of(deb: &Path) -> String {
        let name = deb
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        name.split('_')
            .nth(1)
            .unwrap_or("unknown")
            .replace("%3a", ":")
    }
}

/// Unpacks a .deb's files into `root` (dpkg-deb -x: no maintainer scripts).
pub fn unpack(deb: &Path, root: &Path) -> Result<()> {
    let f = run_with_deadline(
        Command::new("dpkg-deb").arg("-x").arg(deb).arg(root),
        Duration::from_secs(300),
    )?;
    if !f.status.success() {
        bail!(
            "dpkg-deb -x {} failed: {}",
            deb.display(),
            f.last_error_line()
        );
    }
    Ok(())
}
