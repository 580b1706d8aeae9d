//! Building and starting the HTTP server. Startup is split so TLS can slot in: the listener is
//! bound here from a [`ServerConfig`], and the App factory is the same for every transport.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::mtls::{self, TlsError};
use crate::auth::{AuthMode, Authenticator};
use crate::config::ServerConfig;
use crate::db::stats::DbStats;
use crate::db::{self, DbError, DbUrl};
use crate::http::telemetry::AuditCapture;
use crate::http::{self, AppState};

/// Export files sent at once (each on a thread of its own).
const MAX_DOWNLOADS: usize = 16;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Database problem.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Socket problem.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// TLS set-up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The consumer registry does not load.
    #[error("consumer registry: {0}")]
    Registry(String),
    /// A configuration that would expose data.
    #[error("refusing to start: {0}")]
    Unsafe(String),
    /// Settings that do not go together.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The export directory cannot be used.
    #[error("export directory: {0}")]
    Export(String),
    /// The system random generator failed: no unguessable cursor key can be made.
    #[error("refusing to start: the system random generator failed ({0}); set ROR_CURSOR_SECRET or fix the system")]
    Random(String),
}

/// Applies pending migrations with a read-write connection (the serving pool is read-only), and
/// packs the figures of places stored before they were packed (in one transaction). Then brings places stored by an earlier version, or lacking a view of the current access
/// policy, to the current form (in one transaction), and re-derives a search index written by an
/// earlier version (in another).
pub fn migrate(url: &DbUrl) -> Result<Vec<String>, DbError> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut conn = db::connect(url, false)?;
    if matches!(conn, db::DbConn::Sqlite(_)) {
        // The checks below read every place and view: with the writers' 1 GiB page cache, the
        // pages they read stayed in memory until the connection closed (a server starting on the
        // France set peaked at 385 MB before serving anything).
        conn.batch_execute("PRAGMA cache_size = -32768")?;
    }
    let applied = db::migrate::run_pending(&mut conn)?;
    let packed = conn.transaction::<_, DbError, _>(db::write::pack_stored_pieces)?;
    if packed > 0 {
        log::info!("packed the capacity figures of {packed} places (LZ4)");
    }
    let upgraded = conn.transaction::<_, DbError, _>(|c| changed(c, db::write::upgrade_legacy_locations))?;
    if upgraded > 0 {
        log::info!(
            "rewrote {upgraded} places in the current form (per-view lastUpdated, identity-based Observation ids)"
        );
    }
    let reindexed = conn.transaction::<_, DbError, _>(|c| changed(c, db::write::reindex_if_stale))?;
    if reindexed > 0 {
        log::info!("re-derived the search index of {reindexed} stored places and offers (new search parameters)");
    }
    Ok(applied)
}

/// Runs `rewrite`; when it rewrote rows, what consumers read may differ (a new generation).
fn changed(conn: &mut db::DbConn, rewrite: fn(&mut db::DbConn) -> Result<usize, DbError>) -> Result<usize, DbError> {
    let n = rewrite(conn)?;
    if n > 0 {
        db::write::advance_generation(conn)?;
    }
    Ok(n)
}

/// A random 32-byte key from `fill` (the system generator). When it fails there is no fallback:
/// a key derived from anything guessable (the time) would let clients forge cursors.
fn random_secret(
    fill: impl FnOnce(&mut [u8]) -> Result<(), openssl::error::ErrorStack>,
) -> Result<Vec<u8>, StartError> {
    let mut b = vec![0u8; 32];
    fill(&mut b).map_err(|e| StartError::Random(e.to_string()))?;
    Ok(b)
}

/// Refuses configurations that would expose the server without its protections.
fn check_safety(config: &ServerConfig) -> Result<(), StartError> {
    if config.tls.is_none() && !config.bind.ip().is_loopback() {
        return Err(StartError::Unsafe(format!(
            "plain HTTP is only served on loopback, not on {} (configure TLS)",
            config.bind
        )));
    }
    if let AuthMode::Insecure { profile } = &config.auth {
        if config.tls.is_some() {
            return Err(StartError::Unsafe("TLS without a consumer registry".into()));
        }
        log::warn!(
            "INSECURE: plain HTTP without client authentication; every request is treated as an access-profile-{} consumer. Development only.",
            profile.number()
        );
    }
    if let (AuthMode::Registry { proxy: Some(_), .. }, None) = (&config.auth, &config.tls) {
        return Err(StartError::Unsafe(
            "trusted proxies need TLS and --client-ca: the certificates they forward are verified against them".into(),
        ));
    }
    Ok(())
}

/// The serving pools: the primary's and, with read replicas, one per replica.
fn servers(config: &ServerConfig, stats: &Arc<DbStats>) -> Result<Arc<db::servers::Servers>, StartError> {
    let url = &config.database;
    let settings = db::PoolSettings {
        size: config.pool_size,
        statement_timeout: config.statement_timeout,
        sqlite_mmap_bytes: config.sqlite_mmap_mb.saturating_mul(1 << 20),
        stats: stats.clone(),
    };
    let all_postgres = std::iter::once(url).chain(&config.read_databases).all(|u| u.backend == db::Backend::Postgres);
    if !config.read_databases.is_empty() && !all_postgres {
        return Err(StartError::Config(
            "read replicas are PostgreSQL streaming replicas of a PostgreSQL primary: \
             --database-url and every --read-database-url must be postgres:// URLs"
                .into(),
        ));
    }
    let primary = db::read_only_pool(url, settings.clone())?;
    // A replica that drops packets holds a pool connection attempt a few seconds, not the TCP timeout.
    let replicas = config
        .read_databases
        .iter()
        .map(|r| (r.clone(), db::replica_pool(&db::servers::bounded(r), settings.clone())))
        .collect();
    Ok(db::servers::Servers::new((url.clone(), primary), replicas))
}

/// The state every request reads: the database runner (over a read-only pool), limits, links,
/// the cursor key and the trusted proxies.
fn app_state(config: &ServerConfig) -> Result<web::Data<AppState>, StartError> {
    use crate::service::memo::GenerationMemo;
    let url = &config.database;
    Ok(web::Data::new(AppState {
        db: {
            let stats = Arc::new(DbStats::default());
            Arc::new(db::run::Runner::new(servers(config, &stats)?, config.pool_wait).counting(stats))
        },
        statement_budget: config.statement_timeout,
        limits: config.limits.clone(),
        base_url: config.base_url.clone(),
        cursor_secret: match &config.cursor_secret {
            Some(s) => s.clone(),
            None => random_secret(openssl::rand::rand_bytes)?,
        },
        trusted_proxies: match &config.auth {
            AuthMode::Registry { proxy: Some(p), .. } => p.addresses.clone(),
            _ => Vec::new(),
        },
        counts: std::sync::Arc::new(GenerationMemo::new(config.count_memo_bytes)),
        tags: std::sync::Arc::new(GenerationMemo::new(config.count_memo_bytes)),
        areas: std::sync::Arc::default(),
        exports: Some(std::sync::Arc::new(
            crate::service::export::Exports::open(&config.export, url, &config.limits)
                .map_err(|e| StartError::Export(e.to_string()))?,
        )),
        downloads: http::stream::Streams::new(MAX_DOWNLOADS),
    }))
}

/// A built server: await `server` to run it (the admin listener, if any, runs with it).
pub struct Built {
    /// The FHIR listener.
    pub server: actix_web::dev::Server,
    /// Its address.
    pub addr: SocketAddr,
    /// The admin listener's address.
    pub admin: Option<SocketAddr>,
}

/// Builds the server on a migrated database (see [`migrate`], run once per start by the caller).
/// Call it within an actix system (it starts the admin listener there).
pub fn build(config: &ServerConfig) -> Result<Built, StartError> {
    build_with_audit(config, None)
}

/// [`build`], also copying each audit line into `audit` (besides the log).
pub fn build_with_audit(config: &ServerConfig, audit: Option<AuditCapture>) -> Result<Built, StartError> {
    let state = app_state(config)?;
    check_safety(config)?;
    let metrics = web::Data::new(http::metrics::Metrics::new());
    let authenticator = Authenticator::load(&config.auth).map_err(StartError::Registry)?;
    if let Authenticator::Registry { registry, .. } = &authenticator {
        registry.watch(std::time::Duration::from_secs(2));
    }
    let tls = match &config.tls {
        Some(tls) => Some(mtls::acceptor(tls)?),
        None => None,
    };
    let trust = tls.as_ref().map(|(_, trust)| {
        trust.watch(std::time::Duration::from_secs(2));
        web::Data::from(trust.clone())
    });
    let auth_mode = web::Data::new(authenticator);
    let admission = web::Data::new(http::admission::Admission::new(config.admission));
    http::release::watch(&admission);
    let shared =
        AdminData { state: &state, trust: trust.as_ref(), metrics: &metrics, admission: &admission, auth: &auth_mode };
    let admin = admin_listener(config, shared)?;
    let audit = audit.map(web::Data::new);
    let ceiling = config.bench_ceiling_bytes;
    if let Some(n) = ceiling {
        log::warn!("benchmark route /bench/ceiling enabled ({n} bytes)");
    }
    let listener = TcpListener::bind(config.bind)?;
    let addr = listener.local_addr()?;
    let workers = config.workers.max(1);
    let blocking_threads = usize::try_from(config.pool_size).unwrap_or(1).div_ceil(workers).max(1);
    let app = move || {
        let app = App::new();
        let app = match &audit {
            Some(a) => app.app_data(a.clone()),
            None => app,
        };
        let app = match &trust {
            Some(t) => app.app_data(t.clone()),
            None => app,
        };
        app.app_data(state.clone())
            .app_data(metrics.clone())
            .app_data(auth_mode.clone())
            .app_data(admission.clone())
            .app_data(web::PayloadConfig::new(256 * 1024))
            .wrap(from_fn(http::admission::admit))
            .wrap(from_fn(crate::http::authenticate::guard))
            .wrap(ErrorHandlers::new().default_handler(http::error::to_operation_outcome))
            .wrap(from_fn(http::compress::compress))
            .wrap(from_fn(http::telemetry::telemetry))
            .configure(|cfg| {
                if let Some(n) = ceiling {
                    crate::dev::ceiling::ceiling_route(cfg, n);
                }
                http::routes(cfg);
            })
    };
    let builder = actix_server::Server::build()
        .workers(workers)
        // Signals are the caller's (`http::shutdown::stop_on_signal` for the binary).
        .disable_signals()
        .shutdown_timeout(config.shutdown_grace.as_secs())
        .max_concurrent_connections(config.max_connections.div_ceil(workers).max(1))
        // Database work runs on each worker's blocking threads: more of them than pooled connections
        // would only queue on the pool (and cost context switches), so the pool is split between them.
        .worker_max_blocking_threads(blocking_threads);
    let on_connect: http::listener::OnConnect = |conn, ext| match conn {
        http::listener::Connection::Tls(ssl, tcp) => {
            mtls::on_connect(ssl, ext);
            http::peer::on_connect(tcp, ext);
        }
        http::listener::Connection::Plain(tcp) => http::peer::on_connect(tcp, ext),
    };
    let limits = http::listener::ConnectionLimits::default();
    let server = http::listener::listen(builder, listener, tls.map(|(a, _)| a), limits, on_connect, app)?;
    Ok(Built { server: server.run(), addr, admin })
}

/// What the admin listener reads of the FHIR listener's state.
struct AdminData<'a> {
    state: &'a web::Data<AppState>,
    trust: Option<&'a web::Data<crate::auth::trust::ClientTrust>>,
    metrics: &'a web::Data<http::metrics::Metrics>,
    admission: &'a web::Data<std::sync::Arc<http::admission::Admission>>,
    auth: &'a web::Data<Authenticator>,
}

/// Starts the admin listener of `config` (loopback unless allowed off it), if any, in the current
/// actix system; returns its address.
fn admin_listener(config: &ServerConfig, data: AdminData<'_>) -> Result<Option<SocketAddr>, StartError> {
    let Some(bind) = config.admin_bind else { return Ok(None) };
    if !config.admin_remote && !bind.ip().is_loopback() {
        return Err(StartError::Unsafe(format!(
            "the admin listener (plain HTTP, no client certificate) listens on loopback only, not on {bind} \
             (--admin-allow-remote to allow it)"
        )));
    }
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    let (state, trust, metrics) = (data.state.clone(), data.trust.cloned(), data.metrics.clone());
    let (admission, auth) = (data.admission.clone(), data.auth.clone());
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .app_data(admission.clone())
            .app_data(auth.clone());
        let app = match &trust {
            Some(t) => app.app_data(t.clone()),
            None => app,
        };
        app.configure(http::admin::routes)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    actix_web::rt::spawn(server);
    log::info!("admin listener (/health, /ready, /metrics) on http://{addr}");
    Ok(Some(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cursor_key_without_the_random_generator() {
        let failing = |_: &mut [u8]| Err(openssl::error::ErrorStack::get());
        assert!(matches!(random_secret(failing), Err(StartError::Random(_))));
        let key = random_secret(openssl::rand::rand_bytes).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(key, random_secret(openssl::rand::rand_bytes).unwrap());
    }
}
