//! Offline equivalents of registry images, built from Debian packages when no registry is
//! reachable. Facts behind the recipes: shared/notes/offline-images.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::apt::PrivateApt;
use super::mirror::debian_mirror;
use super::{EQUIVALENT_LABEL, LIBC_LABEL, Recipe, recipes};
use crate::runtime::docker::Engine;
use crate::runtime::process::run_with_deadline;

/// Scratch space for rootfs trees and tarballs (never inside the repository).
pub fn work_dir() -> PathBuf {
    std::env::var_os("RESOLVBENCH_WORK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/resolvbench"))
}

/// An exclusive lock across processes (parallel tests, two runs) for one build step.
pub struct BuildLock {
    _file: std::fs::File,
}

pub fn lock(name: &str) -> Result<BuildLock> {
    let dir = work_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = std::fs::File::create(dir.join(format!("{name}.lock")))?;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) } != 0 {
        bail!("cannot lock {name}: {}", std::io::Error::last_os_error());
    }
    Ok(BuildLock { _file: file })
}

/// Builds the offline equivalent of `reference` with `recipe` and imports it as `tag`.
pub fn build(engine: &Engine, recipe: Recipe, tag: &str, reference: &str) -> Result<()> {
    let scratch = work_dir().join(format!("build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let (root, staging) = (scratch.join("rootfs"), scratch.join("staging"));
    std::fs::create_dir_all(&root)?;
    std::fs::create_dir_all(&staging)?;
    let apt = |suite: &str| PrivateApt::new(&work_dir().join(format!("apt-{suite}")), suite);
    let result = (|| {
        let libc = match recipe {
            Recipe::DebianSlim { suite } => {
                return build_debian_slim(engine, suite, tag, reference);
            }
            Recipe::AlpineLike { musl_suite } => {
                format!(
                    "musl {}",
                    recipes::alpine_like(&apt(musl_suite)?, &root, &staging)?
                )
            }
            Recipe::DistrolessStatic => {
                recipes::distroless_static(&apt("trixie")?, &root, &staging)?;
                "none".to_string()
            }
            Recipe::DistrolessCc => format!(
                "glibc {}",
                recipes::distroless_cc(&apt("trixie")?, &root, &staging)?
            ),
        };
        import_tree(engine, &root, tag, &labels(reference, &libc))
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn labels(reference: &str, libc: &str) -> Vec<(String, String)> {
    vec![
        (EQUIVALENT_LABEL.to_string(), reference.to_string()),
        (LIBC_LABEL.to_string(), libc.to_string()),
    ]
}

/// debian:SUITE-slim: debootstrap minbase, trimmed as the official slim images are.
fn build_debian_slim(engine: &Engine, suite: &str, tag: &str, reference: &str) -> Result<()> {
    let dir = work_dir().join(format!("rootfs-{suite}-{}", std::process::id()));
    let result = (|| {
        let _ = std::fs::remove_dir_all(&dir);
        let mirror = debian_mirror()?;
        let f = run_with_deadline(
            Command::new("debootstrap")
                .args(["--variant=minbase", suite])
                .arg(&dir)
                .arg(&mirror),
            Duration::from_secs(1200),
        )
        .context("debootstrap (install it: apt-get install debootstrap)")?;
        if !f.status.success() {
            bail!(
                "debootstrap {suite} from {mirror} failed: {}",
                f.last_error_line()
            );
        }
        let libc = format!("glibc {}", dpkg_version(&dir, "libc6").unwrap_or_default());
        trim_like_slim(&dir)?;
        import_tree(engine, &dir, tag, &labels(reference, &libc))
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A package's version from the rootfs's dpkg status file.
fn dpkg_version(root: &Path, package: &str) -> Option<String> {
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).ok()?;
    status
        .split("\n\n")
        .find(|stanza| stanza.lines().any(|l| l == format!("Package: {package}")))?
        .lines()
        .find_map(|l| l.strip_prefix("Version: ").map(str::to_string))
}

pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn trim_like_slim(root: &Path) -> Result<()> {
    for sub in [
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
        "usr/share/lintian",
        "debootstrap",
    ] {
        let _ = std::fs::remove_dir_all(root.join(sub));
    }
    for dir in ["var/cache/apt", "var/lib/apt/lists", "var/log"] {
        empty_dir(&root.join(dir))?;
    }
    let locale = root.join("usr/share/locale");
    if let Ok(entries) = std::fs::read_dir(&locale) {
        for e in entries.flatten() {
            if e.file_name() != "locale.alias" {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

fn empty_dir(dir: &Path) -> Result<()> {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        }
    }
    Ok(())
}

/// tar the tree (numeric owners) and `docker import` it.
pub fn import_tree(
    engine: &Engine,
    root: &Path,
    tag: &str,
    labels: &[(String, String)],
) -> Result<()> {
    let tarball = root.with_extension("tar");
    let f = run_with_deadline(
        Command::new("tar")
            .args(["--numeric-owner", "-C"])
            .arg(root)
            .arg("-cf")
            .arg(&tarball)
            .arg("."),
        Duration::from_secs(600),
    )?;
    if !f.status.success() {
        bail!("tar of {} failed: {}", root.display(), f.last_error_line());
    }
    let imported = engine.import(&tarball, tag, labels);
    let _ = std::fs::remove_file(&tarball);
    imported
}
