//! Test harness: a real server on a random port over a real database (an SQLite file, or a fresh
//! PostgreSQL database on the machine's server), loaded with a generated dataset whose JSON the
//! tests read independently to derive the expected answers.
//!
//! The API is read-only, so one server per backend is shared by the read tests; tests that change
//! data start their own.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ror_capacity::config::ServerConfig;
use ror_capacity::db::{self, DbUrl};
use ror_capacity::generate::{GenerateOptions, generate};
use ror_capacity::http::telemetry::AuditCapture;
use ror_capacity::import;
use serde_json::Value;

/// Size of the shared test dataset.
pub const LOCATIONS: usize = 300;
/// Seed of the shared test dataset.
pub const SEED: u64 = 7;

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The generated resources, as JSON, by type and id.
#[derive(Debug, Default)]
pub struct Dataset {
    pub path: PathBuf,
    pub locations: BTreeMap<String, Value>,
    pub services: BTreeMap<String, Value>,
    pub organizations: BTreeMap<String, Value>,
}

impl Dataset {
    fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let mut d = Dataset { path: path.to_owned(), ..Default::default() };
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let id = v["id"].as_str().unwrap().to_owned();
            match v["resourceType"].as_str().unwrap() {
                "Location" => d.locations.insert(id, v),
                "HealthcareService" => d.services.insert(id, v),
                "Organization" => d.organizations.insert(id, v),
                other => panic!("unexpected {other}"),
            };
        }
        d
    }

    /// Identifier value of `resource` with TRE_R354 type `code` (Locations) or the first one.
    pub fn identifier(resource: &Value, type_code: Option<&str>) -> Option<String> {
        resource["identifier"].as_array()?.iter().find_map(|i| {
            let ok = match type_code {
                None => true,
                Some(c) => i["type"]["coding"].as_array().is_some_and(|cs| cs.iter().any(|x| x["code"] == c)),
            };
            if ok { i["value"].as_str().map(str::to_owned) } else { None }
        })
    }

    /// Ids of the offers whose `location` references `location_id`.
    pub fn services_of(&self, location_ids: &BTreeSet<String>) -> BTreeSet<String> {
        self.services
            .iter()
            .filter(|(_, s)| {
                s["location"].as_array().is_some_and(|ls| {
                    ls.iter().any(|l| {
                        l["reference"]
                            .as_str()
                            .and_then(|r| r.strip_prefix("Location/"))
                            .is_some_and(|id| location_ids.contains(id))
                    })
                })
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Ids of the places linked to a sensitive unit (their capacity is never shown).
    pub fn sensitive_locations(&self) -> BTreeSet<String> {
        self.services
            .values()
            .filter(|s| {
                s["extension"].as_array().is_some_and(|e| {
                    e.iter().any(|x| {
                        x["url"].as_str().is_some_and(|u| u.ends_with("ror-healthcareservice-sensitive-unit"))
                            && x["valueBoolean"] == true
                    })
                })
            })
            .flat_map(|s| s["location"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| l["reference"].as_str().map(|r| r.trim_start_matches("Location/").to_owned()))
            .collect()
    }

    /// Location ids whose `meta.lastUpdated` (UTC, seconds, `Z`) satisfies `pred` on its text.
    pub fn locations_where(&self, pred: impl Fn(&Value) -> bool) -> BTreeSet<String> {
        self.locations.iter().filter(|(_, v)| pred(v)).map(|(id, _)| id.clone()).collect()
    }
}

/// A running server.
pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub data: Arc<Dataset>,
    pub client: reqwest::blocking::Client,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh scratch directory under cargo's target tmpdir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("api-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shared generated dataset.
pub fn dataset() -> &'static Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = scratch_dir("dataset");
        let path = dir.join("dataset.ndjson");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let opts = GenerateOptions { locations: LOCATIONS, seed: SEED, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
        generate(&opts, &mut f).unwrap();
        drop(f);
        Arc::new(Dataset::load(&path))
    })
}

/// The maintenance URL of the PostgreSQL server used by the tests.
pub fn pg_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether a PostgreSQL test is to be skipped: the server at [`pg_admin_url`] cannot be reached and
/// `ROR_REQUIRE_POSTGRES` is not set. `.ci/run` sets it: there, an unreachable PostgreSQL fails the
/// run. A skip is written to the terminal (past the test harness's capture), never passed silently.
pub fn skip_without_postgres(test: &str) -> bool {
    static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let reachable =
        REACHABLE.get_or_init(|| PgConnection::establish(&pg_admin_url()).map(drop).map_err(|e| e.to_string()));
    let Err(why) = reachable else { return false };
    let url = pg_admin_url();
    assert!(
        std::env::var_os("ROR_REQUIRE_POSTGRES").is_none(),
        "PostgreSQL is required (ROR_REQUIRE_POSTGRES is set) but {url} cannot be reached: {why}"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: PostgreSQL at {url} cannot be reached ({}); start it or set TEST_DATABASE_URL",
        why.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    true
}

/// Creates an empty PostgreSQL database and returns its URL.
pub fn fresh_pg_database() -> String {
    let admin = pg_admin_url();
    let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
        panic!("PostgreSQL is required by the test suite ({admin}): {e}. Start it, or set TEST_DATABASE_URL.")
    });
    static CLEANED: OnceLock<()> = OnceLock::new();
    CLEANED.get_or_init(|| {
        // Leftovers of earlier runs; a database still in use by a running suite refuses to drop.
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let names: Vec<Name> = diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'ror_test_%'"),
            &mut conn,
        )
        .unwrap_or_default();
        for n in names {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\"", n.datname));
        }
    });
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("ror_test_{}_{n}_{nanos}", std::process::id());
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
    let (prefix, _) = admin.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

/// A fresh, empty database URL on `backend`.
pub fn fresh_database(backend: Backend, tag: &str) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", scratch_dir(tag).join("ror.db").display()),
        Backend::Postgres => fresh_pg_database(),
    }
}

/// Imports files into `database_url` (migrating first).
pub fn import_files(database_url: &str, files: &[&Path]) -> Result<(), import::ImportError> {
    let url = DbUrl::parse(database_url).unwrap();
    ror_capacity::startup::migrate(&url).unwrap();
    let mut conn = db::connect(&url, false).unwrap();
    for f in files {
        import::import_file(&mut conn, f, false)?;
    }
    Ok(())
}

/// Starts a server on `database_url` (migrating it first, as `serve` does) and returns its address.
pub fn start_server(config: ServerConfig) -> SocketAddr {
    start_server_with_audit(config, None)
}

/// [`start_server`], copying the audit lines into `audit`.
pub fn start_server_with_audit(config: ServerConfig, audit: Option<AuditCapture>) -> SocketAddr {
    ror_capacity::startup::migrate(&config.database).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match ror_capacity::startup::build_with_audit(&config, audit) {
                Ok((server, addr)) => {
                    tx.send(Ok(addr)).unwrap();
                    let _ = server.await;
                }
                Err(e) => tx.send(Err(e.to_string())).unwrap(),
            }
        });
    });
    rx.recv().unwrap().unwrap()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().no_proxy().timeout(std::time::Duration::from_secs(60)).build().unwrap()
}

/// A server over a new database loaded with the shared dataset (plus `config` tweaks).
pub fn spawn_app(backend: Backend, tweak: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let data = dataset().clone();
    let database_url = fresh_database(backend, "app");
    import_files(&database_url, &[&data.path]).unwrap();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), db::DbUrl::parse(&database_url).unwrap());
    config.pool_size = 4;
    tweak(&mut config);
    let addr = start_server(config);
    TestApp { base: format!("http://{addr}/fhir"), database_url, data, client: client() }
}

/// The shared read-only server of `backend`.
pub fn app(backend: Backend) -> &'static TestApp {
    static SQLITE: OnceLock<TestApp> = OnceLock::new();
    static POSTGRES: OnceLock<TestApp> = OnceLock::new();
    match backend {
        Backend::Sqlite => SQLITE.get_or_init(|| spawn_app(Backend::Sqlite, |_| {})),
        Backend::Postgres => POSTGRES.get_or_init(|| spawn_app(Backend::Postgres, |_| {})),
    }
}

/// A response: status, headers and JSON body.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// GET `path_and_query` (relative to the FHIR base, or absolute).
    pub fn get(&self, path_and_query: &str) -> Resp {
        self.get_with(path_and_query, &[])
    }

    /// GET with extra headers.
    pub fn get_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Resp {
        let url = if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}/{path_and_query}", self.base)
        };
        let mut rb = self.client.get(url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Self::resp(rb.send().unwrap())
    }

    /// Any method with an optional body and content type.
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Resp {
        let url = format!("{}/{path}", self.base);
        let mut rb = self.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some((ct, b)) = body {
            rb = rb.header("content-type", ct).body(b.to_owned());
        }
        Self::resp(rb.send().unwrap())
    }

    fn resp(r: reqwest::blocking::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, headers, body }
    }

    /// Follows `next` links from `first` to the end; returns (match ids in order, include ids, totals seen, pages).
    pub fn walk(&self, first: &str) -> Walk {
        let mut w = Walk::default();
        let mut url = first.to_owned();
        loop {
            let r = self.get(&url);
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            w.pages += 1;
            w.totals.push(r.body["total"].as_u64());
            for e in r.body["entry"].as_array().into_iter().flatten() {
                let id = e["resource"]["id"].as_str().unwrap_or_default().to_owned();
                match e["search"]["mode"].as_str() {
                    Some("match") => w.matches.push(id),
                    Some("include") => w.includes.push(id),
                    _ => {}
                }
            }
            match next_link(&r.body) {
                Some(n) => url = n,
                None => break,
            }
            assert!(w.pages < 10_000, "paging does not end");
        }
        w
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
