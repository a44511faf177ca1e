//! Root filesystems of the offline equivalents, laid out like the images they stand in for
//! (facts: shared/notes/offline-images.md). Packages are unpacked, never configured.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::apt::{PrivateApt, unpack};

const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\n\
    nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
    nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
const GROUP: &str = "root:x:0:\ntty:x:5:\nstaff:x:50:\nnobody:x:65534:\nnonroot:x:65532:\n";

/// Alpine's layout: musl's loader as the real file /lib/ld-musl-x86_64.so.1 (it is also the
/// libc), the libc.musl link, busybox for a shell, Alpine-style /etc. No apk, no Alpine patches.
/// Returns the musl package version.
pub fn alpine_like(apt: &PrivateApt, root: &Path, staging: &Path) -> Result<String> {
    let debs = apt.download(&["musl", "busybox-static"])?;
    for deb in &debs {
        unpack(deb, staging)?;
    }
    for dir in ["bin", "lib", "etc", "usr/local/bin", "home/nonroot", "root"] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    // bookworm's package has it under /lib, trixie's (usrmerged) under /usr/lib.
    let libc = [
        "usr/lib/x86_64-linux-musl/libc.so",
        "lib/x86_64-linux-musl/libc.so",
    ]
    .iter()
    .map(|p| staging.join(p))
    .find(|p| p.exists())
    .context("musl's libc.so is not in the package")?;
    std::fs::copy(&libc, root.join("lib/ld-musl-x86_64.so.1"))?;
    symlink(
        "ld-musl-x86_64.so.1",
        root.join("lib/libc.musl-x86_64.so.1"),
    )?;
    let busybox = ["bin/busybox", "usr/bin/busybox"]
        .iter()
        .map(|p| staging.join(p))
        .find(|p| p.exists());
    std::fs::copy(
        busybox.context("busybox is not in the package")?,
        root.join("bin/busybox"),
    )?;
    // Debian's busybox-static is linked against glibc, so its nslookup would not be musl's: leave it out.
    for applet in [
        "sh", "ash", "cat", "echo", "env", "id", "ls", "ps", "sleep", "true", "false",
    ] {
        symlink("busybox", root.join("bin").join(applet))?;
    }
    write(root, "etc/passwd", PASSWD)?;
    write(root, "etc/group", GROUP)?;
    write(root, "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n")?;
    let version = PrivateApt::version_of(&debs[0]);
    write(
        root,
        "etc/os-release",
        &format!(
            "NAME=\"Alpine equivalent\"\nID=alpine-equivalent\nPRETTY_NAME=\"Alpine equivalent: musl {version} from Debian packages, busybox (built by resolvbench; not Alpine)\"\n"
        ),
    )?;
    finish_dirs(root)?;
    Ok(version)
}

/// distroless static-debian13: base-files, netbase, tzdata, media-types, a CA bundle; no libc.
pub fn distroless_static(apt: &PrivateApt, root: &Path, staging: &Path) -> Result<()> {
    let debs = apt.download(&[
        "base-files",
        "netbase",
        "tzdata",
        "tzdata-legacy",
        "media-types",
        "ca-certificates",
    ])?;
    let (ca, rest) = debs.split_last().expect("six packages");
    merge_debs(rest, root, &staging.join("base"))?;
    ca_bundle(ca, root, &staging.join("ca"))?;
    write(root, "etc/passwd", PASSWD)?;
    write(root, "etc/group", GROUP)?;
    write(
        root,
        "etc/nsswitch.conf",
        "passwd: compat\ngroup: compat\nshadow: compat\ngshadow: files\nhosts: files dns\nnetworks: files\n\
         protocols: db files\nservices: db files\nethers: db files\nrpc: db files\nnetgroup: nis\n",
    )?;
    write(
        root,
        "etc/os-release",
        "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\nID=debian\n\
         RESOLVBENCH_NOTE=\"offline equivalent built by resolvbench from Debian trixie packages\"\n",
    )?;
    finish_dirs(root)
}

/// distroless cc-debian13: static plus glibc, libgcc_s (a glibc Rust binary needs it), libssl,
/// libstdc++, libgomp, zlib, zstd. No libc-bin: no getent, ldconfig or gai.conf.
pub fn distroless_cc(apt: &PrivateApt, root: &Path, staging: &Path) -> Result<String> {
    distroless_static(apt, root, staging)?;
    let libs = [
        "libc6",
        "libgcc-s1",
        "gcc-14-base",
        "libssl3t64",
        "libzstd1",
        "zlib1g",
        "libstdc++6",
        "libgomp1",
    ];
    let debs = apt.download(&libs)?;
    merge_debs(&debs, root, &staging.join("cc"))?;
    Ok(PrivateApt::version_of(&debs[0]))
}

/// Unpacks debs into a staging tree, folds /bin /sbin /lib /lib64 into /usr (Debian 13 is
/// usrmerged), and copies the result over `root` with the top-level links in place.
fn merge_debs(debs: &[std::path::PathBuf], root: &Path, staging: &Path) -> Result<()> {
    std::fs::create_dir_all(staging)?;
    for deb in debs {
        unpack(deb, staging)?;
    }
    for top in ["bin", "sbin", "lib", "lib64"] {
        let src = staging.join(top);
        if src.is_dir() && !src.is_symlink() {
            std::fs::create_dir_all(staging.join("usr").join(top))?;
            cp_a(&src, &staging.join("usr").join(top))?;
            std::fs::remove_dir_all(&src)?;
        }
        let usr = root.join("usr").join(top);
        std::fs::create_dir_all(&usr)?;
        if !root.join(top).exists() {
            symlink(format!("usr/{top}"), root.join(top))?;
        }
    }
    for dir in [
        "usr/share/doc",
        "usr/share/man",
        "usr/share/lintian",
        "usr/share/info",
    ] {
        let _ = std::fs::remove_dir_all(staging.join(dir));
    }
    cp_a(staging, root)
}

/// The bundle update-ca-certificates would generate: every Mozilla certificate, concatenated.
fn ca_bundle(deb: &Path, root: &Path, staging: &Path) -> Result<()> {
    let dir = staging.join("ca");
    std::fs::create_dir_all(&dir)?;
    unpack(deb, &dir)?;
    let mut certs: Vec<_> = std::fs::read_dir(dir.join("usr/share/ca-certificates/mozilla"))?
        .flatten()
        .map(|e| e.path())
        .collect();
    certs.sort();
    let mut bundle = String::new();
    for c in certs {
        bundle.push_str(&std::fs::read_to_string(c)?);
    }
    write(root, "etc/ssl/certs/ca-certificates.crt", &bundle)
}

/// /tmp 1777, /root 0700, /home/nonroot 0700 owned by 65532, as in distroless.
fn finish_dirs(root: &Path) -> Result<()> {
    for (dir, mode) in [("tmp", 0o1777), ("root", 0o700), ("home/nonroot", 0o700)] {
        std::fs::create_dir_all(root.join(dir))?;
        std::fs::set_permissions(root.join(dir), std::fs::Permissions::from_mode(mode))?;
    }
    std::os::unix::fs::chown(root.join("home/nonroot"), Some(65532), Some(65532))?;
    Ok(())
}

fn write(root: &Path, path: &str, text: &str) -> Result<()> {
    let p = root.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
}

/// `cp -a SRC/. DST/`: keeps links, modes and owners.
fn cp_a(src: &Path, dst: &Path) -> Result<()> {
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(dst)
        .status()?;
    if !status.success() {
        bail!("cp -a {} {} failed", src.display(), dst.display());
    }
    Ok(())
}
