//! `--log-format json` (issue 15): the real binary writes one JSON object per line, and the access
//! and audit lines carry their fields, the request id among them (the one sent in `X-Request-Id`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Backend, TestDb, dataset, scratch_dir};

/// The real binary serving the dataset over plain HTTP with JSON logs into a file, with `extra`
/// options: the child, its base URL (`http://127.0.0.1:port`) and the log file. Its database lives
/// as long as the returned `TestDb`.
fn json_logged_server(tag: &str, extra: &[&str]) -> (Child, String, PathBuf, TestDb) {
    let db = TestDb::new(Backend::Sqlite);
    db.import(&[&dataset().path]).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path = scratch_dir(tag).join("server.log");
    let child = Command::new(env!("CARGO_BIN_EXE_ror-capacity"))
        .args(["--database-url", db.url(), "--log-format", "json", "serve", "--insecure-http"])
        .args(["--admin-bind", "off", "--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"), log_path, db)
}

#[test]
fn json_logs_are_one_object_per_line_with_the_audit_fields() {
    let (mut child, base, log_path, _db) = json_logged_server("json-logs", &[]);
    let url = format!("{base}/fhir/Location?_count=1");
    let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let request_id = loop {
        if let Ok(r) = client.get(&url).send()
            && r.status() == 200
        {
            break r.headers()["x-request-id"].to_str().unwrap().to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["time"].is_string() && l["level"].is_string() && l["message"].is_string()));
    let audit = lines
        .iter()
        .find(|l| l["target"] == "audit" && l["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no audit line for {request_id}: {text}"));
    assert_eq!(audit["consumer"], "insecure-dev");
    assert_eq!(audit["profile"], "1");
    assert_eq!(audit["status"], 200);
    assert_eq!(audit["resources"], 1);
    assert_eq!(audit["request"], "/fhir/Location?_count=1");
    assert!(audit["duration_us"].is_u64());
    let access = lines.iter().find(|l| l["target"] == "access" && l["request_id"] == request_id.as_str());
    assert!(access.is_some_and(|a| a["path"] == "/fhir/Location" && a["status"] == 200), "{text}");
}

/// An application line written while answering a request carries that request's id as a field
/// (here the warning of a search stopped at its time budget).
#[test]
fn application_lines_carry_the_request_id() {
    let (mut child, base, log_path, _db) = json_logged_server("app-logs", &["--statement-timeout-ms", "1"]);
    let client = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let base = format!("{base}/fhir");
    let started = Instant::now();
    while client.get(format!("{base}/metadata")).send().map(|r| r.status() != 200).unwrap_or(true) {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Searches that cannot finish in 1 ms: at least one is stopped.
    let stopped: Vec<String> = ["name:contains=e&_count=500", "_count=500&_revinclude=HealthcareService:location"]
        .iter()
        .filter_map(|q| {
            let r = client.get(format!("{base}/Location?{q}&_total=accurate")).send().unwrap();
            (r.status() == 400).then(|| r.headers()["x-request-id"].to_str().unwrap().to_owned())
        })
        .collect();
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!stopped.is_empty(), "no search was stopped at a 1 ms budget");
    let text = std::fs::read_to_string(&log_path).unwrap();
    for id in &stopped {
        let line = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|l| l["request_id"] == id.as_str() && l["target"] != "access" && l["target"] != "audit")
            .unwrap_or_else(|| panic!("no application line for {id}: {text}"));
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "stopped at its time budget", "the id is a field, not in the message");
    }
}
