//! Running one request's database work: a pooled connection within a bounded wait, the request's
//! time budget entered, a lost connection retried once on a fresh one (serving work is read-only
//! and nothing has been answered yet, so running it again is safe), and a way to stop it from
//! another thread when nobody waits for it any more.
//!
//! With read replicas ([`Servers`]) the work runs on a replica; when that replica fails (lost,
//! unreachable, or its statement cancelled by a conflict with recovery), it is set aside and the
//! work runs again on the next replica, then on the primary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::budget::{Budget, Running};
use super::servers::{ReplicaState, Servers};
use super::stats::DbStats;
use super::{DbConn, DbError, PoolConn};

/// Runs database work for requests.
pub struct Runner {
    servers: Arc<Servers>,
    pool_wait: Duration,
    stats: Arc<DbStats>,
}

/// What one attempt on one server came to.
enum Attempt<T> {
    Done(Result<T, DbError>),
    /// The server failed in a way another one may not: try the next (setting this one aside
    /// when it is unusable, not when only this statement was refused).
    NextServer {
        e: DbError,
        set_aside: bool,
    },
    /// The connection was lost: try again (once) on a fresh one.
    Again(DbError),
}

impl Runner {
    /// A runner over `servers`, waiting at most `pool_wait` for a connection.
    pub fn new(servers: Arc<Servers>, pool_wait: Duration) -> Self {
        Self { servers, pool_wait, stats: Arc::default() }
    }

    /// Counts waits and database time in `stats` (those the pools' connections count statements
    /// in, for the metrics to read them together).
    pub fn counting(self, stats: Arc<DbStats>) -> Self {
        Self { stats, ..self }
    }

    /// What the serving connections did so far.
    pub fn stats(&self) -> &DbStats {
        &self.stats
    }

    /// Runs `f` within `budget`. Errors: [`DbError::Pool`] when no connection came in time,
    /// [`DbError::Stopped`] when the budget stopped the work, [`DbError::Lost`] when the
    /// connection was lost twice, any other error of `f` as it is.
    pub fn run<T>(&self, budget: &Arc<Budget>, f: &dyn Fn(&mut DbConn) -> Result<T, DbError>) -> Result<T, DbError> {
        let order = self.servers.order();
        let mut at = 0;
        let mut retried = false;
        loop {
            let server = order[at.min(order.len() - 1)];
            match self.attempt(server, budget, f) {
                Attempt::Done(out) => return out,
                Attempt::NextServer { e, set_aside } if at + 1 < order.len() => {
                    if set_aside {
                        self.servers.set_down(server, &e);
                    } else {
                        log::warn!("a read replica refused a statement ({e}); running it on the next server");
                    }
                    at += 1;
                }
                Attempt::NextServer { e, .. } => return Err(e),
                Attempt::Again(e) if retried => return Err(DbError::Lost(e.to_string())),
                Attempt::Again(e) => {
                    log::warn!("database connection lost ({e}); running the request again on another connection");
                    retried = true;
                }
            }
        }
    }

    /// Runs `f` at once on the calling thread when reads go to an embedded database
    /// ([`Servers::embedded_only`]) and one of its connections is idle; `None` when not, or when
    /// that connection was lost (the caller then runs `f` with [`Runner::run`], off its thread:
    /// serving work is read-only, so running it again is safe). Meant for work bounded by
    /// construction, a few index probes, which costs less than handing it to another thread.
    pub fn run_here<T>(
        &self,
        budget: &Arc<Budget>,
        f: &dyn Fn(&mut DbConn) -> Result<T, DbError>,
    ) -> Option<Result<T, DbError>> {
        if !self.servers.embedded_only() {
            return None;
        }
        let mut conn = self.servers.get(0).pool.try_get()?;
        self.stats.waited(Duration::ZERO, true);
        match self.run_on(0, &mut conn, budget, f) {
            Attempt::Done(out) => Some(out),
            Attempt::Again(_) | Attempt::NextServer { .. } => None,
        }
    }

    fn attempt<T>(
        &self,
        server: usize,
        budget: &Arc<Budget>,
        f: &dyn Fn(&mut DbConn) -> Result<T, DbError>,
    ) -> Attempt<T> {
        let s = self.servers.get(server);
        let wait = self.pool_wait.min(budget.remaining()).max(Duration::from_millis(1));
        let asked = Instant::now();
        let got = s.pool.get_timeout(wait);
        let waited = asked.elapsed();
        let mut conn = match got {
            Ok(c) => {
                self.stats.waited(waited, true);
                c
            }
            // No connection at all (rather than all of them busy): the replica is unreachable.
            Err(e) if s.is_replica() && s.pool.state().connections == 0 => {
                self.stats.waited(waited, true);
                return Attempt::NextServer { e: e.into(), set_aside: true };
            }
            Err(e) => {
                self.stats.waited(waited, false);
                return Attempt::Done(Err(e.into()));
            }
        };
        self.run_on(server, &mut conn, budget, f)
    }

    /// Runs `f` on `conn`, a connection to server `server`, within `budget`.
    fn run_on<T>(
        &self,
        server: usize,
        conn: &mut PoolConn,
        budget: &Arc<Budget>,
        f: &dyn Fn(&mut DbConn) -> Result<T, DbError>,
    ) -> Attempt<T> {
        let s = self.servers.get(server);
        if let Some(stop) = budget.stop() {
            return Attempt::Done(Err(DbError::Stopped(stop)));
        }
        *budget.running() = conn.backend_pid().map(|pid| Running { server, pid });
        let started = Instant::now();
        let out = {
            let _entered = budget.enter();
            f(conn)
        };
        self.stats.held(started.elapsed());
        // Taken under the lock a cancellation holds while it runs: once this returns, no
        // cancellation can reach the connection's next user.
        *budget.running() = None;
        let e = match out {
            Ok(v) => return Attempt::Done(Ok(v)),
            Err(e) => e,
        };
        if let Some(stop) = budget.stop() {
            conn.lost(&e);
            return Attempt::Done(Err(DbError::Stopped(stop)));
        }
        failed_on(s.is_replica(), conn, e)
    }

    /// Stops the statement `budget`'s request is running, if any (PostgreSQL; SQLite's progress
    /// handler sees the budget's cancelled flag by itself). Blocks for one round trip: call it
    /// off the async threads.
    pub fn cancel_running(&self, budget: &Budget) {
        budget.cancel();
        // Held while cancelling: the request's thread cannot hand its connection to another
        // request before the cancellation has been sent.
        let running = budget.running();
        if let Some(r) = *running {
            self.servers.get(r.server).cancel(r.pid);
        }
    }

    /// Whether stopping a request's statement needs [`Runner::cancel_running`] (PostgreSQL).
    pub fn cancels_remotely(&self) -> bool {
        self.servers.get(0).cancels_remotely()
    }

    /// Each server's pool (open connections, idle ones) and whether reads go to it, the primary
    /// first.
    pub fn pool_states(&self) -> Vec<(u32, u32, bool)> {
        self.servers.pool_states()
    }

    /// The read replicas' states (empty without replicas).
    pub fn replica_states(&self) -> Vec<ReplicaState> {
        self.servers.replica_states()
    }
}

/// What a failure `e` of `conn` calls for: on a replica, a lost connection or a statement cancelled
/// by a conflict with recovery (PostgreSQL reports it as a serialization failure) moves the work
/// to the next server; elsewhere a lost connection is retried, any other error is the answer.
fn failed_on<T>(replica: bool, conn: &mut PoolConn, e: DbError) -> Attempt<T> {
    use diesel::result::{DatabaseErrorKind, Error};
    let lost = conn.lost(&e);
    let conflict = matches!(e, DbError::Query(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)));
    match (replica, lost, conflict) {
        (true, true, _) => Attempt::NextServer { e, set_aside: true },
        (true, false, true) => Attempt::NextServer { e, set_aside: false },
        (false, true, _) => Attempt::Again(e),
        _ => Attempt::Done(Err(e)),
    }
}
