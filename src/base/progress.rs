//! Progress of a long command (`import`, `generate`): on a terminal, a bar with the rate and the
//! time left (crate `indicatif`); otherwise (a log file, a pipe, systemd's journal) a log line
//! every ten seconds with the same figures.

use std::cell::Cell;
use std::io::{IsTerminal, Read};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the bar's length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Bytes of the input read (through [`Progress::reader`]); items are counted beside them.
    Bytes,
    /// The items themselves.
    Items,
}

/// The progress of one long step.
pub struct Progress {
    bar: ProgressBar,
    what: String,
    items: &'static str,
    measure: Measure,
    terminal: bool,
    every: Duration,
    started: Instant,
    last_log: Cell<Instant>,
}

impl Progress {
    /// `what` (e.g. the file's name) towards `len` of `measure`, counting `items` (e.g.
    /// `resources`); a bar when standard error is a terminal, log lines every ten seconds when not.
    pub fn new(what: &str, len: u64, measure: Measure, items: &'static str) -> Self {
        Self::with(what, len, measure, items, std::io::stderr().is_terminal(), Duration::from_secs(10))
    }

    fn with(what: &str, len: u64, measure: Measure, items: &'static str, terminal: bool, every: Duration) -> Self {
        let target = if terminal { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let template = match measure {
            Measure::Bytes => "{prefix} [{bar:30}] {percent:>3}% {bytes}/{total_bytes}  {msg}  {eta} left",
            Measure::Items => "{prefix} [{bar:30}] {percent:>3}% {human_pos}/{human_len} {msg}  {eta} left",
        };
        let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(len), target).with_style(style.progress_chars("=> "));
        bar.set_prefix(what.to_owned());
        if measure == Measure::Items {
            bar.set_message(items);
        }
        let now = Instant::now();
        Self { bar, what: what.to_owned(), items, measure, terminal, every, started: now, last_log: Cell::new(now) }
    }

    /// `read`, moving the bar by the bytes read from it ([`Measure::Bytes`]).
    pub fn reader<R: Read>(&self, read: R) -> impl Read + use<R> {
        self.bar.wrap_read(read)
    }

    /// `n` items are done so far.
    pub fn items_done(&self, n: u64) {
        if self.measure == Measure::Items {
            self.bar.set_position(n);
        }
        if self.terminal && n.is_multiple_of(512) {
            let rate = n as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            self.bar.set_message(match self.measure {
                Measure::Bytes => format!("{n} {} ({rate:.0}/s)", self.items),
                Measure::Items => format!("{} ({rate:.0}/s)", self.items),
            });
        }
        if !self.terminal && n.is_multiple_of(64) && self.last_log.get().elapsed() >= self.every {
            self.last_log.set(Instant::now());
            log::info!("{}", self.line(n));
        }
    }

    /// The log line: how far, how many items, how fast, how long left.
    fn line(&self, n: u64) -> String {
        let (pos, len) = (self.bar.position(), self.bar.length().unwrap_or(0));
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let percent = if len == 0 { 100.0 } else { 100.0 * pos as f64 / len as f64 };
        let left = if pos == 0 { f64::NAN } else { elapsed * (len.saturating_sub(pos)) as f64 / pos as f64 };
        let left = if left.is_finite() { format!("{left:.0} s") } else { "?".to_owned() };
        let of = match self.measure {
            Measure::Bytes => format!("{:.1} of {:.1} MB read, ", pos as f64 / 1e6, len as f64 / 1e6),
            Measure::Items => String::new(),
        };
        format!(
            "{}: {percent:.0}% ({of}{n} {} at {:.0}/s), about {left} left",
            self.what,
            self.items,
            n as f64 / elapsed
        )
    }

    /// Removes the bar (the command then logs its summary).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_say_how_far_how_fast_and_how_long_left() {
        let p = Progress::with("places.ndjson", 2_000_000, Measure::Bytes, "resources", false, Duration::ZERO);
        let mut r = p.reader(&[0u8; 500_000][..]);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        let line = p.line(1200);
        assert!(line.starts_with("places.ndjson: 25% (0.5 of 2.0 MB read, 1200 resources at "), "{line}");
        assert!(line.ends_with(" s left"), "{line}");

        let p = Progress::with("generate", 400, Measure::Items, "places", false, Duration::ZERO);
        assert!(p.line(0).ends_with("about ? left"), "{}", p.line(0));
        p.items_done(100);
        assert!(p.line(100).starts_with("generate: 25% (100 places at "), "{}", p.line(100));
    }
}
