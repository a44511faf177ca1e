//! Base images: the catalog, where each comes from (the registry, or an offline equivalent
//! built from Debian packages), which libc it has, and the probe image that adds the matching
//! resolvbench build.

pub mod apt;
pub mod detect;
pub mod mirror;
pub mod offline;
pub mod probe_build;
pub mod recipes;

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::result::ImageInfo;
use crate::runtime::docker::Engine;

/// Label on offline equivalents naming the image they stand in for.
pub const EQUIVALENT_LABEL: &str = "resolvbench.equivalent-of";
/// Label on offline equivalents: the libc they carry and its package version.
pub const LIBC_LABEL: &str = "resolvbench.libc";

/// Which libc an image has, and so which probe build runs in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibcKind {
    Glibc,
    Musl,
    /// No dynamic loader at all (distroless static, scratch): a static musl probe.
    None,
}

impl LibcKind {
    pub fn probe_flavour(self) -> probe_build::Flavour {
        match self {
            LibcKind::Glibc => probe_build::Flavour::GlibcDynamic,
            LibcKind::Musl => probe_build::Flavour::MuslDynamic,
            LibcKind::None => probe_build::Flavour::MuslStatic,
        }
    }
}

/// How to build an equivalent when the registry cannot be reached.
#[derive(Clone, Copy, Debug)]
pub enum Recipe {
    DebianSlim { suite: &'static str },
    AlpineLike { musl_suite: &'static str },
    DistrolessStatic,
    DistrolessCc,
}

#[derive(Clone, Copy, Debug)]
pub struct CatalogEntry {
    pub reference: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    pub libc: LibcKind,
    pub recipe: Recipe,
    /// Local tag of the offline equivalent.
    pub equivalent_tag: &'static str,
    pub note: &'static str,
}

/// The default matrix, then the extra equivalents.
pub const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        reference: "alpine:3.21",
        aliases: &["alpine"],
        libc: LibcKind::Musl,
        recipe: Recipe::AlpineLike {
            musl_suite: "trixie",
        },
        equivalent_tag: "resolvbench-equiv/alpine:3.21",
        note: "musl 1.2.5 from Debian trixie laid out as Alpine, busybox shell; no apk, no Alpine patches",
    },
    CatalogEntry {
        reference: "debian:trixie-slim",
        aliases: &["debian"],
        libc: LibcKind::Glibc,
        recipe: Recipe::DebianSlim { suite: "trixie" },
        equivalent_tag: "resolvbench-equiv/debian:trixie-slim",
        note: "debootstrap --variant=minbase trixie, trimmed like the official slim image",
    },
    CatalogEntry {
        reference: "gcr.io/distroless/static-debian13:nonroot",
        aliases: &["distroless-static"],
        libc: LibcKind::None,
        recipe: Recipe::DistrolessStatic,
        equivalent_tag: "resolvbench-equiv/distroless-static-debian13:nonroot",
        note: "trixie base-files, netbase, tzdata, media-types, CA bundle; no libc, no shell",
    },
    CatalogEntry {
        reference: "gcr.io/distroless/cc-debian13:nonroot",
        aliases: &["distroless-cc"],
        libc: LibcKind::Glibc,
        recipe: Recipe::DistrolessCc,
        equivalent_tag: "resolvbench-equiv/distroless-cc-debian13:nonroot",
        note: "distroless static + trixie libc6, libgcc-s1, libssl3t64, libstdc++6, libgomp1, zlib, zstd",
    },
    CatalogEntry {
        reference: "alpine:3.17",
        aliases: &["alpine-musl-1.2.3"],
        libc: LibcKind::Musl,
        recipe: Recipe::AlpineLike {
            musl_suite: "bookworm",
        },
        equivalent_tag: "resolvbench-equiv/alpine-musl-1.2.3",
        note: "musl 1.2.3 from Debian bookworm laid out as Alpine (old musl: no TCP fallback)",
    },
];

/// The default matrix: the first four catalog entries.
pub fn default_images() -> Vec<String> {
    CATALOG[..4]
        .iter()
        .map(|e| e.reference.to_string())
        .collect()
}

pub fn catalog_entry(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG
        .iter()
        .find(|e| e.reference == name || e.aliases.contains(&name))
}

/// An image ready to have a probe put in it.
#[derive(Clone, Debug)]
pub struct ResolvedImage {
    pub info: ImageInfo,
    pub libc: LibcKind,
}

/// Makes an image available: a catalog image from the local store or the registry, else its
/// offline equivalent (built once, kept in the engine's image store); any other image from the
/// local store or the registry, with its libc detected from its loader.
pub fn resolve(engine: &Engine, name: &str, say: &dyn Fn(&str)) -> Result<ResolvedImage> {
    let entry = catalog_entry(name);
    let reference = entry.map_or(name, |e| e.reference);
    let is_equivalent = |tag: &str| engine.image_label(tag, EQUIVALENT_LABEL).is_some();
    let pull_error = if engine.has_image_named(reference) && !is_equivalent(reference) {
        None
    } else {
        engine.pull(reference).err()
    };
    if pull_error.is_none() {
        let libc = detect::libc_kind(engine, reference)?;
        return Ok(ResolvedImage {
            info: ImageInfo {
                reference: reference.into(),
                source: "registry".into(),
                local_tag: reference.into(),
                note: String::new(),
            },
            libc,
        });
    }
    let Some(entry) = entry else {
        let known: Vec<&str> = CATALOG.iter().map(|e| e.reference).collect();
        bail!(
            "unknown image {name:?}: not in the local image store, the registry did not give it ({}), \
             and it has no offline equivalent (those exist for: {})",
            pull_error.map_or_else(String::new, |e| format!("{e:#}")),
            known.join(", ")
        );
    };
    ensure_equivalent(engine, entry, say)?;
    let libc_note = engine
        .image_label(&engine.local_name(entry.equivalent_tag), LIBC_LABEL)
        .unwrap_or_default();
    Ok(ResolvedImage {
        info: ImageInfo {
            reference: entry.reference.into(),
            source: "offline-equivalent".into(),
            local_tag: engine.local_name(entry.equivalent_tag),
            note: if libc_note.is_empty() {
                entry.note.into()
            } else {
                format!("{} ({libc_note})", entry.note)
            },
        },
        libc: entry.libc,
    })
}

fn ensure_equivalent(engine: &Engine, entry: &CatalogEntry, say: &dyn Fn(&str)) -> Result<()> {
    let tag = &engine.local_name(entry.equivalent_tag);
    if engine.image_exists(tag) {
        return Ok(());
    }
    let _lock = offline::lock("base-images")?;
    if engine.image_exists(tag) {
        return Ok(()); // another process built it while we waited
    }
    say(&format!(
        "building {tag}, the offline equivalent of {} (once)",
        entry.reference
    ));
    let t = std::time::Instant::now();
    offline::build(engine, entry.recipe, tag, entry.reference)
        .with_context(|| format!("building the offline equivalent of {}", entry.reference))?;
    say(&format!(
        "built {tag} in {:.0} s",
        t.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The probe image: containers/probe.Dockerfile FROM the base with `binary` copied in.
/// Tagged by the binary's content hash, so a rebuilt binary gets a new image.
pub fn ensure_probe_image(engine: &Engine, base: &ImageInfo, binary: &Path) -> Result<String> {
    let bytes = std::fs::read(binary)
        .with_context(|| format!("cannot read probe binary {}", binary.display()))?;
    let base_tag = base
        .local_tag
        .trim_start_matches("localhost/")
        .replace(['/', ':', '.'], "-");
    let tag = engine.local_name(&format!(
        "resolvbench-probe/{base_tag}:{:016x}",
        probe_build::fnv1a(&bytes)
    ));
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
        offline::set_mode(&ctx.join("resolvbench"), 0o755)?;
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
    result?;
    // Older probe images of this base (earlier builds of the binary) are of no further use.
    let repository = tag.rsplit_once(':').map_or(tag.as_str(), |(r, _)| r);
    for old in engine.image_tags(repository).unwrap_or_default() {
        if old != tag {
            let _ = engine.remove_image(&old);
        }
    }
    Ok(tag)
}
