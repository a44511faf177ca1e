//! Which libc an image has, read from its dynamic loader's file, as the kernel would find it.

use anyhow::{Result, bail};

use super::LibcKind;
use crate::runtime::docker::Engine;

const MUSL_LOADER: &str = "lib/ld-musl-x86_64.so.1";
const GLIBC_LOADERS: &[&str] = &[
    "lib64/ld-linux-x86-64.so.2",
    "usr/lib64/ld-linux-x86-64.so.2",
];
/// Loaders of libcs or architectures there is no probe for.
const FOREIGN_LOADERS: &[(&str, &str)] = &[
    ("ld-uClibc", "uClibc"),
    ("ld-linux-aarch64.so", "glibc for aarch64"),
    ("ld-musl-aarch64.so", "musl for aarch64"),
    ("ld-linux.so.2", "glibc for i386"),
    ("ld-musl-i386.so", "musl for i386"),
    ("system/bin/linker64", "Android's bionic"),
];

pub fn libc_kind(engine: &Engine, tag: &str) -> Result<LibcKind> {
    let platform = engine.image_platform(tag)?;
    if platform != "linux/amd64" {
        bail!("image {tag} is built for {platform}; resolvbench's probes are linux/amd64 only");
    }
    classify(tag, &engine.list_files(tag)?)
}

/// Classifies an image by the paths in its filesystem (as `tar -t` lists them).
pub fn classify(tag: &str, files: &[String]) -> Result<LibcKind> {
    let has = |p: &str| {
        files
            .iter()
            .any(|f| f.trim_start_matches("./").trim_end_matches('/') == p)
    };
    if has(MUSL_LOADER) {
        return Ok(LibcKind::Musl);
    }
    if GLIBC_LOADERS.iter().any(|l| has(l)) {
        return Ok(LibcKind::Glibc);
    }
    if let Some((file, what)) = FOREIGN_LOADERS
        .iter()
        .find_map(|(pat, what)| files.iter().find(|f| f.contains(pat)).map(|f| (f, what)))
    {
        bail!(
            "image {tag} has the loader of {what} ({file}); resolvbench has probes for x86_64 glibc and musl only"
        );
    }
    Ok(LibcKind::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn loaders_decide_the_libc() {
        assert_eq!(
            classify(
                "a",
                &files(&["./", "./lib/ld-musl-x86_64.so.1", "./bin/sh"])
            )
            .unwrap(),
            LibcKind::Musl
        );
        assert_eq!(
            classify("d", &files(&["./lib64/ld-linux-x86-64.so.2"])).unwrap(),
            LibcKind::Glibc
        );
        assert_eq!(
            classify("d13", &files(&["usr/lib64/ld-linux-x86-64.so.2"])).unwrap(),
            LibcKind::Glibc
        );
        assert_eq!(
            classify("s", &files(&["./etc/passwd", "./tmp/"])).unwrap(),
            LibcKind::None
        );
        let err = classify("u", &files(&["./lib/ld-uClibc.so.0"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("uClibc") && err.contains("image u"), "{err}");
    }
}
