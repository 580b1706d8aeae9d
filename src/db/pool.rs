//! The serving pool: read-only connections, each with the statement time budget of the server
//! (PostgreSQL `statement_timeout`; SQLite's progress handler reads the request's budget) and, on
//! PostgreSQL, the process id of its backend (what a cancellation names).

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

use super::stats::DbStats;
use super::{DbConn, DbError, DbUrl, connect};

/// A pooled connection, and whether a failure left it unusable.
///
/// The pool does not test a connection with a query each time it hands it out (on PostgreSQL that
/// would be one more round trip per request); a connection whose query failed at the transport
/// level is marked here instead and dropped when it returns to the pool.
pub struct PoolConn {
    conn: DbConn,
    broken: bool,
    backend_pid: Option<i32>,
}

impl std::ops::Deref for PoolConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl PoolConn {
    /// Whether `e` (a failure of this connection) says the link to the database is gone; if so
    /// the connection is marked for disposal. When the error does not say, PostgreSQL is asked
    /// (`SELECT 1`): a backend terminated by a restart reports an ordinary error first.
    pub fn lost(&mut self, e: &DbError) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        let said = matches!(
            e,
            DbError::Query(
                Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
                    | Error::BrokenTransactionManager
            )
        );
        let lost = said || (self.backend_pid.is_some() && self.conn.batch_execute("SELECT 1").is_err());
        self.broken |= lost;
        lost
    }

    /// The PostgreSQL backend process serving this connection (none on SQLite).
    pub fn backend_pid(&self) -> Option<i32> {
        self.backend_pid
    }
}

#[derive(QueryableByName)]
struct BackendPid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// How serving connections are made.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections.
    pub size: u32,
    /// Longest statement on PostgreSQL (`statement_timeout`).
    pub statement_timeout: Duration,
    /// SQLite: bytes of the database file each connection reads through a memory map
    /// (`PRAGMA mmap_size`; 0, the default, reads it with `pread` into each connection's page cache).
    pub sqlite_mmap_bytes: u64,
    /// Where the connections count the statements they run and prepare.
    pub stats: Arc<DbStats>,
}

/// r2d2 manager that builds connections by URL scheme.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
    statement_timeout: Duration,
    sqlite_mmap_bytes: u64,
    stats: Arc<DbStats>,
}

impl ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = DbError;

    fn connect(&self) -> Result<PoolConn, DbError> {
        let mut conn = connect(&self.url, true)?;
        let stats = self.stats.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { .. } => stats.started(),
            InstrumentationEvent::CacheQuery { .. } => stats.cached(),
            _ => {}
        });
        let (conn, backend_pid) = match conn {
            DbConn::Postgresql(mut pg) => {
                let ms = self.statement_timeout.as_millis().max(1);
                pg.batch_execute(&format!("SET statement_timeout = {ms}"))?;
                let pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<BackendPid>(&mut pg)?;
                (DbConn::Postgresql(pg), Some(pid.pid))
            }
            DbConn::Sqlite(mut lite) if self.sqlite_mmap_bytes > 0 => {
                lite.batch_execute(&format!("PRAGMA mmap_size = {}", self.sqlite_mmap_bytes))?;
                (DbConn::Sqlite(lite), None)
            }
            other => (other, None),
        };
        Ok(PoolConn { conn, broken: false, backend_pid })
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.broken
    }
}

/// The serving pool.
pub type DbPool = r2d2::Pool<Manager>;

/// Builds a pool of read-only connections (not tested on checkout: see [`PoolConn`]). Waits for
/// a connection are bounded by each caller (`get_timeout`).
pub fn read_only_pool(url: &DbUrl, settings: PoolSettings) -> Result<DbPool, DbError> {
    builder(&settings).build(manager(url, settings)).map_err(DbError::from)
}

/// A pool over a read replica: it may be unreachable now (the pool connects when it can, and
/// says nothing while it cannot: `servers` reports a replica's state when it changes).
pub fn replica_pool(url: &DbUrl, settings: PoolSettings) -> DbPool {
    builder(&settings).error_handler(Box::new(r2d2::NopErrorHandler)).build_unchecked(manager(url, settings))
}

fn builder(settings: &PoolSettings) -> r2d2::Builder<Manager> {
    r2d2::Pool::builder()
        .max_size(settings.size.max(1))
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
}

fn manager(url: &DbUrl, settings: PoolSettings) -> Manager {
    Manager {
        url: url.clone(),
        statement_timeout: settings.statement_timeout,
        sqlite_mmap_bytes: settings.sqlite_mmap_bytes,
        stats: settings.stats,
    }
}
