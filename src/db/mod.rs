//! Database access: one code base for SQLite and PostgreSQL through diesel's `MultiConnection`.
//!
//! The backend is chosen from the URL scheme ([`DbUrl`], parsed in `config`). Serving connections are read-only (SQLite `query_only`, PostgreSQL
//! `default_transaction_read_only`), so no consumer request can change data even through a bug.

pub mod budget;
pub mod ident;
pub mod in_place;
pub mod migrate;
mod pool;
pub mod read;
pub mod rows;
pub mod run;
pub mod schema;
pub mod servers;
pub mod sql;
mod sqlite_progress;
pub mod stats;
pub mod totals;
pub mod write;

pub use crate::config::database::{Backend, DbUrl};
pub use pool::{DbPool, PoolConn, PoolSettings, read_only_pool, replica_pool};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Postgresql(diesel::PgConnection),
    /// SQLite (bundled).
    Sqlite(diesel::SqliteConnection),
}

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL has no supported scheme.
    #[error(transparent)]
    BadUrl(#[from] crate::config::database::BadDatabaseUrl),
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The pool could not hand out a connection.
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The request's time budget stopped the work (deadline passed, or nobody waits any more).
    #[error("stopped by the request's time budget: {0:?}")]
    Stopped(budget::Stop),
    /// Stored data does not read back as this version writes it (damaged, or written by another).
    #[error("stored data unreadable: {0}")]
    Unreadable(String),
    /// The connection to the database was lost (and, where it was retried, lost again).
    #[error("the connection to the database was lost: {0}")]
    Lost(String),
}

/// Opens one connection, read-write or read-only, and applies the per-connection settings.
pub fn connect(url: &DbUrl, read_only: bool) -> Result<DbConn, DbError> {
    sqlite_progress::install();
    let mut conn = match url.backend {
        Backend::Sqlite => DbConn::Sqlite(diesel::SqliteConnection::establish(&url.target)?),
        Backend::Postgres => DbConn::Postgresql(diesel::PgConnection::establish(&url.target)?),
    };
    let init = match (url.backend, read_only) {
        (Backend::Sqlite, false) => {
            // Writers (import, migrate) run large transactions: a 768 MiB page cache keeps most pages of
            // a national import in memory until commit instead of spilling them to a growing WAL, and
            // the import's resident size under 1 GB (914 MB on the France set, against 1.2 GB and about
            // 3% faster with 1 GiB; 627 MB and slower still with 512 MiB: BENCHMARKS.md).
            // A database the writer creates gets 16 KiB pages (an existing one keeps its own): a place's
            // row (~9 KB before its figures were packed) then fitted in one page instead of a page and
            // two overflow pages (the S1 walk +25%, S2 -8-11% at 12k; $export at 120k from 66k to ~100k
            // resources/s: BENCHMARKS.md).
            "PRAGMA page_size = 16384; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -786432; PRAGMA temp_store = MEMORY;"
        }
        (Backend::Sqlite, true) => {
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; PRAGMA cache_size = -8000;"
        }
        (Backend::Postgres, false) => "SET client_min_messages = WARNING;",
        // Serving connections plan for short reads of a database held in memory: random reads cost
        // about what sequential ones do (so a page walks an index and looks its rows up, rather than
        // merging a scan of a whole table), and no statement is split over parallel workers (their
        // start-up, 4-6 ms, exceeds a page's own time). A région's page of the regulator's query
        // at 120k places: 23 ms p50 with the server's defaults, 17.5 ms with these (BENCHMARKS.md).
        // Prepared statements keep one plan made without their values (see `read::in_snapshot`).
        (Backend::Postgres, true) => {
            "SET client_min_messages = WARNING; SET default_transaction_read_only = on; \
             SET default_transaction_isolation = 'repeatable read'; \
             SET random_page_cost = 1.1; SET max_parallel_workers_per_gather = 0; \
             SET plan_cache_mode = force_generic_plan;"
        }
    };
    conn.batch_execute(init)?;
    Ok(conn)
}
