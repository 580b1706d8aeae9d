//! Test harness: a real server on a random port over a real database (an SQLite file, or a fresh
//! PostgreSQL database on the machine's server), loaded with a generated dataset whose JSON the
//! tests read independently to derive the expected answers.
//!
//! - [`TestApp::builder`] sets a server up as it is deployed and starts it ([`app`]);
//! - [`TestDb`] is a database made for one test and dropped with it ([`db`]);
//! - [`Dataset`] is the generated data ([`dataset`]);
//! - the helpers here read answers, and [`both_backends!`] / [`each_backend!`] declare a test per
//!   backend, PostgreSQL's skipped loudly where PostgreSQL cannot be reached ([`skip_without_postgres`]).
//!
//! The API is read-only, so one server per backend is shared by the read tests ([`app()`]); tests
//! that change data, or need another set-up, start their own.

mod app;
pub mod cluster;
mod dataset;
mod db;
pub mod figures;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

pub use app::{Shared, TestApp, app};
pub use dataset::{Dataset, dataset, generated};
pub use db::{Backend, TestDb, pg_admin_url, skip_without_postgres};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh scratch directory under cargo's target tmpdir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("api-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A response: status, headers and JSON body.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl From<reqwest::blocking::Response> for Resp {
    fn from(r: reqwest::blocking::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, headers, body }
    }
}

/// The result of following `next` links.
#[derive(Debug, Default)]
pub struct Walk {
    pub matches: Vec<String>,
    pub includes: Vec<String>,
    pub totals: Vec<Option<u64>>,
    pub pages: usize,
}

/// `link[next].url`, if any.
pub fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|l| l["relation"] == "next")
        .and_then(|l| l["url"].as_str())
        .map(str::to_owned)
}

/// Match ids of one Bundle page.
pub fn match_ids(bundle: &Value) -> BTreeSet<String> {
    entry_ids(bundle, "match")
}

/// Ids of the entries with `search.mode` = `mode`.
pub fn entry_ids(bundle: &Value, mode: &str) -> BTreeSet<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == mode)
        .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The OperationOutcome issue codes of a body.
pub fn issue_codes(body: &Value) -> Vec<String> {
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    body["issue"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_owned()).collect()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Declares one test per backend for a `fn(&TestApp)` check on the shared server.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::helpers::app($crate::helpers::Backend::Sqlite)); } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if $crate::helpers::skip_without_postgres(concat!(module_path!(), "::", stringify!($name))) {
                    return;
                }
                super::$name($crate::helpers::app($crate::helpers::Backend::Postgres));
            } )*
        }
    };
}

/// Declares one test per backend for a `fn(Backend)` check that builds its own server.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        mod each_sqlite {
            $( #[test] fn $name() { super::$name($crate::helpers::Backend::Sqlite); } )*
        }
        mod each_postgres {
            $( #[test] fn $name() {
                if $crate::helpers::skip_without_postgres(concat!(module_path!(), "::", stringify!($name))) {
                    return;
                }
                super::$name($crate::helpers::Backend::Postgres);
            } )*
        }
    };
}
