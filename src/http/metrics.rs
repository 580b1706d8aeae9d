//! The server's Prometheus metrics (`prometheus-client`: an explicit registry per server, so two
//! servers in one process, as in the tests, count apart), served by the admin listener
//! ([`super::admin`]) in the Prometheus text format.
//!
//! Every label takes few values, none copied from the request: the route is one of the server's
//! (`/fhir/{type}`, `/fhir/{type}/{id}`, …, `other`), the type the resource type it names when it
//! is one this server serves (empty otherwise), the method one of those served or `other`, the
//! status the code, the reason of a failed TLS handshake one of [`Reason::ALL`].
//!
//! Counts kept elsewhere in the process (admission control, reloads, TLS handshakes) are read at
//! each scrape into counters here; the imports, which other processes commit, are read from the
//! database at each scrape and encoded as they are read (omitted when it does not answer).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::ServiceResponse;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::admission::Admission;
use super::authenticate::Principal;
use crate::auth::handshakes::{HandshakeCounts, Reason};
use crate::base::reloads::ReloadCounts;
use crate::db::read::ImportTotals;
use crate::db::run::Runner;

mod db;
mod labels;
use labels::{method_of, route_of, shape_of};

/// A request's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    r#type: &'static str,
    method: &'static str,
    status: u16,
}

/// A route's labels.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    r#type: &'static str,
    /// The scenario shape of a search (see [`labels::shape_of`]).
    shape: &'static str,
}

/// A consumer's label: its name in the registry (`-` for requests without one).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumerLabels {
    consumer: String,
}

/// A reloaded file's labels: which (`registry`, `crl`), and what came of it (`reloaded`, `refused`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    file: &'static str,
    outcome: &'static str,
}

/// A failed TLS handshake's label: why (see [`Reason`]).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandshakeLabels {
    reason: &'static str,
}

/// An imported resource's label: what the import did with it.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// What a scrape reads besides the counters kept here.
pub struct Sources<'a> {
    /// The database runner (its pools).
    pub runner: &'a Runner,
    /// Admission control.
    pub admission: Option<&'a Admission>,
    /// The consumer registry's reloads.
    pub registry: Option<&'a ReloadCounts>,
    /// The CRLs' reloads.
    pub crls: Option<&'a ReloadCounts>,
    /// The failed TLS handshakes (with TLS).
    pub handshakes: Option<&'a HandshakeCounts>,
    /// The committed imports, as the database answered just now (`None`: it did not).
    pub imports: Option<ImportTotals>,
}

/// A database server's label: `primary`, or `replica-N` in the order given.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    server: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    // 0.25 ms to ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
    response_bytes: Family<RouteLabels, Counter>,
    pool_connections: Family<ServerLabels, Gauge>,
    pool_idle: Family<ServerLabels, Gauge>,
    pool_in_use: Family<ServerLabels, Gauge>,
    replica_up: Family<ServerLabels, Gauge>,
    consumers: Family<ConsumerLabels, Counter>,
    shed: Counter,
    in_flight: Gauge,
    waiting: Gauge,
    reloads: Family<ReloadLabels, Counter>,
    handshakes: Family<HandshakeLabels, Counter>,
    imports: Arc<Imports>,
    db: db::DbMetrics,
    /// Scrapes are encoded one at a time (the gauges are set just before), with the counts kept
    /// elsewhere as they were at the last one.
    scrape: Mutex<Seen>,
}

/// Counts kept elsewhere, as of the last scrape: the counters here grow by what they grew.
#[derive(Default)]
struct Seen {
    shed: u64,
    /// (reloaded, refused) of the registry, then of the CRLs.
    reloads: [(u64, u64); 2],
    /// Failed TLS handshakes, by reason (in the order of [`Reason::ALL`]).
    handshakes: [u64; Reason::ALL.len()],
    /// The serving connections' counts.
    db: crate::db::stats::DbCounts,
}

/// The committed imports as read at the scrape being encoded, encoded as they are (the database
/// keeps the counts: a value read, not counted here); nothing when the database did not answer.
#[derive(Debug, Default)]
struct Imports(Mutex<Option<ImportTotals>>);

impl Collector for Imports {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(t) = *self.0.lock().unwrap_or_else(PoisonError::into_inner) else { return Ok(()) };
        let count = |n: i64| ConstCounter::new(u64::try_from(n).unwrap_or(0));
        let runs = count(t.runs);
        let help = "Imports committed on this database (by any process; a refused file is not one)";
        runs.encode(encoder.encode_descriptor("import_runs", help, None, runs.metric_type())?)?;
        let help = "Resources of the committed imports, by what the import did with them";
        let mut family = encoder.encode_descriptor("import_resources", help, None, runs.metric_type())?;
        for (outcome, n) in [("inserted", t.inserted), ("updated", t.updated), ("unchanged", t.unchanged)] {
            count(n).encode(family.encode_family(&OutcomeLabels { outcome })?)?;
        }
        if let Some(us) = t.last_finished_at {
            // Seconds since the epoch, to the microsecond (exact in an f64 until 2255).
            let last = ConstGauge::new(us as f64 / 1e6);
            let help = "When the last committed import finished (Unix time, seconds)";
            last.encode(encoder.encode_descriptor("import_last_timestamp_seconds", help, None, last.metric_type())?)?;
        }
        Ok(())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The metrics, registered and at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ror");
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = HistogramFamily::<RouteLabels>::new_with_constructor(latency_buckets as fn() -> Histogram);
        let response_bytes = Family::<RouteLabels, Counter>::default();
        let pool_connections = Family::<ServerLabels, Gauge>::default();
        let pool_idle = Family::<ServerLabels, Gauge>::default();
        let pool_in_use = Family::<ServerLabels, Gauge>::default();
        let replica_up = Family::<ServerLabels, Gauge>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, type, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response's head, by route and type",
            duration.clone(),
        );
        registry.register(
            "http_response_body_bytes",
            "Bytes of response bodies of known length, by route and type",
            response_bytes.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Open serving connections, by database server",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Idle serving connections, by database server",
            pool_idle.clone(),
        );
        registry.register(
            "db_pool_in_use_connections",
            "Serving connections held by a request now, by database server",
            pool_in_use.clone(),
        );
        registry.register(
            "db_replica_up",
            "1 while reads go to this read replica, 0 while it is set aside",
            replica_up.clone(),
        );
        let consumers = Family::<ConsumerLabels, Counter>::default();
        registry.register("consumer_requests", "Requests answered, by consumer (registry name)", consumers.clone());
        let (shed, in_flight, waiting) = (Counter::default(), Gauge::default(), Gauge::default());
        registry.register("requests_shed", "Requests refused with 503 by admission control", shed.clone());
        registry.register("requests_in_flight", "Requests holding a place now", in_flight.clone());
        registry.register("requests_waiting", "Requests waiting for a place now", waiting.clone());
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "file_reloads",
            "Consumer registry and CRL files reloaded, or refused (the previous version stays in force)",
            reloads.clone(),
        );
        let (handshakes, imports) = register_outside(&mut registry);
        let db = db::DbMetrics::register(&mut registry);
        Self {
            registry,
            requests,
            duration,
            response_bytes,
            pool_connections,
            pool_idle,
            pool_in_use,
            replica_up,
            consumers,
            shed,
            in_flight,
            waiting,
            reloads,
            handshakes,
            imports,
            db,
            scrape: Mutex::new(Seen::default()),
        }
    }

    /// Counts one answered request.
    pub fn observe<B: actix_web::body::MessageBody>(&self, res: &ServiceResponse<B>, elapsed: Duration) {
        let (route, rt) = route_of(res.request().path());
        let method = method_of(res.request().method());
        let status = res.status().as_u16();
        self.requests.get_or_create(&RequestLabels { route, r#type: rt, method, status }).inc();
        let shape = shape_of(route, method, res.request().query_string());
        let labels = RouteLabels { route, r#type: rt, shape };
        self.duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
        if let actix_web::body::BodySize::Sized(n) = res.response().body().size() {
            self.response_bytes.get_or_create(&labels).inc_by(n);
        }
        let consumer = match res.request().extensions().get::<Principal>() {
            Some(p) => p.0.name.clone(),
            None => "-".to_owned(),
        };
        self.consumers.get_or_create(&ConsumerLabels { consumer }).inc();
    }

    /// The metrics in the Prometheus text format, the database pools' state read now.
    pub fn render(&self, from: &Sources<'_>) -> String {
        let mut seen = self.scrape.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A count kept elsewhere, added as what it grew by since the last scrape.
        let grow = |counter: &Counter, now: u64, seen: &mut u64| {
            counter.inc_by(now.saturating_sub(*seen));
            *seen = now.max(*seen);
        };
        if let Some(a) = from.admission {
            let (shed, in_flight, waiting) = a.counts();
            grow(&self.shed, shed, &mut seen.shed);
            self.in_flight.set(i64::try_from(in_flight).unwrap_or(i64::MAX));
            self.waiting.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        }
        for (i, (file, counts)) in [("registry", from.registry), ("crl", from.crls)].into_iter().enumerate() {
            let Some(counts) = counts else { continue };
            let (reloaded, refused) = counts.get();
            let label = |outcome| ReloadLabels { file, outcome };
            let (seen_reloaded, seen_refused) = &mut seen.reloads[i];
            grow(&self.reloads.get_or_create(&label("reloaded")), reloaded, seen_reloaded);
            grow(&self.reloads.get_or_create(&label("refused")), refused, seen_refused);
        }
        if let Some(h) = from.handshakes {
            for ((reason, n), seen) in h.get().into_iter().zip(&mut seen.handshakes) {
                grow(&self.handshakes.get_or_create(&HandshakeLabels { reason: reason.label() }), n, seen);
            }
        }
        *self.imports.0.lock().unwrap_or_else(PoisonError::into_inner) = from.imports;
        let runner = from.runner;
        let now = runner.stats().get();
        self.db.grow(&std::mem::replace(&mut seen.db, now), &now);
        for (i, (connections, idle, up)) in runner.pool_states().into_iter().enumerate() {
            let server = ServerLabels { server: if i == 0 { "primary".to_owned() } else { format!("replica-{i}") } };
            self.pool_connections.get_or_create(&server).set(i64::from(connections));
            self.pool_idle.get_or_create(&server).set(i64::from(idle));
            self.pool_in_use.get_or_create(&server).set(i64::from(connections.saturating_sub(idle)));
            if i > 0 {
                self.replica_up.get_or_create(&server).set(i64::from(up));
            }
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            log::error!("cannot encode the metrics: {e}");
        }
        out
    }
}

/// Registers the metrics of what happens outside requests: failed TLS handshakes (counted here
/// from the TLS contexts' counts) and committed imports (read from the database).
fn register_outside(registry: &mut Registry) -> (Family<HandshakeLabels, Counter>, Arc<Imports>) {
    let handshakes = Family::<HandshakeLabels, Counter>::default();
    registry.register(
        "tls_handshake_failures",
        "TLS handshakes that failed, by reason: the client certificate refused (unknown-ca, expired, \
         not-yet-valid, revoked, wrong-purpose, no-crl, certificate-other) or the handshake ended \
         before it was judged (incomplete: no certificate, no common protocol or cipher, client gone, \
         timeout); a connection that sends no TLS ClientHello (plain HTTP) is not seen",
        handshakes.clone(),
    );
    let imports = Arc::new(Imports::default());
    registry.register_collector(Box::new(imports.clone()));
    (handshakes, imports)
}
