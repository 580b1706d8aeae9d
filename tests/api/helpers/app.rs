//! [`TestApp`]: a real server on a random port of 127.0.0.1 over its own [`TestDb`], made by
//! [`TestApp::builder`] the way the server is deployed (plain HTTP or mutual TLS, one access profile
//! or a consumer registry, trusted proxies, configuration overrides), with request helpers.
//!
//! ```ignore
//! let app = TestApp::builder(Backend::Postgres).tls().proxy(trust).start();
//! let (status, body) = app.get_as(&pki().profiles[2], "Location?_count=1");
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use ror_capacity::auth::policy::Profile;
use ror_capacity::auth::{AuthMode, ProxyTrust};
use ror_capacity::config::ServerConfig;
use ror_capacity::http::telemetry::AuditCapture;
use ror_capacity::startup::StartError;
use serde_json::Value;

use super::{Backend, Dataset, Resp, TestDb, Walk, dataset, next_link, scratch_dir};
use crate::pki::{ClientCert, https_client, pki, registry_text};

/// A configuration override, applied last.
type Tweak = Box<dyn FnOnce(&mut ServerConfig)>;

/// How a [`TestApp`] is set up; [`TestAppBuilder::start`] starts it.
///
/// By default: plain HTTP, every request treated as a profile-1 consumer (`ServerConfig::new`),
/// a pool of 4 connections, on a new database loaded with the shared [`dataset`].
#[must_use]
pub struct TestAppBuilder {
    backend: Backend,
    tls: bool,
    profile: Option<u8>,
    registry: Option<String>,
    proxy: Option<ProxyTrust>,
    dataset: bool,
    extra: Vec<PathBuf>,
    database: Option<Arc<TestDb>>,
    tweaks: Vec<Tweak>,
}

impl TestAppBuilder {
    /// Mutual TLS with the test PKI ([`pki`]); consumers come from the registry, by default the
    /// standard one ([`registry_text`] for the dataset's first region).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Plain HTTP without client authentication: every request acts as a profile-`n` consumer.
    pub fn insecure_profile(mut self, n: u8) -> Self {
        self.profile = Some(n);
        self
    }

    /// The consumer registry file's text (instead of the standard one); the running app names
    /// the file ([`TestApp::registry`]) for tests that rewrite it.
    pub fn registry(mut self, text: impl Into<String>) -> Self {
        self.registry = Some(text.into());
        self
    }

    /// Trusted reverse proxies (with the registry, standard unless [`Self::registry`] is given).
    pub fn proxy(mut self, proxy: ProxyTrust) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Changes the configuration after everything else is set (several calls apply in order).
    pub fn config(mut self, tweak: impl FnOnce(&mut ServerConfig) + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Imports `file` after the dataset (or alone after [`Self::empty`]).
    pub fn import(mut self, file: impl Into<PathBuf>) -> Self {
        self.extra.push(file.into());
        self
    }

    /// Does not import the shared dataset (the app's `data` still describes it, for tests that
    /// import it themselves).
    pub fn empty(mut self) -> Self {
        self.dataset = false;
        self
    }

    /// Serves `db` instead of a new database (several servers may share one); the imports happen
    /// all the same, unless [`Self::empty`].
    pub fn database(mut self, db: Arc<TestDb>) -> Self {
        assert_eq!(db.backend(), self.backend, "the database is not on the app's backend");
        self.database = Some(db);
        self
    }

    /// Starts the server (migrating and importing first); panics if it does not start.
    pub fn start(self) -> TestApp {
        self.try_start().unwrap_or_else(|e| panic!("the test server did not start: {e}"))
    }

    /// Starts the server, or returns why it refused to.
    pub fn try_start(self) -> Result<TestApp, StartError> {
        let data = dataset().clone();
        let db = self.database.clone().unwrap_or_else(|| Arc::new(TestDb::new(self.backend)));
        let mut files: Vec<&std::path::Path> = Vec::new();
        if self.dataset {
            files.push(&data.path);
        }
        files.extend(self.extra.iter().map(PathBuf::as_path));
        db.import(&files).unwrap();
        let (config, registry) = self.server_config(&db, &data);
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let audit = AuditCapture::default();
        let Serving { addr, admin, handle, thread } = serve(config, audit.clone())?;
        let client = match scheme {
            "https" => https_client(pki(), None),
            _ => reqwest::blocking::Client::builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        let base = format!("{scheme}://{addr}/fhir");
        let admin = admin.map(|a| format!("http://{a}"));
        Ok(TestApp { base, admin, db, data, audit, registry, client, server: Some((handle, thread)) })
    }

    /// The configuration, and the registry file it names (if any).
    fn server_config(self, db: &TestDb, data: &Dataset) -> (ServerConfig, Option<PathBuf>) {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), db.db_url());
        config.pool_size = 4;
        if self.tls {
            config.tls = Some(pki().tls.clone());
        }
        let wants_registry = self.tls || self.proxy.is_some() || self.registry.is_some();
        let registry = wants_registry.then(|| {
            let text = self.registry.unwrap_or_else(|| registry_text(pki(), &data.first_region()));
            let path = scratch_dir("registry").join("consumers.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
        match (self.profile, &registry) {
            (Some(n), None) => config.auth = AuthMode::Insecure { profile: Profile::new(n).unwrap() },
            (None, Some(path)) => config.auth = AuthMode::Registry { consumers: path.clone(), proxy: self.proxy },
            (None, None) => {}
            (Some(_), Some(_)) => panic!("an insecure profile excludes TLS, a registry and proxies"),
        }
        for tweak in self.tweaks {
            tweak(&mut config);
        }
        (config, registry)
    }
}

/// A server running on a thread of its own.
struct Serving {
    addr: SocketAddr,
    admin: Option<SocketAddr>,
    handle: ServerHandle,
    thread: JoinHandle<()>,
}

/// Migrates, then runs the server on a thread of its own (with its actix system); returns its
/// addresses, its handle and the thread, which ends when the server has stopped.
fn serve(config: ServerConfig, audit: AuditCapture) -> Result<Serving, StartError> {
    ror_capacity::startup::migrate(&config.database).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match ror_capacity::startup::build_with_audit(&config, Some(audit)) {
                Ok(built) => {
                    tx.send(Ok((built.addr, built.admin, built.server.handle()))).unwrap();
                    let _ = built.server.await;
                }
                Err(e) => tx.send(Err(e)).unwrap(),
            }
        });
    });
    let (addr, admin, handle) = rx.recv().unwrap()?;
    Ok(Serving { addr, admin, handle, thread })
}

/// A running server over its database. Dropping it stops the server (gracefully, waiting until
/// it has stopped), then lets go of the database, which is dropped with its last holder.
pub struct TestApp {
    /// `http(s)://127.0.0.1:port/fhir`.
    pub base: String,
    /// `http://127.0.0.1:port` of the admin listener, when configured.
    pub admin: Option<String>,
    pub db: Arc<TestDb>,
    /// The shared dataset (whether or not it was imported).
    pub data: Arc<Dataset>,
    /// Every audit line the server wrote.
    pub audit: AuditCapture,
    /// The consumer registry file, when consumers come from one.
    pub registry: Option<PathBuf>,
    client: reqwest::blocking::Client,
    server: Option<(ServerHandle, JoinHandle<()>)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.server.take() {
            // The command is sent on the call; the server's thread ends once it has stopped.
            drop(handle.stop(true));
            let _ = thread.join();
        }
    }
}

/// Servers shared by the tests of a file, one per backend, started on first use. Never dropped:
/// their databases are among the leftovers the next run drops.
pub struct Shared([OnceLock<TestApp>; 2]);

impl Shared {
    /// None started yet.
    pub const fn new() -> Self {
        Self([OnceLock::new(), OnceLock::new()])
    }

    /// The server of `backend`, started by `make` the first time.
    pub fn get(&'static self, backend: Backend, make: impl FnOnce() -> TestApp) -> &'static TestApp {
        let cell = match backend {
            Backend::Sqlite => &self.0[0],
            Backend::Postgres => &self.0[1],
        };
        cell.get_or_init(make)
    }
}

/// The shared read-only server of `backend` (plain HTTP, profile 1, the dataset).
pub fn app(backend: Backend) -> &'static TestApp {
    static APPS: Shared = Shared::new();
    APPS.get(backend, || TestApp::builder(backend).start())
}

impl TestApp {
    /// A [`TestAppBuilder`] with the defaults.
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            tls: false,
            profile: None,
            registry: None,
            proxy: None,
            dataset: true,
            extra: Vec::new(),
            database: None,
            tweaks: Vec::new(),
        }
    }

    /// The database URL.
    pub fn database_url(&self) -> &str {
        self.db.url()
    }

    /// The server's root (`base` without `/fhir`), for `/health`, `/ready` and `/bench`.
    pub fn root(&self) -> &str {
        self.base.trim_end_matches("/fhir")
    }

    /// `path` relative to the FHIR base, or absolute.
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}/{path}", self.base) }
    }

    /// GET `path_and_query` (relative to the FHIR base, or absolute).
    pub fn get(&self, path_and_query: &str) -> Resp {
        self.get_with(path_and_query, &[])
    }

    /// GET with extra headers.
    pub fn get_with(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.client.get(self.url(path_and_query));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Resp::from(rb.send().unwrap())
    }

    /// GET with extra headers: the status, headers and body bytes as sent (not decoded).
    pub fn get_bytes(
        &self,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut rb = self.client.get(self.url(path_and_query));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, headers, r.bytes().unwrap().to_vec())
    }

    /// Any method with an optional body and content type.
    pub fn request(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Resp {
        let url = format!("{}/{path}", self.base);
        let mut rb = self.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some((ct, b)) = body {
            rb = rb.header("content-type", ct).body(b.to_owned());
        }
        Resp::from(rb.send().unwrap())
    }

    /// GET over a new TLS connection presenting `cert`: the status and the JSON body (`Null` if
    /// none).
    pub fn get_as(&self, cert: &ClientCert, path: &str) -> (u16, Value) {
        let r = https_client(pki(), Some(cert)).get(self.url(path)).send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
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
