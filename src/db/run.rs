//! Running one request's database work: a pooled connection within a bounded wait, the request's
//! time budget entered, a lost connection retried once on a fresh one (serving work is read-only
//! and nothing has been answered yet, so running it again is safe), and a way to stop it from
//! another thread when nobody waits for it any more.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;

use super::budget::Budget;
use super::{Backend, DbConn, DbError, DbPool, DbUrl};

/// Runs database work for requests.
pub struct Runner {
    pool: DbPool,
    pool_wait: Duration,
    canceller: Option<Canceller>,
}

impl Runner {
    /// A runner over `pool`, waiting at most `pool_wait` for a connection.
    pub fn new(pool: DbPool, url: &DbUrl, pool_wait: Duration) -> Self {
        let canceller =
            (url.backend == Backend::Postgres).then(|| Canceller { url: url.clone(), control: Mutex::new(None) });
        Self { pool, pool_wait, canceller }
    }

    /// Runs `f` within `budget`. Errors: [`DbError::Pool`] when no connection came in time,
    /// [`DbError::Stopped`] when the budget stopped the work, [`DbError::Lost`] when the
    /// connection was lost twice, any other error of `f` as it is.
    pub fn run<T>(&self, budget: &Arc<Budget>, f: &dyn Fn(&mut DbConn) -> Result<T, DbError>) -> Result<T, DbError> {
        let mut retried = false;
        loop {
            let wait = self.pool_wait.min(budget.remaining()).max(Duration::from_millis(1));
            let mut conn = self.pool.get_timeout(wait)?;
            if let Some(stop) = budget.stop() {
                return Err(DbError::Stopped(stop));
            }
            *budget.running() = conn.backend_pid();
            let out = {
                let _entered = budget.enter();
                f(&mut conn)
            };
            // Taken under the lock a cancellation holds while it runs: once this returns, no
            // cancellation can reach the connection's next user.
            *budget.running() = None;
            let e = match out {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if let Some(stop) = budget.stop() {
                conn.lost(&e);
                return Err(DbError::Stopped(stop));
            }
            if !conn.lost(&e) {
                return Err(e);
            }
            if retried {
                return Err(DbError::Lost(e.to_string()));
            }
            log::warn!("database connection lost ({e}); running the request again on another connection");
            retried = true;
        }
    }

    /// Stops the statement `budget`'s request is running, if any (PostgreSQL; SQLite's progress
    /// handler sees the budget's cancelled flag by itself). Blocks for one round trip: call it
    /// off the async threads.
    pub fn cancel_running(&self, budget: &Budget) {
        budget.cancel();
        if let Some(c) = &self.canceller {
            c.cancel(budget);
        }
    }

    /// Whether stopping a request's statement needs [`Runner::cancel_running`] (PostgreSQL).
    pub fn cancels_remotely(&self) -> bool {
        self.canceller.is_some()
    }
}

/// Cancels PostgreSQL statements over a control connection of its own.
struct Canceller {
    url: DbUrl,
    control: Mutex<Option<diesel::PgConnection>>,
}

impl Canceller {
    fn cancel(&self, budget: &Budget) {
        // Held while cancelling: the request's thread cannot hand its connection to another
        // request before the cancellation has been sent. PostgreSQL ignores a cancellation that
        // reaches an idle backend, so one that arrives after the statement ended stops nothing.
        let running = budget.running();
        let Some(pid) = *running else { return };
        let mut control = self.control.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if control.is_none() {
            match diesel::PgConnection::establish(&self.url.target) {
                Ok(c) => *control = Some(c),
                Err(e) => {
                    log::warn!("cannot connect to cancel a statement: {e}");
                    return;
                }
            }
        }
        let Some(conn) = control.as_mut() else { return };
        let sent =
            diesel::sql_query("SELECT pg_cancel_backend($1)").bind::<diesel::sql_types::Integer, _>(pid).execute(conn);
        if let Err(e) = sent {
            log::warn!("cannot cancel the statement of backend {pid}: {e}");
            *control = None;
        }
    }
}
