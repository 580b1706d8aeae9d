//! Read replicas (issue 13): searches go to a real PostgreSQL streaming replica (a second cluster
//! made with `pg_basebackup` from a private primary), see an import on the primary once it is
//! replayed, and go on being answered from the primary while the replica is down, then from the
//! replica again once it is back.
//!
//! That reads go to the replica is shown by pausing its replay (`pg_wal_replay_pause`): a place
//! imported on the primary meanwhile must not be found through the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ror_capacity::config::ServerConfig;
use ror_capacity::db::DbUrl;
use ror_capacity::startup::StartError;
use serde_json::Value;

use crate::helpers::cluster::Cluster;
use crate::helpers::{Backend, TestApp, TestDb, match_ids, scratch_dir};

/// S4 over the places changed after the dataset was made (none of the dataset's).
const SINCE: &str = "Location?_lastUpdated=gt2026-12-01T00:00:00Z&_count=50";

/// Writes a new place, changed on 2026-12-04, to a file of its own; returns the file and its id.
fn new_place(app: &TestApp, n: u32) -> (std::path::PathBuf, String) {
    let (_, first) = app.data.locations.iter().next().unwrap();
    let mut place: Value = first.clone();
    let id = format!("replica-place-{n}");
    place["id"] = id.clone().into();
    place["identifier"][0]["value"] = format!("replica-identifier-{n}").into();
    place["meta"]["lastUpdated"] = format!("2026-12-04T10:00:0{n}Z").into();
    let path = scratch_dir("replica").join(format!("place-{n}.ndjson"));
    std::fs::write(&path, format!("{place}\n")).unwrap();
    (path, id)
}

/// The ids S4 finds now through the server.
fn since(app: &TestApp) -> std::collections::BTreeSet<String> {
    let r = app.get(SINCE);
    assert_eq!(r.status, 200, "{}", r.body);
    match_ids(&r.body)
}

/// Waits (at most 30 s) for `pred` on S4's ids.
fn until(app: &TestApp, what: &str, pred: impl Fn(&std::collections::BTreeSet<String>) -> bool) {
    let started = Instant::now();
    while !pred(&since(app)) {
        assert!(started.elapsed() < Duration::from_secs(30), "not within 30 s: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The replica's state as `/ready` reports it.
fn replica_state(app: &TestApp) -> String {
    let r = app.get(&format!("{}/ready", app.root()));
    assert_eq!(r.status, 200, "a replica's state never makes the server unready: {}", r.body);
    r.body["replicas"][0]["state"].as_str().unwrap_or_default().to_owned()
}

fn wait_state(app: &TestApp, state: &str) {
    let started = Instant::now();
    while replica_state(app) != state {
        assert!(started.elapsed() < Duration::from_secs(30), "the replica is not {state} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn searches_read_from_a_streaming_replica_and_fall_back_to_the_primary() {
    let primary = Cluster::create("primary");
    let replica = Cluster::replica_of(&primary, "replica");
    let db = Arc::new(TestDb::postgres_on(&primary.url("postgres")));
    let replica_url = db.url().replace(&format!(":{}/", primary.port), &format!(":{}/", replica.port));
    let app = TestApp::builder(Backend::Postgres)
        .database(db.clone())
        .config(move |c: &mut ServerConfig| c.read_databases = vec![DbUrl::parse(&replica_url).unwrap()])
        .start();
    replica.wait_replayed(&primary.wal_position());
    wait_state(&app, "up");
    assert!(since(&app).is_empty(), "no place of the dataset changed after 2026-12-01");

    // Replay paused: what the primary imports is not seen; replay resumed, it is.
    replica.execute("SELECT pg_wal_replay_pause()");
    let (file, first) = new_place(&app, 1);
    db.import(&[&file]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(since(&app).is_empty(), "reads go to the replica, whose replay is paused");
    replica.execute("SELECT pg_wal_replay_resume()");
    until(&app, "the import is seen once replayed", |ids| ids.contains(&first));

    // The replica goes away under load: every request is still answered, from the primary, which
    // holds what the paused replica did not replay.
    replica.execute("SELECT pg_wal_replay_pause()");
    let (file, second) = new_place(&app, 2);
    db.import(&[&file]).unwrap();
    assert!(!since(&app).contains(&second), "the replica's replay is paused");
    let stop = Arc::new(AtomicBool::new(false));
    let loader = {
        let (stop, base) = (stop.clone(), app.base.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            let mut statuses = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = client.get(format!("{base}/{SINCE}")).send().expect("every request is answered");
                statuses.push(r.status().as_u16());
            }
            statuses
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    replica.kill();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let statuses = loader.join().unwrap();
    assert!(statuses.len() > 5 && statuses.iter().all(|&s| s == 200), "answers while the replica died: {statuses:?}");
    assert_eq!(replica_state(&app), "down");
    let ids = since(&app);
    assert!(ids.contains(&first) && ids.contains(&second), "the primary answers: {ids:?}");

    // Back: once it answers again, reads go to it again (its replay paused, it misses a new place).
    replica.ctl("start");
    replica.wait_replayed(&primary.wal_position());
    wait_state(&app, "up");
    replica.execute("SELECT pg_wal_replay_pause()");
    let (file, third) = new_place(&app, 3);
    db.import(&[&file]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let ids = since(&app);
    assert!(ids.contains(&second) && !ids.contains(&third), "reads are back on the replica: {ids:?}");
    replica.execute("SELECT pg_wal_replay_resume()");
    until(&app, "the third import is seen once replayed", |ids| ids.contains(&third));
    drop(app);
}

#[test]
fn replicas_need_a_postgres_primary() {
    let app = TestApp::builder(Backend::Sqlite)
        .config(|c: &mut ServerConfig| {
            c.read_databases = vec![DbUrl::parse("postgres://postgres@127.0.0.1:9/none").unwrap()];
        })
        .try_start();
    match app {
        Err(StartError::Config(why)) => assert!(why.contains("PostgreSQL"), "{why}"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("an SQLite primary with a PostgreSQL replica must be refused"),
    }
}
