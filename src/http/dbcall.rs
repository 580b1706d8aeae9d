//! Database work from a handler: run on the blocking threads within the request's time budget,
//! stopped when the request is dropped (the client went away), failures mapped to answers.

use std::sync::Arc;

use actix_web::{HttpRequest, web};

use super::AppState;
use super::peer::PeerSocket;
use crate::db::budget::{Budget, Stop};
use crate::db::run::Runner;
use crate::db::{DbConn, DbError};
use crate::error::AppError;

/// How often a request waiting for the database checks that its client is still there.
const PEER_CHECK: std::time::Duration = std::time::Duration::from_millis(200);

/// Cancels the request's database work if the handler's future is dropped before it finished.
struct StopWhenDropped {
    budget: Arc<Budget>,
    runner: Arc<Runner>,
    done: bool,
}

impl Drop for StopWhenDropped {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.budget.cancel();
        if self.runner.cancels_remotely() && self.budget.running().is_some() {
            let (runner, budget) = (self.runner.clone(), self.budget.clone());
            // One round trip to PostgreSQL: not on the async thread that dropped the request.
            let spawned =
                std::thread::Builder::new().name("ror-cancel".into()).spawn(move || runner.cancel_running(&budget));
            if let Err(e) = spawned {
                log::warn!("cannot start a thread to cancel a statement: {e}");
            }
        }
    }
}

/// Runs `f` with a pooled read-only connection on the blocking thread pool, within the server's
/// statement budget; stops it if the request goes away first.
pub async fn with_conn<T, F>(req: &HttpRequest, state: &web::Data<AppState>, f: F) -> Result<T, AppError>
where
    F: Fn(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let budget = Budget::new(state.statement_budget);
    let mut guard = StopWhenDropped { budget: budget.clone(), runner: state.db.clone(), done: false };
    let runner = state.db.clone();
    let peer = req.conn_data::<PeerSocket>().cloned();
    let work = web::block(move || runner.run(&budget, &f));
    let mut work = std::pin::pin!(work);
    let result = loop {
        match tokio::time::timeout(PEER_CHECK, &mut work).await {
            Ok(r) => break r,
            Err(_) if peer.as_ref().is_some_and(PeerSocket::gone) => {
                log::info!(request_id = super::request_id_of(req); "the client went away: its database work is stopped");
                return Err(AppError::Unavailable); // `guard` cancels the work
            }
            Err(_) => {}
        }
    };
    guard.done = true;
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(db_failure(req, state, &e)),
        Err(e) => {
            log::error!(request_id = super::request_id_of(req); "blocking task failed: {e}");
            Err(AppError::Internal)
        }
    }
}

/// As [`with_conn`], for `small` work: bounded by construction to a few index probes (a read by
/// id, a lookup of a few identifiers). On SQLite, with a connection idle, it runs on the
/// handler's own thread: handing it to a blocking thread and back would cost two wake-ups, more
/// than the work (BENCHMARKS.md, issue 13). Otherwise, and for any other work, as [`with_conn`].
pub async fn with_conn_if_small<T, F>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    small: bool,
    f: F,
) -> Result<T, AppError>
where
    F: Fn(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    if small {
        let budget = Budget::new(state.statement_budget);
        if let Some(out) = state.db.run_here(&budget, &f) {
            return out.map_err(|e| db_failure(req, state, &e));
        }
    }
    with_conn(req, state, f).await
}

fn db_failure(req: &HttpRequest, state: &AppState, e: &DbError) -> AppError {
    let id = super::request_id_of(req);
    match e {
        DbError::Pool(_) => {
            log::error!(request_id = id; "no database connection within the wait: {e}");
            AppError::Unavailable
        }
        DbError::Lost(_) => {
            log::error!(request_id = id; "{e}");
            AppError::Unavailable
        }
        DbError::Stopped(Stop::Deadline) => {
            log::warn!(request_id = id; "stopped at its time budget");
            AppError::TooCostly(format!(
                "the request did not finish within its time budget ({} ms); narrow the search \
                 (fewer values, fewer :contains, a smaller _count) and retry",
                state.statement_budget.as_millis()
            ))
        }
        DbError::Stopped(Stop::Cancelled) => {
            log::info!(request_id = id; "stopped: the client went away");
            AppError::Unavailable
        }
        _ => {
            log::error!(request_id = id; "database error: {e}");
            AppError::Internal
        }
    }
}
