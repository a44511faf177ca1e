//! The probe binary for each libc: this very binary for glibc images; for musl images, builds
//! made by containers/build-probe.sh from the source tree, cached by a hash of the sources.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::offline::{lock, work_dir};
use crate::runtime::process::run_with_deadline;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    GlibcDynamic,
    MuslDynamic,
    MuslStatic,
}

impl Flavour {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::GlibcDynamic => "glibc-dynamic",
            Flavour::MuslDynamic => "musl-dynamic",
            Flavour::MuslStatic => "musl-static",
        }
    }
}

/// Path to a probe binary of `flavour`, building it on first use.
pub fn binary(flavour: Flavour, say: &dyn Fn(&str)) -> Result<PathBuf> {
    if flavour == Flavour::GlibcDynamic {
        return std::env::current_exe().context("cannot find the resolvbench binary");
    }
    let source = source_dir();
    let script = source.join("containers/build-probe.sh");
    if !script.exists() {
        bail!(
            "musl probes are built from the source tree, and {} is not there (set RESOLVBENCH_SOURCE_DIR)",
            script.display()
        );
    }
    let out = work_dir().join("probes").join(format!(
        "resolvbench-{}-{:016x}",
        flavour.as_str(),
        source_hash(&source)?
    ));
    if out.exists() {
        return Ok(out);
    }
    let _lock = lock("probe-build")?;
    if out.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(out.parent().expect("has a parent"))?;
    say(&format!(
        "building the {} probe (first use of these sources: minutes)",
        flavour.as_str()
    ));
    let t = std::time::Instant::now();
    let f = run_with_deadline(
        Command::new("bash")
            .arg(&script)
            .arg(flavour.as_str())
            .arg(&out)
            .current_dir(&source),
        Duration::from_secs(3600),
    )?;
    if !f.status.success() || !out.exists() {
        bail!(
            "building the {} probe failed: {}",
            flavour.as_str(),
            f.last_error_line()
        );
    }
    say(&format!(
        "built the {} probe in {:.0} s",
        flavour.as_str(),
        t.elapsed().as_secs_f64()
    ));
    Ok(out)
}

fn source_dir() -> PathBuf {
    std::env::var_os("RESOLVBENCH_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A hash over what the probe is built from: manifest, lock file, build script and src/.
fn source_hash(source: &Path) -> Result<u64> {
    let mut files = vec![
        source.join("Cargo.toml"),
        source.join("Cargo.lock"),
        source.join("containers/build-probe.sh"),
    ];
    collect_rs(&source.join("src"), &mut files)?;
    files.sort();
    let mut bytes = Vec::new();
    for f in files {
        bytes.extend(
            f.strip_prefix(source)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
        );
        bytes.extend(std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    Ok(fnv1a(&bytes))
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect_rs(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    Ok(())
}

/// FNV-1a: a stable content hash for cache names and tags (not security relevant).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}
