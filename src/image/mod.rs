//! Base images: the catalog, where each comes from (registry, or an offline equivalent built
//! from Debian packages), and the probe image that adds the matching resolvbench build.

pub mod mirror;
pub mod offline;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::result::ImageInfo;
use crate::runtime::docker::Engine;

/// Label on offline equivalents naming the image they stand in for.
pub const EQUIVALENT_LABEL: &str = "resolvbench.equivalent-of";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibcKind {
    Glibc,
}

/// How to build an equivalent when the registry cannot be reached.
#[derive(Clone, Copy, Debug)]
pub enum Recipe {
    DebianSlim { suite: &'static str },
}

#[derive(Clone, Copy, Debug)]
pub struct ImageSpec {
    pub reference: &'static str,
    pub libc: LibcKind,
    pub recipe: Recipe,
    pub note: &'static str,
}

pub const CATALOG: &[ImageSpec] = &[ImageSpec {
    reference: "debian:trixie-slim",
    libc: LibcKind::Glibc,
    recipe: Recipe::DebianSlim { suite: "trixie" },
    note: "debootstrap --variant=minbase trixie, trimmed like the official slim image",
}];

pub fn lookup(reference: &str) -> Result<&'static ImageSpec> {
    CATALOG
        .iter()
        .find(|s| s.reference == reference)
        .with_context(|| {
            let known: Vec<&str> = CATALOG.iter().map(|s| s.reference).collect();
            format!("unknown image {reference:?} (known: {})", known.join(", "))
        })
}

impl ImageSpec {
    /// The local tag of the offline equivalent, e.g. resolvbench-equiv/debian:trixie-slim.
    pub fn equivalent_tag(&self) -> String {
        format!("resolvbench-equiv/{}", self.reference)
    }
}

/// Makes the base image available: the real one if present or pullable, else the equivalent
/// (built once and kept in the engine's image store).
pub fn ensure_base(engine: &Engine, spec: &ImageSpec, say: &dyn Fn(&str)) -> Result<ImageInfo> {
    if engine.image_exists(spec.reference) || engine.pull(spec.reference).is_ok() {
        return Ok(ImageInfo {
            reference: spec.reference.into(),
            source: "registry".into(),
            local_tag: spec.reference.into(),
            note: String::new(),
        });
    }
    let tag = spec.equivalent_tag();
    let info = ImageInfo {
        reference: spec.reference.into(),
        source: "offline-equivalent".into(),
        local_tag: tag.clone(),
        note: spec.note.into(),
    };
    if engine.image_exists(&tag) {
        return Ok(info);
    }
    let _lock = offline::lock("base-images")?;
    if engine.image_exists(&tag) {
        return Ok(info); // another process built it while we waited
    }
    say(&format!(
        "building {tag} (offline equivalent of {}; once)",
        spec.reference
    ));
    let labels = vec![(EQUIVALENT_LABEL.to_string(), spec.reference.to_string())];
    match spec.recipe {
        Recipe::DebianSlim { suite } => offline::build_debian_slim(engine, suite, &tag, &labels)?,
    }
    Ok(info)
}

/// The probe image: containers/probe.Dockerfile FROM the base with `binary` copied in.
/// Tagged by the binary's content hash, so a rebuilt binary gets a new image.
pub fn ensure_probe_image(engine: &Engine, base: &ImageInfo, binary: &Path) -> Result<String> {
    let bytes = std::fs::read(binary)
        .with_context(|| format!("cannot read probe binary {}", binary.display()))?;
    let hash = fnv1a(&bytes);
    let base_tag = base.local_tag.replace(['/', ':'], "-");
    let tag = format!("resolvbench-probe/{base_tag}:{hash:016x}");
    if engine.image_exists(&tag) {
        return Ok(tag);
    }
    let _lock = offline::lock("probe-images")?;
    if engine.image_exists(&tag) {
        return Ok(tag);
    }
    let ctx = offline::work_dir().join(format!("probe-ctx-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ctx);
    std::fs::create_dir_all(&ctx)?;
    let result = (|| {
        std::fs::write(ctx.join("resolvbench"), &bytes)?;
        set_mode(&ctx.join("resolvbench"), 0o755)?;
        let dockerfile = ctx.join("probe.Dockerfile");
        std::fs::write(
            &dockerfile,
            include_str!("../../containers/probe.Dockerfile"),
        )?;
        engine.build(
            &ctx,
            &dockerfile,
            &tag,
            &[("BASE", &base.local_tag), ("PROBE", "resolvbench")],
        )
    })();
    let _ = std::fs::remove_dir_all(&ctx);
    result.map(|_| tag)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// FNV-1a: a stable content hash for cache tags (not security relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// Rejects a reference that is not in the catalog before anything is built.
pub fn validate(references: &[String]) -> Result<Vec<&'static ImageSpec>> {
    if references.is_empty() {
        bail!("no image given");
    }
    references.iter().map(|r| lookup(r)).collect()
}
