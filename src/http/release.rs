//! Gives the allocator's free memory back once the server has gone quiet after some work
//! ([`crate::base::memory`]): a burst of large answers leaves its memory in the allocator's
//! arenas, and an idle server should not look as large as its busiest second. Nothing is
//! released while requests keep coming, so a loaded server pays nothing for it.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::admission::Admission;
use crate::base::memory::release_free_memory;

/// How long the server must have admitted nothing before its free memory is released.
pub const QUIET: Duration = Duration::from_millis(100);

/// Decides, from the admission counts seen once per [`QUIET`], when to release.
#[derive(Debug, Default)]
pub struct Quiet {
    /// The places handed out at the previous look.
    last_seen: Option<u64>,
    /// The places handed out when memory was last released.
    released_at: Option<u64>,
}

impl Quiet {
    /// Whether to release now, given the places handed out so far and the requests in flight or
    /// waiting: once per stretch of work, after a whole interval without a new request and with
    /// none in flight.
    pub fn observe(&mut self, admitted: u64, busy: usize) -> bool {
        let still = self.last_seen == Some(admitted);
        self.last_seen = Some(admitted);
        if still && busy == 0 && self.released_at != Some(admitted) {
            self.released_at = Some(admitted);
            return true;
        }
        false
    }
}

/// Starts the thread that watches `admission` and releases memory when the server goes quiet; it
/// ends with the server (when `admission` is dropped).
pub fn watch(admission: &Arc<Admission>) {
    let weak: Weak<Admission> = Arc::downgrade(admission);
    let spawned = std::thread::Builder::new().name("memory-release".into()).spawn(move || {
        let mut quiet = Quiet::default();
        loop {
            std::thread::sleep(QUIET);
            let Some(a) = weak.upgrade() else { return };
            let (admitted, in_flight, waiting) = a.activity();
            drop(a);
            if quiet.observe(admitted, in_flight + waiting) {
                let started = std::time::Instant::now();
                let released = release_free_memory();
                log::debug!(
                    "server quiet: free memory given back to the system ({released}) in {} us",
                    started.elapsed().as_micros()
                );
            }
        }
    });
    if let Err(e) = spawned {
        log::warn!("cannot start the memory-release thread ({e}): free memory stays with the allocator");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_once_after_a_quiet_interval_following_work() {
        let mut q = Quiet::default();
        // Start: nothing seen before, then a quiet look: the start-up's memory goes once.
        assert!(!q.observe(0, 0));
        assert!(q.observe(0, 0));
        assert!(!q.observe(0, 0));
        // Requests keep coming: never while they do.
        assert!(!q.observe(5, 0));
        assert!(!q.observe(9, 1));
        assert!(!q.observe(12, 0));
        // In flight, though none new: not yet.
        assert!(!q.observe(12, 1));
        // Quiet for a whole interval: once.
        assert!(q.observe(12, 0));
        assert!(!q.observe(12, 0));
        // New work, then quiet again: once more.
        assert!(!q.observe(13, 0));
        assert!(q.observe(13, 0));
    }
}
