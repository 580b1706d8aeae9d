//! Imports as metrics (issue 15): read from the database at each scrape, so the imports of another
//! process count; a refused file counts nothing; a database that does not answer leaves them out
//! and the rest of the scrape is served.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use ror_capacity::config::ServerConfig;
use ror_capacity::db;
use ror_capacity::import::import_file;
use serde_json::{Value, json};

use crate::admin::{get, sample};
use crate::helpers::{Backend, TestApp, TestDb, pg_admin_url, scratch_dir};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/Location-ror-location-exemple.json");

const RUNS: &str = "ror_import_runs_total";
const LAST: &str = "ror_import_last_timestamp_seconds";

fn resources(outcome: &str) -> String {
    format!(r#"ror_import_resources_total{{outcome="{outcome}"}}"#)
}

fn scrape(admin: &str) -> String {
    let (status, text) = get(&format!("{admin}/metrics"));
    assert_eq!(status, 200, "{text}");
    text
}

fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Three resources, one per line.
fn ndjson() -> String {
    let example: Value = serde_json::from_str(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let orgs = [
        json!({"resourceType": "Organization", "id": "o1", "name": "CH"}),
        json!({"resourceType": "Organization", "id": "o2", "name": "CHU"}),
    ];
    format!("{}\n{}\n{example}\n", orgs[0], orgs[1])
}

fn imports_are_counted(backend: Backend) {
    let test_db = Arc::new(TestDb::new(backend));
    let app = TestApp::builder(backend)
        .empty()
        .database(test_db.clone())
        .config(|c: &mut ServerConfig| c.admin_bind = Some("127.0.0.1:0".parse().unwrap()))
        .start();
    let admin = app.admin.clone().expect("the admin listener is configured");
    let text = scrape(&admin);
    assert_eq!(sample(&text, RUNS), Some(0.0), "{text}");
    assert_eq!(sample(&text, &resources("inserted")), Some(0.0), "{text}");
    assert_eq!(sample(&text, LAST), None, "no import yet: no instant: {text}");

    // Imports as `ror-capacity import` runs them: another connection, read-write.
    let dir = scratch_dir("import-metrics");
    let path = dir.join("three.ndjson");
    std::fs::write(&path, ndjson()).unwrap();
    let mut conn = db::connect(&test_db.db_url(), false).unwrap();
    let before = now_secs();
    let first = import_file(&mut conn, &path, false).unwrap();
    let after = now_secs();
    assert_eq!((first.resources, first.inserted), (3, 3));
    let text = scrape(&admin);
    assert_eq!(sample(&text, RUNS), Some(1.0), "{text}");
    assert_eq!(sample(&text, &resources("inserted")), Some(3.0), "{text}");
    assert_eq!(sample(&text, &resources("updated")), Some(0.0), "{text}");
    assert_eq!(sample(&text, &resources("unchanged")), Some(0.0), "{text}");
    let last = sample(&text, LAST).unwrap();
    assert!(before - 0.001 <= last && last <= after + 0.001, "{before} <= {last} <= {after}");
    assert!(text.contains("# TYPE ror_import_runs_total counter"), "{text}");

    // The same file again: one more run, its resources unchanged.
    let again = import_file(&mut conn, &path, false).unwrap();
    assert_eq!(again.unchanged, 3);
    // A refused file (its first line valid) records nothing.
    let bad = dir.join("bad.ndjson");
    std::fs::write(&bad, "{\"resourceType\": \"Organization\", \"id\": \"o3\"}\n{\"resourceType\": \"Patient\"}\n")
        .unwrap();
    assert!(import_file(&mut conn, &bad, false).is_err());
    let text = scrape(&admin);
    assert_eq!(sample(&text, RUNS), Some(2.0), "{text}");
    assert_eq!(sample(&text, &resources("inserted")), Some(3.0), "{text}");
    assert_eq!(sample(&text, &resources("unchanged")), Some(3.0), "{text}");
    assert!(sample(&text, LAST).unwrap() >= last);

    drop(conn);
    if backend == Backend::Postgres {
        without_the_database(&admin, &test_db);
    }
}

/// PostgreSQL refusing the server's connections: the import counts are left out, the rest of the
/// scrape is served; they come back with the database.
fn without_the_database(admin: &str, test_db: &TestDb) {
    use diesel::Connection;
    let mut conn = diesel::PgConnection::establish(&pg_admin_url()).unwrap();
    let name = test_db.url().rsplit('/').next().unwrap().to_owned();
    conn.batch_execute(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid();"
    ))
    .unwrap();
    let started = std::time::Instant::now();
    let text = scrape(admin);
    let took = started.elapsed();
    conn.batch_execute(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")).unwrap();
    assert_eq!(sample(&text, RUNS), None, "{text}");
    assert_eq!(sample(&text, &resources("unchanged")), None, "{text}");
    assert!(sample(&text, r#"ror_db_pool_connections{server="primary"}"#).is_some(), "{text}");
    assert!(took < std::time::Duration::from_secs(5), "the scrape took {took:?}");
    eprintln!("a scrape without the database took {took:?}");
    // The pool opens connections again in the background, after a pause.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sample(&scrape(admin), RUNS).is_none() {
        assert!(std::time::Instant::now() < deadline, "the import counts did not come back with the database");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let text = scrape(admin);
    assert_eq!(sample(&text, RUNS), Some(2.0), "back with the database: {text}");
}

crate::each_backend!(imports_are_counted);
