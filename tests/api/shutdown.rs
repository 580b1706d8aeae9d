//! Graceful shutdown (issue 15): the real binary, under load, receives SIGTERM; it stops accepting
//! connections, answers every request it had accepted in full, and exits 0.
//!
//! Each request is sent on a connection of its own, so a request is either accepted (and must be
//! answered completely) or refused at connect time once the listener is closed: a reset or a
//! truncated body after the connection was accepted is a cut request. The clients read slowly, so
//! that answers are still being sent when the signal comes (with no grace period, they are cut).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ror_capacity::generate::{GenerateOptions, generate};

use crate::helpers::{Backend, TestDb, scratch_dir};

#[derive(Debug)]
enum Outcome {
    /// A complete 200 answer, and when it ended.
    Answered(Instant),
    /// Refused at connect time (the listener was closed).
    Refused,
    /// Anything else: a cut request.
    Cut(String),
}

fn one_request(url: &str) -> Outcome {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    match client.get(url).send() {
        Err(e) if e.is_connect() => Outcome::Refused,
        Err(e) => Outcome::Cut(format!("send: {e}")),
        Ok(r) if r.status() != 200 => Outcome::Cut(format!("status {}", r.status())),
        Ok(r) => match read_slowly(r).map(|b| serde_json::from_slice::<serde_json::Value>(&b)) {
            Ok(Ok(v)) if v["resourceType"] == "Bundle" => Outcome::Answered(Instant::now()),
            Ok(Ok(v)) => Outcome::Cut(format!("not a Bundle: {}", v["resourceType"])),
            Ok(Err(e)) => Outcome::Cut(format!("truncated body: {e}")),
            Err(e) => Outcome::Cut(format!("body: {e}")),
        },
    }
}

/// Reads a body 64 kB at a time, 5 ms apart: a 2 MB page stays in flight for about 150 ms, the
/// server's writes waiting on the client (more than the sockets' buffers hold).
fn read_slowly(mut r: reqwest::blocking::Response) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let (mut body, mut buf) = (Vec::new(), vec![0u8; 64 << 10]);
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until `n` answers came: the signal comes once the load runs (a number of answers, not a
/// time: the machine may be busy), while the eight clients keep the one connection busy.
fn wait_for_answers(so_far: &AtomicUsize, n: usize) {
    let loading = Instant::now();
    while so_far.load(Ordering::Relaxed) < n {
        assert!(loading.elapsed() < Duration::from_secs(60), "the load does not run");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_under_load_cuts_no_request() {
    // Enough places for full pages of 200 with their offers (about 2 MB each).
    let dir = scratch_dir("shutdown-data");
    let data = dir.join("places.ndjson");
    let opts = GenerateOptions { locations: 600, seed: 3, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&data).unwrap());
    generate(&opts, &mut f).unwrap();
    drop(f);
    let db = TestDb::new(Backend::Sqlite);
    db.import(&[&data]).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(scratch_dir("shutdown").join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ror-capacity"))
        .args(["--database-url", db.url(), "serve", "--insecure-http", "--admin-bind", "off"])
        .args(["--bind", &format!("127.0.0.1:{port}"), "--shutdown-grace-secs", "20"])
        // One connection, one worker: requests queue for it, so that some wait at the signal.
        .args(["--pool-size", "1", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while !matches!(one_request(&format!("{base}/fhir/Location?_count=1")), Outcome::Answered(_)) {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Pages of 200 places with their offers, eight clients for one connection: at the signal, some
    // requests are being answered and others wait for their turn.
    let url = format!("{base}/fhir/Location?_count=200&_revinclude=HealthcareService:location");
    let stop = Arc::new(AtomicBool::new(false));
    let answered_so_far = Arc::new(AtomicUsize::new(0));
    let loaders: Vec<_> = (0..8)
        .map(|_| {
            let (stop, url, so_far) = (stop.clone(), url.clone(), answered_so_far.clone());
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let o = one_request(&url);
                    let refused = matches!(o, Outcome::Refused);
                    if matches!(o, Outcome::Answered(_)) {
                        so_far.fetch_add(1, Ordering::Relaxed);
                    }
                    outcomes.push(o);
                    if refused {
                        break;
                    }
                }
                outcomes
            })
        })
        .collect();
    wait_for_answers(&answered_so_far, 8);
    let signalled = Instant::now();
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let outcomes: Vec<Outcome> = loaders.into_iter().flat_map(|l| l.join().unwrap()).collect();

    assert!(status.success(), "the server exits 0 after SIGTERM: {status:?}");
    let cut: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Cut(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(cut.is_empty(), "requests cut by the shutdown: {cut:?}");
    let answered = outcomes.iter().filter(|o| matches!(o, Outcome::Answered(_))).count();
    let after = outcomes.iter().filter(|o| matches!(o, Outcome::Answered(t) if *t > signalled)).count();
    eprintln!("shutdown under load: {answered} answered, {after} of them after SIGTERM, {} outcomes", outcomes.len());
    assert!(answered >= 8, "the load ran: {outcomes:?}");
    assert!(after > 0, "requests in flight at the signal were answered in full after it");
}
