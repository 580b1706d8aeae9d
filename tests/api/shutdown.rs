//! Graceful shutdown (issue 15): the real binary, under load, receives SIGTERM; it stops accepting
//! connections, answers every request it had taken in full, and exits 0.
//!
//! Each request is sent on a connection of its own. A request written before the signal must be
//! answered completely: a reset, a close without an answer or a truncated body is a cut request.
//! One written after it may be refused at connect time or closed unanswered (the listener closes;
//! the kernel resets what waits in its backlog). The clients read slowly, so that answers are still
//! arriving when the signal comes, while other requests wait for the one database connection.
//!
//! What this caught: actix's own SIGTERM handling stopped the accept thread and the workers at
//! once, and a worker drops the connections queued for it: under load, requests written before
//! the signal were closed unanswered (`http::shutdown` now pauses the listener first).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
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
    /// Connected, then closed before any byte of an answer; and when the request was written.
    Unserved(Instant, String),
    /// Anything else: a cut request.
    Cut(String),
}

/// One `GET path` on a connection of its own (`Connection: close`), written by hand so that the
/// instant the request was on the wire is known: a request written before the signal must be
/// answered in full.
fn one_request(addr: SocketAddr, path: &str, in_body: &AtomicUsize) -> Outcome {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
        return Outcome::Refused;
    };
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Outcome::Unserved(Instant::now(), format!("write: {e}"));
    }
    let sent = Instant::now();
    let answer = match read_slowly(&mut stream, in_body) {
        Ok(a) if a.is_empty() => return Outcome::Unserved(sent, "closed without an answer".to_owned()),
        Ok(a) => a,
        Err((0, e)) if !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            return Outcome::Unserved(sent, format!("{e}"));
        }
        Err((n, e)) => return Outcome::Cut(format!("after {n} bytes: {e}")),
    };
    match http_body(&answer).map(|b| serde_json::from_slice::<serde_json::Value>(&b)) {
        Ok(Ok(v)) if v["resourceType"] == "Bundle" => Outcome::Answered(Instant::now()),
        Ok(Ok(v)) => Outcome::Cut(format!("not a Bundle: {}", v["resourceType"])),
        Ok(Err(e)) => Outcome::Cut(format!("truncated body: {e}")),
        Err(e) => Outcome::Cut(e),
    }
}

/// The body of a complete `200` HTTP/1.1 answer (chunked or of a stated length).
fn http_body(answer: &[u8]) -> Result<Vec<u8>, String> {
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let body = &answer[split + 4..];
    if !head.starts_with("http/1.1 200") {
        return Err(format!("status line {:?}", head.lines().next()));
    }
    if head.contains("transfer-encoding: chunked") {
        return dechunk(body);
    }
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse::<usize>());
    match length {
        Some(Ok(n)) if n != body.len() => Err(format!("{} bytes of {n}", body.len())),
        _ => Ok(body.to_vec()),
    }
}

/// A chunked body's bytes, provided it ends with its last chunk.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err(format!("truncated chunk: {} of {size} bytes", rest.len()));
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Reads an answer to its end 64 kB at a time, 10 ms apart: a 2 MB page stays in flight for about
/// 300 ms, the server's writes waiting on the client (more than the sockets' buffers hold).
/// `in_body` counts the answers being read at any moment. An error comes with the bytes read.
fn read_slowly(stream: &mut TcpStream, in_body: &AtomicUsize) -> Result<Vec<u8>, (usize, std::io::Error)> {
    in_body.fetch_add(1, Ordering::SeqCst);
    let (mut answer, mut buf) = (Vec::new(), vec![0u8; 64 << 10]);
    let read = loop {
        match stream.read(&mut buf) {
            Ok(0) => break Ok(answer),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => break Err((answer.len(), e)),
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    in_body.fetch_sub(1, Ordering::SeqCst);
    read
}

/// Waits until `n` answers came and another answer is being read: the signal comes once the load
/// runs (counted, not timed: the machine may be busy) and while a request is in flight, whatever
/// the time the clients take to open their next connection.
fn wait_for_load(so_far: &AtomicUsize, in_body: &AtomicUsize, n: usize) {
    let loading = Instant::now();
    while so_far.load(Ordering::SeqCst) < n || in_body.load(Ordering::SeqCst) == 0 {
        assert!(loading.elapsed() < Duration::from_secs(60), "the load does not run");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The real binary on a database of enough places for full pages of 200 with their offers (about
/// 2 MB each), and its port.
fn start_server(db: &TestDb) -> (std::process::Child, u16) {
    let dir = scratch_dir("shutdown-data");
    let data = dir.join("places.ndjson");
    let opts = GenerateOptions { locations: 600, seed: 3, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&data).unwrap());
    generate(&opts, &mut f).unwrap();
    drop(f);
    db.import(&[&data]).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(scratch_dir("shutdown").join("server.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ror-capacity"))
        .args(["--database-url", db.url(), "serve", "--insecure-http", "--admin-bind", "off"])
        .args(["--bind", &format!("127.0.0.1:{port}"), "--shutdown-grace-secs", "20"])
        // One connection, one worker: requests queue for it, so that some wait at the signal.
        .args(["--pool-size", "1", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    (child, port)
}

#[test]
fn sigterm_under_load_cuts_no_request() {
    let db = TestDb::new(Backend::Sqlite);
    let (mut child, port) = start_server(&db);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    let in_body = Arc::new(AtomicUsize::new(0));
    while !matches!(one_request(addr, "/fhir/Location?_count=1", &in_body), Outcome::Answered(_)) {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    // Pages of 200 places with their offers, eight clients for one connection: at the signal, some
    // requests are being answered and others wait for their turn.
    let url = "/fhir/Location?_count=200&_revinclude=HealthcareService:location";
    let stop = Arc::new(AtomicBool::new(false));
    let answered_so_far = Arc::new(AtomicUsize::new(0));
    let loaders: Vec<_> = (0..8)
        .map(|_| {
            let (stop, so_far, in_body) = (stop.clone(), answered_so_far.clone(), in_body.clone());
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let o = one_request(addr, url, &in_body);
                    let refused = matches!(o, Outcome::Refused | Outcome::Unserved(..));
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
    wait_for_load(&answered_so_far, &in_body, 8);
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
            Outcome::Unserved(sent, why) if *sent < signalled => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(cut.is_empty(), "requests cut by the shutdown: {cut:?}");
    let answered = outcomes.iter().filter(|o| matches!(o, Outcome::Answered(_))).count();
    let after = outcomes.iter().filter(|o| matches!(o, Outcome::Answered(t) if *t > signalled)).count();
    let unserved = outcomes.iter().filter(|o| matches!(o, Outcome::Unserved(..))).count();
    eprintln!(
        "shutdown under load: {answered} answered, {after} of them after SIGTERM, {unserved} sent after it closed unanswered, {} outcomes",
        outcomes.len()
    );
    assert!(answered >= 8, "the load ran: {outcomes:?}");
    assert!(after > 0, "requests in flight at the signal were answered in full after it");
}
