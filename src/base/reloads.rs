//! How many times a file read at run time (the consumer registry, the CRLs) was reloaded, and how
//! many times a changed version was refused (the previous one stays in force): for the metrics.

use std::sync::atomic::{AtomicU64, Ordering};

/// Reloads and refusals of one kind of file.
#[derive(Debug, Default)]
pub struct ReloadCounts {
    reloaded: AtomicU64,
    refused: AtomicU64,
}

impl ReloadCounts {
    /// Counts one reload (`true`) or one refusal (`false`).
    pub fn note(&self, reloaded: bool) {
        let n = if reloaded { &self.reloaded } else { &self.refused };
        n.fetch_add(1, Ordering::Relaxed);
    }

    /// (reloads, refusals) so far.
    pub fn get(&self) -> (u64, u64) {
        (self.reloaded.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed))
    }
}
