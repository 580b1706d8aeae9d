//! Time budget, cancellation and admission control (issue 9, items 10 and 11), on real databases.
//!
//! Statements are made slow without timing anything: a PostgreSQL session holds an exclusive lock
//! on `locations` (every search then waits on it), or SQLite runs a query of hundreds of millions
//! of steps. Each check would hang or fail if the budget or the cancellation did not work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use ror_capacity::db::budget::{Budget, Stop};
use ror_capacity::db::run::Runner;
use ror_capacity::db::{self, DbError, PoolSettings};

use crate::helpers::{Backend, TestApp, TestDb, enc, issue_codes};

/// Many million steps on SQLite (minutes if nothing stops it).
const SQLITE_SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) \
                           SELECT count(*) FROM c";
const PG_SLOW: &str = "SELECT pg_sleep(30)";

/// A new database of `backend` (dropped with its guard at the end of the test), a runner of one
/// connection on it, and a statement that runs for long there.
fn runner(backend: Backend, statement_timeout: Duration) -> (TestDb, Runner, &'static str) {
    let test_db = TestDb::new(backend);
    let slow = match backend {
        Backend::Sqlite => SQLITE_SLOW,
        Backend::Postgres => PG_SLOW,
    };
    let url = test_db.db_url();
    let pool = db::read_only_pool(
        &url,
        PoolSettings { size: 1, statement_timeout, sqlite_mmap_bytes: 0, stats: Default::default() },
    )
    .unwrap();
    let servers = db::servers::Servers::new((url, pool), Vec::new());
    (test_db, Runner::new(servers, Duration::from_secs(5)), slow)
}

fn run_sql(runner: &Runner, budget: &Arc<Budget>, sql: &'static str) -> Result<(), DbError> {
    runner.run(budget, &|c| c.batch_execute(sql).map_err(DbError::from))
}

fn a_statement_stops_at_its_deadline(backend: Backend) {
    let (_db, runner, slow) = runner(backend, Duration::from_millis(300));
    let started = Instant::now();
    let out = run_sql(&runner, &Budget::new(Duration::from_millis(300)), slow);
    assert!(matches!(out, Err(DbError::Stopped(Stop::Deadline))), "{out:?} after {:?}", started.elapsed());
    // The connection serves the next request.
    run_sql(&runner, &Budget::new(Duration::from_secs(5)), "SELECT 1").unwrap();
}

fn a_cancelled_statement_stops(backend: Backend) {
    let (_db, runner, slow) = runner(backend, Duration::from_secs(60));
    let runner = Arc::new(runner);
    let budget = Budget::new(Duration::from_secs(60));
    let (r, b) = (runner.clone(), budget.clone());
    let canceller = std::thread::spawn(move || {
        // Cancel once the statement runs (PostgreSQL: its backend is known while it runs).
        std::thread::sleep(Duration::from_millis(300));
        r.cancel_running(&b);
    });
    let out = run_sql(&runner, &budget, slow);
    canceller.join().unwrap();
    assert!(matches!(out, Err(DbError::Stopped(Stop::Cancelled))), "{out:?}");
    run_sql(&runner, &Budget::new(Duration::from_secs(5)), "SELECT 1").unwrap();
}

/// Small work runs on the caller's thread on SQLite when a connection is idle, within its budget
/// there too; on PostgreSQL, or with every connection busy, it is left to the blocking threads.
fn small_work_runs_here_only_on_an_idle_embedded_connection(backend: Backend) {
    let (_db, runner, slow) = runner(backend, Duration::from_secs(60));
    let here = std::thread::current().id();
    let ran_on = std::sync::Mutex::new(None);
    let out = runner.run_here(&Budget::new(Duration::from_secs(5)), &|c| {
        *ran_on.lock().unwrap() = Some(std::thread::current().id());
        c.batch_execute("SELECT 1").map_err(DbError::from)
    });
    match backend {
        Backend::Sqlite => {
            assert!(matches!(out, Some(Ok(()))), "{out:?}");
            assert_eq!(*ran_on.lock().unwrap(), Some(here));
            // The budget holds on this thread as on the blocking ones.
            let out = runner
                .run_here(&Budget::new(Duration::from_millis(300)), &|c| c.batch_execute(slow).map_err(DbError::from));
            assert!(matches!(out, Some(Err(DbError::Stopped(Stop::Deadline)))), "{out:?}");
            // With the one connection taken, nothing runs here.
            let runner = Arc::new(runner);
            let (r, taken) = (runner.clone(), Arc::new(std::sync::Barrier::new(2)));
            let t = taken.clone();
            let holder = std::thread::spawn(move || {
                r.run(&Budget::new(Duration::from_secs(5)), &|_| {
                    t.wait();
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
            });
            taken.wait();
            let out = runner.run_here(&Budget::new(Duration::from_secs(5)), &|_| Ok(()));
            assert!(out.is_none(), "{out:?}");
            holder.join().unwrap().unwrap();
            assert!(runner.run_here(&Budget::new(Duration::from_secs(5)), &|_| Ok(())).is_some());
        }
        Backend::Postgres => {
            assert!(out.is_none(), "{out:?}");
            assert_eq!(*ran_on.lock().unwrap(), None);
        }
    }
}

crate::each_backend!(
    a_statement_stops_at_its_deadline,
    a_cancelled_statement_stops,
    small_work_runs_here_only_on_an_idle_embedded_connection
);

/// A session holding an exclusive lock on `locations` of `app`'s database until dropped, and one
/// that watches (a transaction sees one snapshot of `pg_stat_activity`).
struct TableLock(PgConnection, PgConnection);

impl TableLock {
    fn take(app: &TestApp) -> Self {
        let mut c = PgConnection::establish(app.database_url()).unwrap();
        c.batch_execute("BEGIN; LOCK TABLE locations IN ACCESS EXCLUSIVE MODE").unwrap();
        Self(c, PgConnection::establish(app.database_url()).unwrap())
    }

    /// Statements of other sessions waiting for a lock in this database.
    fn waiting(&mut self) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state = 'active' AND wait_event_type = 'Lock'",
        )
        .get_result::<N>(&mut self.1)
        .unwrap()
        .n
    }

    fn wait_until(&mut self, what: &str, pred: impl Fn(i64) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let n = self.waiting();
            if pred(n) {
                return;
            }
            assert!(Instant::now() < deadline, "{what}: {n} statements still wait on the lock");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        let _ = self.0.batch_execute("COMMIT");
    }
}

#[test]
fn postgres_a_search_past_its_budget_is_too_costly() {
    if crate::helpers::skip_without_postgres(concat!(
        module_path!(),
        "::postgres_a_search_past_its_budget_is_too_costly"
    )) {
        return;
    }
    let app = TestApp::builder(Backend::Postgres).config(|c| c.statement_timeout = Duration::from_millis(300)).start();
    let lock = TableLock::take(&app);
    let r = app.get("Location?_count=5");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), ["too-costly"], "{}", r.body);
    assert!(r.body.to_string().contains("time budget"), "{}", r.body);
    drop(lock);
    assert_eq!(app.get("Location?_count=5").status, 200);
}

#[test]
fn sqlite_a_search_past_its_budget_is_too_costly() {
    // Hundreds of :contains values: every row is compared with each of them.
    let values: Vec<String> = (0..600).map(|i| format!("zz{i}q")).collect();
    let query = format!("Location?name:contains={}&_total=accurate", enc(&values.join(",")));
    let tight = TestApp::builder(Backend::Sqlite).config(|c| c.statement_timeout = Duration::from_millis(1)).start();
    let r = tight.get(&query);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(issue_codes(&r.body), ["too-costly"], "{}", r.body);
    assert_eq!(tight.get("metadata").status, 200);
    // The same search within the default budget is answered.
    let r = crate::helpers::app(Backend::Sqlite).get(&query);
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn postgres_a_client_that_leaves_stops_its_statement() {
    if crate::helpers::skip_without_postgres(concat!(
        module_path!(),
        "::postgres_a_client_that_leaves_stops_its_statement"
    )) {
        return;
    }
    let app = TestApp::builder(Backend::Postgres).config(|c| c.statement_timeout = Duration::from_secs(120)).start();
    let mut lock = TableLock::take(&app);
    let impatient = reqwest::blocking::Client::builder().timeout(Duration::from_millis(700)).build().unwrap();
    let url = format!("{}/Location?_count=5", app.base);
    let leaving = std::thread::spawn(move || impatient.get(url).send().is_err());
    lock.wait_until("the search reaches the lock", |n| n == 1);
    assert!(leaving.join().unwrap(), "the client should have given up");
    // The server notices that the client left and cancels the statement that waits on the lock.
    lock.wait_until("the abandoned statement is cancelled", |n| n == 0);
    drop(lock);
    assert_eq!(app.get("Location?_count=5").status, 200);
}

#[test]
fn postgres_requests_past_the_queue_are_shed() {
    if crate::helpers::skip_without_postgres(concat!(module_path!(), "::postgres_requests_past_the_queue_are_shed")) {
        return;
    }
    let app = TestApp::builder(Backend::Postgres).config(|c| {
        c.admission.max_in_flight = 1;
        c.admission.max_queue = 0;
        c.admin_bind = Some("127.0.0.1:0".parse().unwrap());
    });
    let app = Arc::new(app.start());
    let mut lock = TableLock::take(&app);
    let first = {
        let app = app.clone();
        std::thread::spawn(move || app.get("Location?_count=5").status)
    };
    lock.wait_until("the first search holds the only place", |n| n == 1);
    let r = app.get("Location?_count=5");
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    assert_eq!(issue_codes(&r.body), ["throttled"], "{}", r.body);
    // What needs no database is not queued.
    assert_eq!(app.get("metadata").status, 200);
    // The admin listener's metrics say so.
    let admin = app.admin.clone().unwrap();
    let metrics = reqwest::blocking::get(format!("{admin}/metrics")).unwrap().text().unwrap();
    let value = |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok());
    assert_eq!(value("ror_requests_shed_total"), Some(1.0), "{metrics}");
    assert_eq!(value("ror_requests_in_flight"), Some(1.0), "{metrics}");
    drop(lock);
    assert_eq!(first.join().unwrap(), 200);
    assert_eq!(app.get("Location?_count=5").status, 200);
}

#[test]
fn sqlite_serving_connections_map_the_file_when_asked() {
    #[derive(diesel::QueryableByName)]
    struct Mmap {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    let test_db = TestDb::new(Backend::Sqlite);
    let url = test_db.db_url();
    for bytes in [0, 64 << 20] {
        let settings = PoolSettings {
            size: 1,
            statement_timeout: Duration::from_secs(5),
            sqlite_mmap_bytes: bytes,
            stats: Default::default(),
        };
        let pool = db::read_only_pool(&url, settings).unwrap();
        let mut conn = pool.get().unwrap();
        let db::DbConn::Sqlite(c) = &mut **conn else { panic!("a SQLite connection") };
        let got: Mmap = diesel::sql_query("PRAGMA mmap_size").get_result(c).unwrap();
        assert_eq!(got.mmap_size, i64::try_from(bytes).unwrap());
    }
    // A server reading through the map answers as one that copies its pages.
    let mapped = TestApp::builder(Backend::Sqlite).config(|c| c.sqlite_mmap_mb = 64).start();
    let query = "Location?_count=50&_revinclude=HealthcareService:location";
    let (a, b) = (mapped.get(query), crate::helpers::app(Backend::Sqlite).get(query));
    assert_eq!((a.status, b.status), (200, 200));
    let resources = |r: &crate::helpers::Resp| -> Vec<serde_json::Value> {
        r.body["entry"].as_array().unwrap().iter().map(|e| e["resource"].clone()).collect()
    };
    assert_eq!(resources(&a), resources(&b));
    assert!(resources(&a).len() > 50);
}
