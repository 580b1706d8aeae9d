//! Database access: one code base for SQLite and PostgreSQL through diesel's `MultiConnection`.
//!
//! The backend is chosen from the URL scheme (`sqlite://` or `postgres://`), never by trying
//! each backend in turn. Serving connections are read-only (SQLite `query_only`, PostgreSQL
//! `default_transaction_read_only`), so no consumer request can change data even through a bug.

pub mod explain;
pub mod migrate;
pub mod read;
pub mod rows;
pub mod schema;
pub mod write;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Postgresql(diesel::PgConnection),
    /// SQLite (bundled).
    Sqlite(diesel::SqliteConnection),
}

/// Which backend a URL designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// The backend.
    pub backend: Backend,
    /// What the driver receives: a file path for SQLite, the URL for PostgreSQL.
    pub target: String,
}

/// Errors of this layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL has no supported scheme.
    #[error("unsupported database URL (expected sqlite://PATH or postgres://…)")]
    BadUrl,
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
}

impl DbUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(DbError::BadUrl);
            }
            return Ok(Self { backend: Backend::Sqlite, target: path.to_owned() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, target: url.to_owned() });
        }
        Err(DbError::BadUrl)
    }

    /// A URL safe to print: the PostgreSQL password, if any, is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => redact_password(&self.target),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Opens one connection, read-write or read-only, and applies the per-connection settings.
pub fn connect(url: &DbUrl, read_only: bool) -> Result<DbConn, DbError> {
    let mut conn = match url.backend {
        Backend::Sqlite => DbConn::Sqlite(diesel::SqliteConnection::establish(&url.target)?),
        Backend::Postgres => DbConn::Postgresql(diesel::PgConnection::establish(&url.target)?),
    };
    let init = match (url.backend, read_only) {
        (Backend::Sqlite, false) => {
            // Writers (import, migrate) run large transactions: a 1 GiB page cache keeps the pages of a
            // national import in memory until commit instead of spilling them to a growing WAL.
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY;"
        }
        (Backend::Sqlite, true) => {
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; PRAGMA cache_size = -8000;"
        }
        (Backend::Postgres, false) => "SET client_min_messages = WARNING;",
        (Backend::Postgres, true) => {
            "SET client_min_messages = WARNING; SET default_transaction_read_only = on; \
             SET default_transaction_isolation = 'repeatable read';"
        }
    };
    conn.batch_execute(init)?;
    Ok(conn)
}

/// A pooled connection, and whether a failure left it unusable.
///
/// The pool does not test a connection with a query each time it hands it out (on PostgreSQL that
/// would be one more round trip per request); a connection whose query failed at the transport
/// level is marked here instead and dropped when it returns to the pool.
pub struct PoolConn {
    conn: DbConn,
    broken: bool,
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
    /// Marks the connection for disposal if `e` says the link to the database is gone.
    pub fn note_failure(&mut self, e: &DbError) {
        use diesel::result::{DatabaseErrorKind, Error};
        if let DbError::Query(
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
            | Error::BrokenTransactionManager,
        ) = e
        {
            self.broken = true;
        }
    }
}

/// r2d2 manager that builds connections by URL scheme.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
    read_only: bool,
}

impl ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = DbError;

    fn connect(&self) -> Result<PoolConn, DbError> {
        Ok(PoolConn { conn: connect(&self.url, self.read_only)?, broken: false })
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

/// Builds a pool of read-only connections (not tested on checkout: see [`PoolConn`]).
pub fn read_only_pool(url: &DbUrl, size: u32) -> Result<DbPool, DbError> {
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .test_on_check_out(false)
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(Manager { url: url.clone(), read_only: true })
        .map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_by_scheme() {
        let u = DbUrl::parse("sqlite://./x.db").unwrap();
        assert_eq!(u.backend, Backend::Sqlite);
        assert_eq!(u.target, "./x.db");
        let u = DbUrl::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(u.backend, Backend::Postgres);
        assert_eq!(u.redacted(), "postgres://u:***@h/db");
        assert!(DbUrl::parse("x.db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("mysql://h/db").is_err());
    }
}
