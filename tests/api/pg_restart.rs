//! A PostgreSQL restart under load (issue 9): every answer is a 200 or a 503 with `Retry-After` and
//! an OperationOutcome, never a 500, and the server serves again once PostgreSQL is back.
//!
//! The restart is real: a private cluster of the machine's PostgreSQL is created for the test
//! (`pg_createcluster`, on a free port, trust authentication), stopped with `-m fast` (which
//! terminates the server's connections mid-query) and started again; it is dropped at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::helpers::cluster::Cluster;
use crate::helpers::{Backend, Dataset, TestApp, TestDb};

#[derive(Debug)]
struct Answer {
    at: Instant,
    status: u16,
    retry_after: bool,
    outcome: bool,
}

#[test]
fn postgres_restart_under_load_answers_503_then_serves_again() {
    let cluster = Cluster::create("restart");
    // Declared after the cluster: the server stops and its database is dropped while it still runs.
    let app =
        TestApp::builder(Backend::Postgres).database(TestDb::postgres_on(&cluster.url("postgres")).into()).start();
    let (data, base) = (app.data.clone(), app.base.clone());
    let ids: Vec<String> = data.locations.values().filter_map(|l| Dataset::identifier(l, None)).take(20).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..4)
        .map(|t| {
            let (stop, base, ids) = (stop.clone(), base.clone(), ids.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
                let mut answers = Vec::new();
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let url = format!("{base}/Location?identifier={}", ids[i % ids.len()]);
                    let r = client.get(url).send().expect("every request is answered");
                    let retry_after = r.headers().contains_key("retry-after");
                    let status = r.status().as_u16();
                    let body: serde_json::Value = r.json().unwrap_or_default();
                    let outcome = body["resourceType"] == "OperationOutcome";
                    answers.push(Answer { at: Instant::now(), status, retry_after, outcome });
                }
                answers
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1500));
    cluster.ctl("stop");
    std::thread::sleep(Duration::from_secs(3));
    cluster.ctl("start");
    let back = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    stop.store(true, Ordering::Relaxed);
    let answers: Vec<Answer> = loaders.into_iter().flat_map(|l| l.join().unwrap()).collect();

    let count = |s: u16| answers.iter().filter(|a| a.status == s).count();
    eprintln!("restart under load: {} answers, {} × 200, {} × 503", answers.len(), count(200), count(503));
    let bad: Vec<&Answer> = answers.iter().filter(|a| a.status != 200 && a.status != 503).collect();
    assert!(bad.is_empty(), "answers other than 200 and 503: {bad:?}");
    let unavailable: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!unavailable.is_empty(), "PostgreSQL was down for 3 s: some requests should have been refused");
    assert!(unavailable.iter().all(|a| a.retry_after && a.outcome), "{unavailable:?}");
    // Served again: every request of the last 3 s succeeds.
    let tail: Vec<&Answer> = answers.iter().filter(|a| a.at > back + Duration::from_secs(3)).collect();
    assert!(!tail.is_empty() && tail.iter().all(|a| a.status == 200), "after the restart: {tail:?}");
}
