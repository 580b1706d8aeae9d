//! The hostile-request corpus (`hostile_requests.txt`, one case per record) run over raw TCP
//! against the real server on both backends. Each case states the status it must get; every
//! answer must also be well-formed: a status line (never a dropped connection or a hang), never a
//! 5xx, a 4xx carried by a FHIR OperationOutcome (except the framework answers marked `codec`),
//! a 405 with `Allow`, no body on HEAD, no internal detail in any body, no error answer that
//! echoes a huge input.
//!
//! Record syntax (see the file's header):
//!
//! ```text
//! <status>[:<issue code>|:codec]  <METHOD> <target>     (or: RAW <exact bytes>)
//!     <Header>: <value>                                 (indented lines: headers…)
//!     < <body>                                          (…and the body)
//! ```
//!
//! Escapes everywhere: `\r \n \t \s (space) \\ \xNN`; macros: `${HOST}`, `${LOC}`, `${HS}`,
//! `${ORG}`, `${OBS}` (ids that exist), `${CURSOR}` (a valid cursor of `Location?_count=5`),
//! `${rep:N:text}` (text repeated N times).

use std::collections::HashMap;
use std::time::Duration;

use crate::helpers::{TestApp, next_link};
use crate::raw::{RawResponse, authority, exchange};

const CORPUS: &str = include_str!("hostile_requests.txt");

/// What a case must get.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    /// This status; for a 4xx, an OperationOutcome (with this issue code, when given).
    Status(u16, Option<String>),
    /// A status the HTTP/1 codec of actix-http answers before any application code runs: an
    /// empty body and a closed connection (the documented exception).
    Codec(u16),
}

#[derive(Debug, Clone)]
struct Case {
    line: usize,
    expect: Expect,
    /// The request as written (before escapes and macros).
    request: String,
    headers: Vec<String>,
    body: Option<String>,
}

fn parse_expect(s: &str, line: usize) -> Expect {
    let (status, code) = match s.split_once(':') {
        Some((st, c)) => (st, Some(c)),
        None => (s, None),
    };
    let status: u16 = status.parse().unwrap_or_else(|_| panic!("line {line}: bad status {s:?}"));
    match code {
        Some("codec") => Expect::Codec(status),
        other => Expect::Status(status, other.map(str::to_owned)),
    }
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for (i, line) in CORPUS.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let case = out.last_mut().unwrap_or_else(|| panic!("line {n}: continuation without a case"));
            let t = line.trim_start();
            match t.strip_prefix("< ") {
                Some(body) => case.body = Some(body.to_owned()),
                None => case.headers.push(t.to_owned()),
            }
            continue;
        }
        let (expect, request) = line.split_once(char::is_whitespace).unwrap_or_else(|| panic!("line {n}: no request"));
        out.push(Case {
            line: n,
            expect: parse_expect(expect, n),
            request: request.trim().to_owned(),
            headers: Vec::new(),
            body: None,
        });
    }
    out
}

/// Expands macros then escapes.
fn expand(s: &str, vars: &HashMap<&str, String>) -> Vec<u8> {
    let mut text = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let end = rest[start..].find('}').map(|e| start + e).unwrap_or_else(|| panic!("unclosed macro in {s}"));
        let name = &rest[start + 2..end];
        match name.strip_prefix("rep:") {
            Some(spec) => {
                let (n, what) = spec.split_once(':').unwrap();
                text.push_str(&what.repeat(n.parse().unwrap()));
            }
            None => text.push_str(vars.get(name).unwrap_or_else(|| panic!("unknown macro {name}"))),
        }
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    unescape(&text)
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, used) = match b[i + 1] {
                b'r' => (b'\r', 2),
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b's' => (b' ', 2),
                b'\\' => (b'\\', 2),
                b'x' => (u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap(), 4),
                _ => (b'\\', 1),
            };
            out.push(byte);
            i += used;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The bytes of a case: RAW as written, else a request line, Host, the case's headers,
/// `Connection: close`, a Content-Length for a body, and the body.
fn request_bytes(case: &Case, vars: &HashMap<&str, String>) -> Vec<u8> {
    if let Some(raw) = case.request.strip_prefix("RAW ") {
        return expand(raw, vars);
    }
    let (method, target) = case.request.split_once(' ').unwrap_or((case.request.as_str(), ""));
    let mut out = expand(method, vars);
    out.push(b' ');
    out.extend(expand(target, vars));
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let given = |name: &str| case.headers.iter().any(|h| h.to_ascii_lowercase().starts_with(&format!("{name}:")));
    if !given("host") {
        out.extend(format!("Host: {}\r\n", vars["HOST"]).bytes());
    }
    for h in &case.headers {
        out.extend(expand(h, vars));
        out.extend_from_slice(b"\r\n");
    }
    if !given("connection") {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    let body = case.body.as_deref().map(|b| expand(b, vars)).unwrap_or_default();
    if case.body.is_some() && !given("content-length") && !given("transfer-encoding") {
        out.extend(format!("Content-Length: {}\r\n", body.len()).bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend(body);
    out
}

fn variables(app: &TestApp) -> HashMap<&'static str, String> {
    let first = |q: &str| {
        let r = app.get(q);
        r.body["entry"][0]["resource"]["id"].as_str().unwrap_or_else(|| panic!("{q}: {}", r.body)).to_owned()
    };
    let next = next_link(&app.get("Location?_count=5").body).unwrap();
    let cursor = next.split_once("_cursor=").unwrap().1.to_owned();
    HashMap::from([
        ("HOST", authority(&app.base)),
        ("LOC", first("Location?_count=1")),
        ("HS", first("HealthcareService?_count=1")),
        ("ORG", first("Organization?_count=1")),
        ("OBS", first("Observation?_count=1")),
        ("CURSOR", cursor),
    ])
}

/// Words that would mean an internal detail reached the client.
const LEAKS: [&str; 8] =
    ["diesel", "sqlite", "postgres", "panicked", "syntax error", "stack backtrace", "r2d2", "select "];

/// `body` without the values of its links' `_cursor`: signed, random text (base64url) that may
/// spell anything once case-folded (it once held "R2d2").
fn without_cursors(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("_cursor=") {
        out.push_str(&rest[..at + "_cursor=".len()]);
        rest = &rest[at + "_cursor=".len()..];
        let end = rest.find(['"', '&']).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Everything wrong with `r` as the answer to `case` (empty: the case passes).
fn problems(case: &Case, r: &RawResponse) -> Vec<String> {
    let mut p = Vec::new();
    let head_request = case.request.starts_with("HEAD ");
    let (status, code) = match &case.expect {
        Expect::Codec(s) => {
            if r.status != *s {
                p.push(format!("status {} instead of {s}", r.status));
            }
            if !r.body.is_empty() {
                p.push("the codec answer now has a body: mark the case as an OperationOutcome".into());
            }
            return p;
        }
        Expect::Status(s, c) => (*s, c.as_deref()),
    };
    if r.status != status {
        p.push(format!("status {} instead of {status}", r.status));
    }
    if r.status >= 500 {
        p.push("a 5xx".into());
    }
    let lower = without_cursors(&String::from_utf8_lossy(&r.body)).to_lowercase();
    p.extend(LEAKS.iter().filter(|w| lower.contains(*w)).map(|w| format!("the body mentions {w:?}")));
    if r.header("x-request-id").is_none() {
        p.push("no X-Request-Id: not answered by the application".into());
    }
    if r.status == 405 && r.header("allow").is_none() {
        p.push("405 without Allow".into());
    }
    if head_request {
        if !r.body.is_empty() {
            p.push("a body on HEAD".into());
        }
        return p;
    }
    let is_fhir = r.header("content-type").is_some_and(|c| c.starts_with("application/fhir+json"));
    let json = r.json();
    if (400..500).contains(&r.status) {
        if r.body.len() > 4096 {
            p.push(format!("a {}-byte error answer: it echoes its input", r.body.len()));
        }
        let issues =
            json.as_ref().filter(|j| j["resourceType"] == "OperationOutcome").and_then(|j| j["issue"].as_array());
        match issues {
            Some(issues) if is_fhir && !issues.is_empty() => {
                if let Some(c) = code
                    && !issues.iter().any(|i| i["code"] == c)
                {
                    p.push(format!("no issue with code {c}"));
                }
            }
            _ => p.push("a 4xx without an OperationOutcome (application/fhir+json)".into()),
        }
    } else if (200..300).contains(&r.status) && json.is_none() {
        p.push("a 2xx without a JSON body".into());
    }
    p
}

fn run_corpus(app: &TestApp) {
    assert_eq!(
        without_cursors(r#"{"url":"L?a=1&_cursor=R2d2&b=2"},"_cursor=x""#),
        r#"{"url":"L?a=1&_cursor=&b=2"},"_cursor=""#
    );
    let all = cases();
    assert!(all.len() >= 200, "the corpus has {} cases", all.len());
    let vars = variables(app);
    let mut failures = Vec::new();
    for case in &all {
        let bytes = request_bytes(case, &vars);
        let found = match exchange(&vars["HOST"], &bytes, Duration::from_secs(20)) {
            Ok(r) => problems(case, &r).into_iter().map(|m| (m, r.text())).collect::<Vec<_>>(),
            Err(e) => vec![(format!("no answer: {e}"), String::new())],
        };
        for (m, body) in found {
            failures.push(format!("line {}: {:.120}\n    {m}\n    body: {body:.300}", case.line, case.request));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), all.len(), failures.join("\n"));
    // The server is still up and serving after the whole corpus.
    assert_eq!(app.get("Location?_count=1").status, 200);
}

/// The harness itself: a changed expectation makes a case fail.
#[test]
fn corpus_expectations_can_fail() {
    let r = RawResponse {
        status: 400,
        headers: vec![("content-type".into(), "application/fhir+json".into()), ("x-request-id".into(), "x".into())],
        body: br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}"#.to_vec(),
    };
    let case = |expect| Case { line: 0, expect, request: "GET /x".into(), headers: vec![], body: None };
    assert!(problems(&case(Expect::Status(400, Some("invalid".into()))), &r).is_empty());
    assert!(!problems(&case(Expect::Status(404, None)), &r).is_empty());
    assert!(!problems(&case(Expect::Status(400, Some("not-found".into()))), &r).is_empty());
    assert!(!problems(&case(Expect::Codec(400)), &r).is_empty());
    let plain = RawResponse { headers: vec![("x-request-id".into(), "x".into())], body: b"Bad Request".to_vec(), ..r };
    assert!(!problems(&case(Expect::Status(400, None)), &plain).is_empty());
    assert_eq!(unescape(r"a\r\n\x00\s\\"), b"a\r\n\0 \\");
}

crate::both_backends!(run_corpus);
