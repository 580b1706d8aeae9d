//! `--log-format json` (issue 15): the real binary writes one JSON object per line, and the access
//! and audit lines carry their fields, the request id among them (the one sent in `X-Request-Id`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Backend, TestDb, dataset, scratch_dir};

#[test]
fn json_logs_are_one_object_per_line_with_the_audit_fields() {
    let db = TestDb::new(Backend::Sqlite);
    db.import(&[&dataset().path]).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path = scratch_dir("json-logs").join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ror-capacity"))
        .args(["--database-url", db.url(), "--log-format", "json", "serve", "--insecure-http"])
        .args(["--admin-bind", "off", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/fhir/Location?_count=1");
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
