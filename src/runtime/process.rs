//! Running a command with a deadline, so that no step of a run can wait forever.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

#[derive(Debug)]
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The last non-empty stderr line: the useful part of a docker error.
    pub fn last_error_line(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(no output)")
            .trim()
            .to_string()
    }
}

/// Runs `cmd` to completion or kills it at `timeout` or on SIGINT/SIGTERM; stdout and stderr
/// are captured.
pub fn run_with_deadline(cmd: &mut Command, timeout: Duration) -> Result<Finished> {
    run(cmd, timeout, true)
}

/// The same, but a signal does not cut it short: for cleanup after a signal.
pub fn run_to_end(cmd: &mut Command, timeout: Duration) -> Result<Finished> {
    run(cmd, timeout, false)
}

fn run(cmd: &mut Command, timeout: Duration, interruptible: bool) -> Result<Finished> {
    let what = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {what}"))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait_until(&mut child, Instant::now() + timeout, interruptible)?;
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "{what} did not finish within {} s and was killed",
            timeout.as_secs_f64()
        );
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut p) = pipe {
            let mut bytes = Vec::new();
            let _ = p.read_to_end(&mut bytes);
            s = String::from_utf8_lossy(&bytes).into_owned();
        }
        s
    })
}

fn wait_until(
    child: &mut Child,
    deadline: Instant,
    interruptible: bool,
) -> Result<Option<std::process::ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        if interruptible && crate::interrupt::requested() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("interrupted by a signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_deadline_is_killed_and_reported() {
        let err = run_with_deadline(Command::new("sleep").arg("5"), Duration::from_millis(200))
            .unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        let ok = run_with_deadline(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!((ok.stdout.as_str(), ok.status.code()), ("out\n", Some(3)));
        assert_eq!(ok.last_error_line(), "err");
    }
}
