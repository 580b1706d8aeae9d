//! The database servers requests read from: the primary and, optionally, PostgreSQL streaming
//! replicas of it (`--read-database-url`).
//!
//! Reads go to the usable replicas in turn. A replica that fails (its connection is lost, or no
//! connection can be made) is set aside at once and the request is run on the next one, then on
//! the primary: a replica going away costs the requests it was serving one retry each, never an
//! error. A probe thread tries the replicas set aside once a second and brings each back when it
//! answers. Every server holds the same data once replicated (the generation, ETags and cursors
//! are read from the data itself), so a consumer's successive pages may come from different ones.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{Backend, DbPool, DbUrl};

/// How often replicas set aside are tried again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// One server: its pool, and how to cancel a statement running there.
pub struct Server {
    /// Read-only connections to it.
    pub pool: DbPool,
    url: DbUrl,
    replica: bool,
    down: AtomicBool,
    canceller: Option<Canceller>,
}

impl Server {
    fn new(url: DbUrl, pool: DbPool, replica: bool) -> Self {
        let canceller = (url.backend == Backend::Postgres).then(|| Canceller::new(url.clone()));
        Self { pool, url, replica, down: AtomicBool::new(false), canceller }
    }

    /// Whether this server is a replica (a failure sets it aside instead of failing the request).
    pub fn is_replica(&self) -> bool {
        self.replica
    }

    /// Whether stopping a statement here needs [`Server::cancel`] (PostgreSQL).
    pub fn cancels_remotely(&self) -> bool {
        self.canceller.is_some()
    }

    /// Stops the statement of PostgreSQL backend `pid` on this server (one round trip).
    pub fn cancel(&self, pid: i32) {
        if let Some(c) = &self.canceller {
            c.cancel(pid);
        }
    }
}

/// What `/ready` says of one replica: its rank among the `--read-database-url` given (from 1), not
/// its address (`/ready` answers clients that presented no certificate; the log names it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaState {
    /// Its rank.
    pub replica: usize,
    /// `up` (reads go to it) or `down` (set aside until it answers again).
    pub state: &'static str,
}

/// The primary (index 0) and the replicas.
pub struct Servers {
    all: Vec<Server>,
    turn: AtomicUsize,
}

impl Servers {
    /// The servers, replicas after the primary. Replicas that cannot be reached now are set aside
    /// (the server starts all the same) and a probe thread brings them back; it ends with the
    /// last holder of the returned value.
    pub fn new(primary: (DbUrl, DbPool), replicas: Vec<(DbUrl, DbPool)>) -> Arc<Self> {
        let mut all = vec![Server::new(primary.0, primary.1, false)];
        all.extend(replicas.into_iter().map(|(url, pool)| Server::new(url, pool, true)));
        let servers = Arc::new(Self { all, turn: AtomicUsize::new(0) });
        if servers.all.len() > 1 {
            for i in 1..servers.all.len() {
                if let Err(e) = probe(&servers.all[i].url) {
                    servers.set_down(i, &e);
                }
            }
            spawn_prober(Arc::downgrade(&servers));
        }
        servers
    }

    /// Whether reads go to one embedded database (SQLite: no replica, and a statement is the
    /// database's own work, never a wait on another process).
    pub fn embedded_only(&self) -> bool {
        self.all.len() == 1 && self.all[0].url.backend == Backend::Sqlite
    }

    /// Server `i` (as given by [`Servers::order`]).
    pub fn get(&self, i: usize) -> &Server {
        &self.all[i.min(self.all.len() - 1)]
    }

    /// The servers to try for one request, in order: the usable replicas, starting with the next
    /// one in turn, then the primary.
    pub fn order(&self) -> Vec<usize> {
        let n = self.all.len() - 1;
        let mut order = Vec::with_capacity(n + 1);
        if n > 0 {
            let start = self.turn.fetch_add(1, Ordering::Relaxed);
            order.extend((0..n).map(|k| 1 + (start + k) % n).filter(|&i| !self.all[i].down.load(Ordering::Relaxed)));
        }
        order.push(0);
        order
    }

    /// Sets replica `i` aside until the probe finds it answering again.
    pub fn set_down(&self, i: usize, why: &dyn std::fmt::Display) {
        let s = self.get(i);
        if s.replica && !s.down.swap(true, Ordering::Relaxed) {
            let (url, why) = (s.url.redacted(), one_line(why));
            log::warn!("read replica {url} set aside ({why}): reads go elsewhere until it answers");
        }
    }

    /// The replicas' states, for `/ready` (empty without replicas).
    pub fn replica_states(&self) -> Vec<ReplicaState> {
        self.replicas()
            .enumerate()
            .map(|(i, s)| ReplicaState {
                replica: i + 1,
                state: if s.down.load(Ordering::Relaxed) { "down" } else { "up" },
            })
            .collect()
    }

    /// Each server's pool (open connections, idle ones) and whether reads go to it, the primary
    /// first.
    pub fn pool_states(&self) -> Vec<(u32, u32, bool)> {
        self.all
            .iter()
            .map(|s| {
                let st = s.pool.state();
                (st.connections, st.idle_connections, !s.down.load(Ordering::Relaxed))
            })
            .collect()
    }

    fn replicas(&self) -> impl Iterator<Item = &Server> {
        self.all.iter().filter(|s| s.replica)
    }
}

/// `e` on one line (libpq's messages span several).
fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Connects to `url` on a connection of its own and asks it a trivial question, giving up after
/// [`PROBE_CONNECT_SECS`] when the URL sets no `connect_timeout` (a host that drops packets would
/// otherwise hold the start, or the probe thread, for the system's TCP timeout).
fn probe(url: &DbUrl) -> Result<(), super::DbError> {
    let mut conn = super::connect(&bounded(url), true)?;
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Seconds a probe waits for a replica's connection.
const PROBE_CONNECT_SECS: u32 = 3;

/// `url` with libpq's `connect_timeout` set, unless it sets one.
pub fn bounded(url: &DbUrl) -> DbUrl {
    if url.backend != Backend::Postgres || url.target.contains("connect_timeout=") {
        return url.clone();
    }
    let sep = if url.target.contains('?') { '&' } else { '?' };
    DbUrl { backend: url.backend, target: format!("{}{sep}connect_timeout={PROBE_CONNECT_SECS}", url.target) }
}

fn spawn_prober(servers: Weak<Servers>) {
    let spawned = std::thread::Builder::new().name("ror-replicas".into()).spawn(move || {
        loop {
            std::thread::sleep(PROBE_EVERY);
            let Some(servers) = servers.upgrade() else { return };
            for s in servers.replicas().filter(|s| s.down.load(Ordering::Relaxed)) {
                if probe(&s.url).is_ok() {
                    s.down.store(false, Ordering::Relaxed);
                    log::info!("read replica {} answers again: reads go to it", s.url.redacted());
                }
            }
        }
    });
    if let Err(e) = spawned {
        log::error!("cannot start the thread that watches the read replicas: {e}");
    }
}

/// Cancels PostgreSQL statements over a control connection of its own.
struct Canceller {
    url: DbUrl,
    control: Mutex<Option<diesel::PgConnection>>,
}

impl Canceller {
    fn new(url: DbUrl) -> Self {
        Self { url, control: Mutex::new(None) }
    }

    /// Sends `pg_cancel_backend(pid)`. PostgreSQL ignores a cancellation that reaches an idle
    /// backend, so one that arrives after the statement ended stops nothing.
    fn cancel(&self, pid: i32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_server(dir: &std::path::Path, name: &str) -> (DbUrl, DbPool) {
        let url = DbUrl::parse(&format!("sqlite://{}", dir.join(name).display())).unwrap();
        let settings = super::super::PoolSettings {
            size: 1,
            statement_timeout: Duration::from_secs(1),
            sqlite_mmap_bytes: 0,
            stats: Default::default(),
        };
        let pool = super::super::replica_pool(&url, settings);
        (url, pool)
    }

    #[test]
    fn replicas_take_turns_and_one_set_aside_is_skipped() {
        let dir = std::env::temp_dir().join(format!("ror-servers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let primary = sqlite_server(&dir, "primary.db");
        let replicas = vec![sqlite_server(&dir, "a.db"), sqlite_server(&dir, "b.db")];
        let servers = Servers::new(primary, replicas);
        assert_eq!(servers.order(), [1, 2, 0]);
        assert_eq!(servers.order(), [2, 1, 0]);
        servers.set_down(1, &"test");
        assert_eq!(servers.order(), [2, 0]);
        assert_eq!(servers.order(), [2, 0]);
        servers.set_down(0, &"the primary is never set aside");
        let states = servers.replica_states();
        assert_eq!(states.iter().map(|r| (r.replica, r.state)).collect::<Vec<_>>(), [(1, "down"), (2, "up")]);
        assert!(servers.order().ends_with(&[0]));
        // The probe finds it answering and brings it back.
        std::thread::sleep(PROBE_EVERY * 3);
        assert_eq!(servers.replica_states().iter().map(|r| r.state).collect::<Vec<_>>(), ["up", "up"]);
        assert_eq!(servers.order().len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn probes_give_up_after_a_few_seconds() {
        let url = |u: &str| DbUrl::parse(u).unwrap();
        assert_eq!(bounded(&url("postgres://h/db")).target, "postgres://h/db?connect_timeout=3");
        assert_eq!(
            bounded(&url("postgres://h/db?sslmode=disable")).target,
            "postgres://h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(bounded(&url("postgres://h/db?connect_timeout=9")).target, "postgres://h/db?connect_timeout=9");
        assert_eq!(bounded(&url("sqlite:///tmp/x.db")).target, "/tmp/x.db");
    }

    #[test]
    fn without_replicas_the_primary_serves() {
        let dir = std::env::temp_dir().join(format!("ror-servers-alone-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let servers = Servers::new(sqlite_server(&dir, "primary.db"), Vec::new());
        assert_eq!(servers.order(), [0]);
        assert!(servers.replica_states().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
