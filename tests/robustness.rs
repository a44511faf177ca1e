//! Bad input gives one clear error line and exit code 1; an interrupted run removes what it
//! created and keeps what it measured.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn resolvbench(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_error_line(args: &[&str], env: &[(&str, &str)], needle: &str) {
    let (code, stderr) = resolvbench(args, env);
    assert_eq!(code, Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("resolvbench: error: "), "{stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: wanted {needle:?} in {stderr}"
    );
}

fn temp_file(name: &str, text: &str) -> String {
    let p = std::env::temp_dir().join(format!("rb-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn bad_input_is_one_clear_line_and_exit_code_1() {
    one_error_line(
        &["run", "--profile", "nope"],
        &[],
        "unknown profile \"nope\"",
    );
    one_error_line(
        &["run", "--scenario", "nope"],
        &[],
        "unknown scenario preset \"nope\"",
    );
    let conf = temp_file("resolv.conf", "search a.test\noptions ndots:5 rotat\n");
    one_error_line(
        &["run", "--profile", &conf],
        &[],
        &format!("{conf}:2:17: unknown resolv.conf option \"rotat\""),
    );
    let toml = temp_file(
        "scenario.toml",
        "name = \"x\"\n[[rule]]\nsuffix = \"a.test\"\nrespond = \"maybe\"\n",
    );
    one_error_line(
        &["run", "--scenario", &toml],
        &[],
        ":4:11: unknown variant `maybe`",
    );
    one_error_line(
        &["serve", "--scenario", &toml],
        &[],
        "unknown variant `maybe`",
    );
    one_error_line(
        &["run", "--results-dir", "/proc/resolvbench"],
        &[],
        "results directory /proc/resolvbench cannot be created",
    );
    one_error_line(
        &["run"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        "docker is not running or not reachable",
    );
    one_error_line(
        &["run", "--engine", "no-such-engine"],
        &[],
        "no-such-engine is not usable",
    );
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    one_error_line(
        &["serve", "--listen", &addr],
        &[],
        &format!("cannot listen on {addr} (udp): address already in use"),
    );
}

/// SIGINT in the middle of the second cell: the first cell is saved (marked incomplete) and
/// no container or network of the run is left. Then SIGTERM early, while the run sets up.
#[test]
fn an_interrupted_run_cleans_up_and_keeps_what_it_measured() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/k8s-slow.toml");
    let results = std::env::temp_dir().join(format!("rb-interrupt-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args([
            "run",
            "--image",
            "debian:trixie-slim",
            "--resolver",
            "system",
            "--mode",
            "parallel",
        ])
        .args([
            "--mode",
            "sequential",
            "--count",
            "400",
            "--warmup",
            "1",
            "--scenario",
            scenario,
            "--results-dir",
        ])
        .arg(&results)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut run_id = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("run ") {
            run_id = rest.split(':').next().unwrap().to_string();
        }
        if line.starts_with("[2/2]") {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert!(
        rest.last()
            .unwrap()
            .contains("interrupted after 1 of 2 cells"),
        "{rest:?}"
    );
    assert_no_leftovers(&run_id);
    let run = saved_run(&results);
    assert!(!run.complete);
    assert_eq!(run.cells.len(), 1);
    assert_eq!(run.cells[0].probe.latency.count, 400);
    let _ = std::fs::remove_dir_all(&results);

    // Early: SIGTERM one second in (images checked, server starting or first cell).
    let child = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args([
            "run",
            "--image",
            "debian:trixie-slim",
            "--quiet",
            "--results-dir",
        ])
        .arg(&results)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_leftovers("");
    let _ = std::fs::remove_dir_all(&results);
}

/// No container or network labelled by resolvbench (of this run, or of any when `run_id` is
/// empty: test binaries run one at a time, and this is the only run in this one).
fn assert_no_leftovers(run_id: &str) {
    let filter = if run_id.is_empty() {
        "label=resolvbench.run".to_string()
    } else {
        format!("label=resolvbench.run={run_id}")
    };
    for what in [vec!["ps", "-aq"], vec!["network", "ls", "-q"]] {
        let out = Command::new("docker")
            .args(&what)
            .args(["--filter", &filter])
            .output()
            .unwrap();
        assert!(
            out.stdout.is_empty(),
            "left behind ({what:?}): {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// A probe that hangs past its cell's deadline (every query lost, glibc waiting 5 s x 2 per
/// name) is killed and reported; the run is saved incomplete and nothing is left behind.
#[test]
fn a_hung_probe_is_killed_and_reported() {
    let scenario = temp_file(
        "blackhole.toml",
        "name = \"blackhole\"\n[default]\nrespond = \"nxdomain\"\nloss = 1.0\n",
    );
    let results = std::env::temp_dir().join(format!("rb-hung-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_resolvbench"))
        .args([
            "run",
            "--image",
            "debian:trixie-slim",
            "--resolver",
            "system",
            "--mode",
            "parallel",
            "--quiet",
        ])
        .args([
            "--count",
            "3",
            "--warmup",
            "0",
            "--cell-timeout",
            "8",
            "--scenario",
            &scenario,
            "--results-dir",
        ])
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 cell(s) failed"), "{stderr}");
    let run = saved_run(&results);
    assert!(!run.complete);
    assert!(
        run.failures[0].error.contains("did not finish within 8 s"),
        "{:?}",
        run.failures
    );
    assert_no_leftovers(&run.run_id);
    let _ = std::fs::remove_dir_all(&results);
}

/// The one run saved under `results`.
fn saved_run(results: &std::path::Path) -> resolvbench::result::RunResult {
    let dir = std::fs::read_dir(results)
        .unwrap()
        .next()
        .expect("a saved run")
        .unwrap()
        .path();
    resolvbench::result::RunResult::load(&dir).unwrap()
}
