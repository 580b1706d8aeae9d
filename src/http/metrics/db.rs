//! The serving connections' metrics: waits for a pooled connection and those that timed out, the
//! requests' database time, statements run and prepared (counted in `db::stats`, added here at
//! each scrape by what they grew since the previous one).

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use crate::db::stats::DbCounts;

/// Seconds, counted in microseconds.
type Seconds = Counter<f64, AtomicU64>;

pub(super) struct DbMetrics {
    waits: Counter,
    wait_seconds: Seconds,
    timeouts: Counter,
    holds: Counter,
    held_seconds: Seconds,
    statements: Counter,
    prepared: Counter,
}

impl DbMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let m = Self {
            waits: Counter::default(),
            wait_seconds: Seconds::default(),
            timeouts: Counter::default(),
            holds: Counter::default(),
            held_seconds: Seconds::default(),
            statements: Counter::default(),
            prepared: Counter::default(),
        };
        registry.register("db_pool_waits", "Serving connections asked of a pool", m.waits.clone());
        registry.register(
            "db_pool_wait_seconds",
            "Time spent waiting for a serving connection (divide by db_pool_waits for the mean)",
            m.wait_seconds.clone(),
        );
        registry.register(
            "db_pool_timeouts",
            "Waits for a serving connection that timed out (the request answered 503)",
            m.timeouts.clone(),
        );
        registry.register(
            "db_requests",
            "Requests' database work: a connection held, then given back",
            m.holds.clone(),
        );
        registry.register(
            "db_request_seconds",
            "Time requests held a serving connection: their database time (divide by db_requests for the mean)",
            m.held_seconds.clone(),
        );
        registry.register("db_statements", "Statements run on serving connections", m.statements.clone());
        registry.register(
            "db_statements_prepared",
            "Statements prepared and kept in a serving connection's statement cache (then reused)",
            m.prepared.clone(),
        );
        m
    }

    /// Adds what the counts grew by from `before` to `now`.
    pub(super) fn grow(&self, before: &DbCounts, now: &DbCounts) {
        let by = |a: u64, b: u64| b.saturating_sub(a);
        let secs = |a: u64, b: u64| by(a, b) as f64 / 1e6;
        self.waits.inc_by(by(before.waits, now.waits));
        self.wait_seconds.inc_by(secs(before.wait_us, now.wait_us));
        self.timeouts.inc_by(by(before.timeouts, now.timeouts));
        self.holds.inc_by(by(before.holds, now.holds));
        self.held_seconds.inc_by(secs(before.held_us, now.held_us));
        self.statements.inc_by(by(before.statements, now.statements));
        self.prepared.inc_by(by(before.prepared, now.prepared));
    }
}
