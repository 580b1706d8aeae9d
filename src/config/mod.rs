//! Typed server configuration: plain data, parsed and checked once in `main` (or built by tests)
//! and passed to the server, which makes its live objects (pools, the consumer registry, TLS) from
//! it. No global state: tests start servers with different configurations in one process.

pub mod database;
pub mod file;

use std::net::SocketAddr;

use crate::auth::AuthMode;
use crate::auth::mtls::TlsConfig;
use crate::auth::policy::Profile;
pub use crate::search::limits::SearchLimits;
use database::{Backend, DbUrl};

/// Default database: an SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://ror-capacity.db";

/// Admission control: how many requests are handled at once, how many may wait, how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionLimits {
    /// Requests handled at once (over all workers).
    pub max_in_flight: usize,
    /// Requests waiting for a place, beyond which they are shed at once.
    pub max_queue: usize,
    /// Longest wait for a place (a request predicted to wait longer is shed at once).
    pub max_wait: std::time::Duration,
}

impl AdmissionLimits {
    /// The defaults for a pool of `pool_size` connections: 512 waiting, 500 ms of wait, and in
    /// flight two requests per connection on SQLite (one on the database, one composing or being
    /// sent: SQLite's work is the server's own CPU) or four on PostgreSQL (its requests wait on
    /// round trips, and the workers need more of them ready: two per connection cost S2 at 16
    /// connections 15% of its throughput, four cost SQLite's overload peak RSS 36%; BENCHMARKS.md).
    pub fn for_pool(pool_size: u32, backend: Backend) -> Self {
        let per_connection = match backend {
            Backend::Postgres => 4,
            Backend::Sqlite => 2,
        };
        Self {
            max_in_flight: usize::try_from(pool_size).unwrap_or(8).saturating_mul(per_connection).max(1),
            max_queue: 512,
            max_wait: std::time::Duration::from_millis(500),
        }
    }
}

/// Bulk Data exports: where jobs and files are kept, how long, how many at once.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// Folder of the jobs' records and files (`None`: a temporary folder removed when the server
    /// stops, so jobs do not survive a restart; the command line always names one).
    pub dir: Option<std::path::PathBuf>,
    /// How long a finished job's files stay downloadable.
    pub expiry: std::time::Duration,
    /// Unfinished jobs (queued or running) at once, over all consumers.
    pub max_jobs: usize,
    /// Unfinished jobs at once per consumer.
    pub max_jobs_per_consumer: usize,
    /// Jobs written at once (each on a thread and a database connection of its own). With 0,
    /// jobs are accepted and queued but not written until a start with workers.
    pub workers: usize,
    /// The delay a poller is told to wait (`Retry-After`); polls of an unfinished job sooner
    /// than half of it after the previous one are answered 429.
    pub poll_interval: std::time::Duration,
    /// Rows read per statement while writing.
    pub page: usize,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            dir: None,
            expiry: std::time::Duration::from_secs(24 * 3600),
            max_jobs: 4,
            max_jobs_per_consumer: 1,
            workers: 1,
            poll_interval: std::time::Duration::from_secs(2),
            page: 1000,
        }
    }
}

/// Everything the HTTP server needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0 picks a free port).
    pub bind: SocketAddr,
    /// The database (`sqlite://PATH` or `postgres://…`).
    pub database: DbUrl,
    /// PostgreSQL streaming replicas of `database` that searches and reads go to (in turn; the
    /// primary when none answers). Import, migrations and `$export` use the primary.
    pub read_databases: Vec<DbUrl>,
    /// Connections in the read-only serving pool (of each server, with replicas).
    pub pool_size: u32,
    /// SQLite: MiB of the database file the serving connections read through a memory map (0: none).
    pub sqlite_mmap_mb: u64,
    /// HTTP worker threads.
    pub workers: usize,
    /// Time budget of one request's database work (each PostgreSQL statement; all of a
    /// request's SQLite statements together). Past it: 400 `too-costly`.
    pub statement_timeout: std::time::Duration,
    /// Longest wait for a pooled connection (503 past it).
    pub pool_wait: std::time::Duration,
    /// Admission control.
    pub admission: AdmissionLimits,
    /// Open connections at most (over all workers); further ones wait in the listen backlog.
    pub max_connections: usize,
    /// Public base URL of the FHIR endpoint (e.g. `https://host/fhir`); derived from the request when unset.
    pub base_url: Option<String>,
    /// Secret for the HMAC that signs paging cursors; random per process when unset.
    pub cursor_secret: Option<Vec<u8>>,
    /// Search limits.
    pub limits: SearchLimits,
    /// Server certificate and client trust; `None` serves plain HTTP (development, loopback only).
    pub tls: Option<TlsConfig>,
    /// How consumers are identified.
    pub auth: AuthMode,
    /// Bytes of remembered search totals, and as many of remembered answer validators
    /// (`service::memo`; 0: nothing is remembered).
    pub count_memo_bytes: u64,
    /// Bulk Data exports.
    pub export: ExportSettings,
    /// On SIGTERM or SIGINT: how long requests in flight may take to finish once the listener is
    /// closed (then the server exits, cutting those left).
    pub shutdown_grace: std::time::Duration,
    /// The admin listener (`/health`, `/ready`, `/metrics`; plain HTTP, no client certificate),
    /// `None`: not served.
    pub admin_bind: Option<SocketAddr>,
    /// Whether the admin listener may listen off loopback.
    pub admin_remote: bool,
    /// Benchmarks only: serve `GET /bench/ceiling`, a fixed FHIR JSON body of this many bytes, through
    /// the same TLS, middleware and authentication (the ceiling the API's figures are compared to).
    pub bench_ceiling_bytes: Option<usize>,
}

impl ServerConfig {
    /// A configuration for `database` with every other setting at its default: plain HTTP
    /// and every request treated as a profile-1 consumer, which `startup` accepts on loopback only.
    pub fn new(bind: SocketAddr, database: DbUrl) -> Self {
        Self {
            bind,
            admission: AdmissionLimits::for_pool(8, database.backend),
            database,
            read_databases: Vec::new(),
            pool_size: 8,
            sqlite_mmap_mb: 0,
            workers: 2,
            statement_timeout: std::time::Duration::from_secs(5),
            pool_wait: std::time::Duration::from_secs(1),
            max_connections: 1024,
            base_url: None,
            cursor_secret: None,
            limits: SearchLimits::default(),
            tls: None,
            auth: AuthMode::Insecure { profile: Profile::EVERYTHING },
            bench_ceiling_bytes: None,
            admin_bind: None,
            admin_remote: false,
            shutdown_grace: std::time::Duration::from_secs(30),
            export: ExportSettings::default(),
            count_memo_bytes: 16 << 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AdmissionLimits;
    use super::database::Backend;

    #[test]
    fn requests_in_flight_follow_the_backend() {
        assert_eq!(AdmissionLimits::for_pool(8, Backend::Sqlite).max_in_flight, 16);
        assert_eq!(AdmissionLimits::for_pool(8, Backend::Postgres).max_in_flight, 32);
        assert_eq!(AdmissionLimits::for_pool(4, Backend::Postgres).max_in_flight, 16);
        assert_eq!(AdmissionLimits::for_pool(0, Backend::Sqlite).max_in_flight, 1);
    }
}
