//! Progress on stderr: an indicatif bar on a terminal, plain lines otherwise (CI logs), nothing
//! with --quiet. Measurements never go here; they go to stdout and the saved run.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        Progress { quiet, bar: None }
    }

    /// A message line (kept above the bar when there is one; a spinner also shows it as the
    /// step in progress, with its elapsed time ticking).
    pub fn say(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => {
                bar.println(msg);
                if bar.length().is_none() {
                    bar.set_message(msg.to_string());
                }
            }
            None => eprintln!("{msg}"),
        }
    }

    /// A spinner for a step of unknown length (image and probe builds take seconds to
    /// minutes), on a terminal; a plain line otherwise. `finish` ends it.
    pub fn spinner(&mut self, msg: &str) {
        if self.quiet || !std::io::stderr().is_terminal() {
            self.say(msg);
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar.set_message(msg.to_string());
        self.bar = Some(bar);
    }

    /// Starts a bar of `total` steps (on a terminal only).
    pub fn start(&mut self, total: u64) {
        if self.quiet || !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar = Some(bar);
    }

    /// Announces step `i` of the bar (or a line without one).
    pub fn step(&self, i: usize, total: usize, label: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(i as u64 - 1);
                bar.set_message(label.to_string());
            }
            None => self.say(&format!("[{i}/{total}] {label}")),
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// An error mid-step must not leave a spinner drawing over the error line.
    fn drop(&mut self) {
        self.finish();
    }
}
