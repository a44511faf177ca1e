//! The default matrix under the real Docker Engine: each image's own libc, the static probe
//! where there is no libc, the dynamic musl probe using the image's musl, and clear errors for
//! images no probe can serve. Needs docker, debootstrap and the musl toolchain (.ci/run).
//!
//! Expected query lists, from the resolvers' source (docs/resolver-sources.md):
//! - glibc 2.41 resolv/res_query.c `__res_context_search`, resolv/res_send.c `send_dg`:
//!   search domains first (2 dots < ndots 5), the name last; A and AAAA per candidate in one
//!   sendmmsg, A first.
//! - musl 1.2.5 src/network/lookup_name.c `name_from_dns_search` (search list walked in order,
//!   the name last, only NXDOMAIN moves on) and `name_from_dns` (A, then AAAA, both handed to
//!   src/network/res_msend.c `__res_msend_rc`, which sends both before waiting).
//!
//! So for this happy path both libcs send the same 8 queries in 4 rounds.

use std::path::Path;
use std::process::Command;

mod common;

use common::{CANDIDATES, resolvbench_with_results as resolvbench, run_json as run};

fn data(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn each_default_image_runs_the_probe_with_its_own_libc_and_its_search_pattern() {
    let scenario = data("k8s-slow.toml");
    let run = run(&[
        "--resolver",
        "system",
        "--mode",
        "parallel",
        "--count",
        "15",
        "--warmup",
        "2",
        "--scenario",
        &scenario,
    ]);
    assert!(run.complete, "{:?}", run.failures);
    let expected_pattern: Vec<String> = CANDIDATES
        .iter()
        .flat_map(|c| [format!("A {c}"), format!("AAAA {c}")])
        .collect();
    let expected = [
        ("alpine:3.21", "musl-dynamic", "musl", "1.2.5"),
        ("debian:trixie-slim", "glibc-dynamic", "glibc", "2.41"),
        (
            "gcr.io/distroless/static-debian13:nonroot",
            "musl-static",
            "musl",
            "1.2.5",
        ),
        (
            "gcr.io/distroless/cc-debian13:nonroot",
            "glibc-dynamic",
            "glibc",
            "2.41",
        ),
    ];
    assert_eq!(run.cells.len(), expected.len());
    for (cell, (image, flavour, libc, version)) in run.cells.iter().zip(expected) {
        let p = &cell.probe;
        assert_eq!(cell.image.reference, image);
        assert_eq!(
            cell.image.source, "offline-equivalent",
            "no registry here: equivalents, labelled"
        );
        assert_eq!(p.probe.flavour, flavour, "{image}");
        assert_eq!(p.environment.libc.family, libc, "{image}");
        assert!(
            p.environment.libc.version.starts_with(version),
            "{image}: {:?}",
            p.environment.libc
        );
        assert_eq!(p.environment.uid, 65532);
        // The container posture: read-only root filesystem, no capabilities at all.
        assert!(
            !p.environment.root_fs_writable,
            "{image}: the probe could write /"
        );
        assert_eq!(p.environment.capabilities, "0000000000000000", "{image}");
        assert_eq!(p.errors, 0, "{image}: {:?}", p.outcomes);
        assert_eq!(cell.trace.pattern, expected_pattern, "{image}");
        assert_eq!(cell.trace.pattern_share, 1.0, "{image}");
        assert_eq!(
            cell.trace.rounds_mean, 4.0,
            "{image}: A and AAAA go out together per candidate"
        );
    }
}

#[test]
fn the_dynamic_musl_probe_uses_the_images_musl_old_musl_has_no_tcp_fallback() {
    let scenario = data("truncated.toml");
    let run = run(&[
        "--image",
        "alpine:3.21",
        "--image",
        "alpine-musl-1.2.3",
        "--resolver",
        "system",
        "--mode",
        "parallel",
        "--count",
        "5",
        "--warmup",
        "1",
        "--scenario",
        &scenario,
    ]);
    let (new, old) = (&run.cells[0], &run.cells[1]);
    // The same binary (same flavour and build) in both images...
    assert_eq!(new.probe.probe, old.probe.probe);
    assert_eq!(new.probe.environment.libc.version, "1.2.5");
    assert_eq!(old.probe.environment.libc.version, "1.2.3");
    // ...resolves over TCP after the truncated UDP answer with musl 1.2.5,
    assert_eq!(new.probe.errors, 0, "{:?}", new.probe.outcomes);
    let tcp = |c: &resolvbench::result::CellResult| {
        c.trace
            .examples
            .values()
            .flatten()
            .filter(|q| q.transport == "tcp")
            .count()
    };
    assert!(tcp(new) > 0, "musl 1.2.5 retried over TCP");
    // ...and fails with musl 1.2.3, which never asks over TCP.
    assert_eq!(old.probe.errors, 5, "{:?}", old.probe.outcomes);
    assert_eq!(tcp(old), 0);
}

/// An image with a loader no probe exists for.
#[test]
fn an_image_of_another_libc_is_one_clear_error_line() {
    let dir = std::env::temp_dir().join(format!("rb-uclibc-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/ld-uClibc.so.0"), b"").unwrap();
    let tar = dir.with_extension("tar");
    assert!(
        Command::new("tar")
            .arg("-C")
            .arg(&dir)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap()
            .success()
    );
    let tag = "resolvbench-test/uclibc:1";
    assert!(
        Command::new("docker")
            .args(["import"])
            .arg(&tar)
            .arg(tag)
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = resolvbench(&["run", "--quiet", "--image", tag]);
    let _ = Command::new("docker").args(["rmi", tag]).output();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&tar);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("uClibc") && stderr.contains(tag),
        "{stderr}"
    );
}

/// An image for another architecture (a hand-made docker-archive saying arm64).
#[test]
fn an_image_of_another_architecture_is_one_clear_error_line() {
    let dir = std::env::temp_dir().join(format!("rb-arm-{}", std::process::id()));
    let fs = dir.join("fs");
    std::fs::create_dir_all(fs.join("etc")).unwrap();
    std::fs::write(fs.join("etc/hostname"), b"arm\n").unwrap();
    let sh = |cmd: &str| {
        assert!(
            Command::new("sh")
                .args(["-c", cmd])
                .current_dir(&dir)
                .status()
                .unwrap()
                .success(),
            "{cmd}"
        )
    };
    sh("tar -C fs -cf layer.tar .");
    let sha = String::from_utf8(
        Command::new("sha256sum")
            .arg(dir.join("layer.tar"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let sha = sha.split_whitespace().next().unwrap();
    let tag = "resolvbench-test/arm64:1";
    std::fs::write(
        dir.join("config.json"),
        format!(r#"{{"architecture":"arm64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["sha256:{sha}"]}}}}"#),
    )
    .unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        format!(r#"[{{"Config":"config.json","RepoTags":["{tag}"],"Layers":["layer.tar"]}}]"#),
    )
    .unwrap();
    sh(
        "tar -cf image.tar manifest.json config.json layer.tar && docker load -i image.tar >/dev/null",
    );
    let out = resolvbench(&["run", "--quiet", "--image", tag]);
    let _ = Command::new("docker").args(["rmi", tag]).output();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("linux/arm64") && stderr.contains(tag),
        "{stderr}"
    );
}
