//! The time budget of one request's database work, and its cancellation.
//!
//! A [`Budget`] has a deadline and a cancelled flag. The thread running a request's statements
//! enters it ([`Budget::enter`]); SQLite's progress handler (see `sqlite_progress`) then stops
//! any statement of that thread once the budget is spent or cancelled. PostgreSQL connections
//! carry a `statement_timeout` instead, and a cancelled request's running statement is stopped
//! with `pg_cancel_backend` (see `cancel`): the backend process id of the connection running
//! the request is kept here while it runs.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why a budget stopped the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The deadline passed.
    Deadline,
    /// Whoever waited for the answer went away.
    Cancelled,
}

/// A PostgreSQL backend process running a request's statements: which server (see
/// [`super::servers::Servers::get`]) and its process id there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    /// The server.
    pub server: usize,
    /// The backend's process id.
    pub pid: i32,
}

/// The time budget of one request.
#[derive(Debug)]
pub struct Budget {
    limit: Duration,
    deadline: Instant,
    cancelled: AtomicBool,
    /// PostgreSQL backend process running this request's statements, while it runs.
    running_pid: Mutex<Option<Running>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Budget>>> = const { RefCell::new(None) };
}

impl Budget {
    /// A budget of `limit` from now.
    pub fn new(limit: Duration) -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            limit,
            deadline: now.checked_add(limit).unwrap_or(now),
            cancelled: AtomicBool::new(false),
            running_pid: Mutex::new(None),
        })
    }

    /// The whole budget.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Marks the work as no longer wanted.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether the work must stop, and why (cancellation first).
    pub fn stop(&self) -> Option<Stop> {
        if self.cancelled.load(Ordering::Relaxed) {
            Some(Stop::Cancelled)
        } else if Instant::now() >= self.deadline {
            Some(Stop::Deadline)
        } else {
            None
        }
    }

    /// Makes this budget the current thread's until the guard drops.
    pub fn enter(self: &Arc<Self>) -> Entered {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
        Entered(())
    }

    /// The PostgreSQL backend running this request (held locked: see [`Budget::running`]).
    pub(crate) fn running(&self) -> MutexGuard<'_, Option<Running>> {
        self.running_pid.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// While alive, the current thread works for a budget.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.try_borrow_mut().map(|mut b| *b = None));
    }
}

/// Whether the current thread's work must stop now. Never panics (it runs inside SQLite).
pub fn current_must_stop() -> bool {
    CURRENT
        .try_with(|c| c.try_borrow().map(|b| b.as_ref().is_some_and(|b| b.stop().is_some())).unwrap_or(false))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_stops_at_its_deadline_or_when_cancelled() {
        let b = Budget::new(Duration::from_secs(60));
        assert_eq!(b.stop(), None);
        b.cancel();
        assert_eq!(b.stop(), Some(Stop::Cancelled));
        let b = Budget::new(Duration::ZERO);
        assert_eq!(b.stop(), Some(Stop::Deadline));
        assert_eq!(b.remaining(), Duration::ZERO);
    }

    #[test]
    fn only_the_entered_thread_is_stopped() {
        let b = Budget::new(Duration::ZERO);
        assert!(!current_must_stop());
        {
            let _in = b.enter();
            assert!(current_must_stop());
            assert!(!std::thread::spawn(current_must_stop).join().unwrap());
        }
        assert!(!current_must_stop());
    }
}
