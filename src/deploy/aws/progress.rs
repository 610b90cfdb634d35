//! Live progress of apply and destroy: on a terminal, one line per resource in flight with its
//! current AWS status and elapsed time (indicatif); otherwise plain lines, one per event.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: Option<MultiProgress>,
    start: Instant,
    lines: Mutex<HashMap<String, Line>>,
}

struct Line {
    bar: Option<ProgressBar>,
    label: String,
    status: String,
    since: Instant,
}

impl Progress {
    /// Bars on a terminal (stderr), plain lines otherwise.
    pub fn new(terminal: bool) -> Progress {
        Progress {
            multi: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            start: Instant::now(),
            lines: Mutex::new(HashMap::new()),
        }
    }

    fn stamp(&self) -> String {
        format!("[{:>6.1}s]", self.start.elapsed().as_secs_f64())
    }

    /// A plain message above the bars.
    pub fn println(&self, msg: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(msg);
            }
            None => eprintln!("{msg}"),
        }
    }

    /// A step starts: `label` is e.g. `+ RDS instance app-db`, `status` e.g. `creating`.
    pub fn begin(&self, step: &str, label: &str, status: &str) {
        let bar = self.multi.as_ref().map(|m| {
            let b = m.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .expect("a valid template"),
            );
            b.set_message(format!("{label}: {status}"));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        if bar.is_none() {
            eprintln!("{} {label}: {status}", self.stamp());
        }
        let line = Line {
            bar,
            label: label.to_string(),
            status: status.to_string(),
            since: Instant::now(),
        };
        self.lines
            .lock()
            .expect("progress lock")
            .insert(step.to_string(), line);
    }

    /// AWS reports a new status for a step in flight.
    pub fn status(&self, step: &str, status: &str) {
        let mut lines = self.lines.lock().expect("progress lock");
        let Some(line) = lines.get_mut(step) else {
            return;
        };
        if line.status == status {
            return;
        }
        line.status = status.to_string();
        match &line.bar {
            Some(b) => b.set_message(format!("{}: {status}", line.label)),
            None => eprintln!("{} {}: {status}", self.stamp(), line.label),
        }
    }

    /// A step ends, well (`ok`) or not.
    pub fn finish(&self, step: &str, outcome: &str) {
        let Some(line) = self.lines.lock().expect("progress lock").remove(step) else {
            return;
        };
        let msg = format!(
            "{}: {outcome} after {:.1}s",
            line.label,
            line.since.elapsed().as_secs_f64()
        );
        match &line.bar {
            Some(b) => {
                b.finish_and_clear();
                self.println(&msg);
            }
            None => eprintln!("{} {msg}", self.stamp()),
        }
    }
}
