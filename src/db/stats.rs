//! What the serving connections did, counted where it happens and read by the metrics at each
//! scrape: waits for a pooled connection (and those that timed out), the time requests held a
//! connection (their database time), statements run, and statements prepared into a connection's
//! statement cache (diesel's `CacheQuery` event: a statement prepared once and reused after).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters of the serving pools (all servers together).
#[derive(Debug, Default)]
pub struct DbStats {
    waits: AtomicU64,
    wait_us: AtomicU64,
    timeouts: AtomicU64,
    holds: AtomicU64,
    held_us: AtomicU64,
    statements: AtomicU64,
    prepared: AtomicU64,
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbCounts {
    /// Connections asked of a pool.
    pub waits: u64,
    /// Microseconds spent waiting for them (those that timed out included).
    pub wait_us: u64,
    /// Asks that timed out (the request answered 503).
    pub timeouts: u64,
    /// Connections held by a request's work.
    pub holds: u64,
    /// Microseconds they were held: the requests' database time.
    pub held_us: u64,
    /// Statements run on serving connections.
    pub statements: u64,
    /// Statements prepared and kept in a connection's statement cache.
    pub prepared: u64,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl DbStats {
    /// A wait for a connection that took `took`, and got one or not.
    pub fn waited(&self, took: Duration, got: bool) {
        self.waits.fetch_add(1, Ordering::Relaxed);
        self.wait_us.fetch_add(micros(took), Ordering::Relaxed);
        if !got {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A connection held `took` by a request's work.
    pub fn held(&self, took: Duration) {
        self.holds.fetch_add(1, Ordering::Relaxed);
        self.held_us.fetch_add(micros(took), Ordering::Relaxed);
    }

    /// A statement started.
    pub fn started(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// A statement prepared and put in its connection's cache.
    pub fn cached(&self) {
        self.prepared.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn get(&self) -> DbCounts {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DbCounts {
            waits: n(&self.waits),
            wait_us: n(&self.wait_us),
            timeouts: n(&self.timeouts),
            holds: n(&self.holds),
            held_us: n(&self.held_us),
            statements: n(&self.statements),
            prepared: n(&self.prepared),
        }
    }
}
