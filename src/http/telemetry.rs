//! The one telemetry middleware, outermost: gives each request its id (in the request's
//! extensions and the `X-Request-Id` response header), times it, and writes its two lines when it
//! ends: the access line (`target: access`) and the audit line (`target: audit`: who, with which
//! profile, asked what, the status and how many resources were sent), also copied into an
//! [`AuditCapture`] when the server was built with one (tests read them there).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::authenticate::Principal;

/// Request id, in request extensions and the `X-Request-Id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// The request id of `req` (empty if it has none).
pub fn request_id_of(req: &actix_web::HttpRequest) -> String {
    req.extensions().get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_default()
}

/// Number of resources in a response, for the audit line (set by handlers).
#[derive(Debug, Clone, Copy)]
pub struct ResourceCount(pub usize);

/// Where audit lines go besides the log (tests read them from here).
#[derive(Debug, Clone, Default)]
pub struct AuditCapture(pub Arc<Mutex<Vec<String>>>);

impl AuditCapture {
    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// Request ids made while the random generator fails: `n` and a counter (16 characters like the
/// random ones, never equal to one since `n` is not a hex digit). Ids are not secret, only unique.
static FALLBACK_IDS: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    request_id_from(openssl::rand::rand_bytes)
}

fn request_id_from(fill: impl FnOnce(&mut [u8]) -> Result<(), openssl::error::ErrorStack>) -> String {
    let mut b = [0u8; 8];
    match fill(&mut b) {
        Ok(()) => b.iter().map(|x| format!("{x:02x}")).collect(),
        Err(_) => format!("n{:015x}", FALLBACK_IDS.fetch_add(1, Ordering::Relaxed)),
    }
}

/// Middleware: the request id, then the access and audit lines of the request when it ends.
pub async fn telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id: Arc<str> = Arc::from(new_request_id());
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let target = match req.query_string() {
        "" => path.clone(),
        q => format!("{path}?{q}"),
    };
    let mut res = next.call(req).await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
    }
    let status = res.status().as_u16();
    let took = started.elapsed();
    if let Some(metrics) = res.request().app_data::<web::Data<super::metrics::Metrics>>() {
        metrics.observe(&res, took);
    }
    let elapsed = took.as_micros();
    let duration_us = u64::try_from(elapsed).unwrap_or(u64::MAX);
    log::info!(
        target: "access",
        request_id = id.as_ref(), method = method.as_str(), path = path.as_str(), status = status, duration_us = duration_us;
        "request_id={id} method={method} path={path} status={status} duration_us={elapsed}"
    );
    let (who, profile) = match res.request().extensions().get::<Principal>() {
        Some(p) => (p.0.name.clone(), p.0.profile.number().to_string()),
        None => ("-".to_owned(), "-".to_owned()),
    };
    let count = res.response().extensions().get::<ResourceCount>().map_or(0, |c| c.0);
    let line = format!(
        "time={} request_id={id} consumer={who} profile={profile} method={method} target={target:?} status={status} resources={count} duration_us={elapsed}",
        crate::base::instant::format_instant(crate::base::clock::now_us()),
    );
    if let Some(capture) = res.request().app_data::<web::Data<AuditCapture>>()
        && let Ok(mut lines) = capture.0.lock()
    {
        lines.push(line.clone());
    }
    log::info!(
        target: "audit",
        request_id = id.as_ref(), consumer = who.as_str(), profile = profile.as_str(), method = method.as_str(),
        request = target.as_str(), status = status, resources = count, duration_us = duration_us;
        "{line}"
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_stay_unique_without_the_random_generator() {
        let failing = |_: &mut [u8]| Err(openssl::error::ErrorStack::get());
        let (a, b) = (request_id_from(failing), request_id_from(failing));
        assert_ne!(a, b);
        assert!(a.starts_with('n') && a.len() == 16, "{a}");
        let r = new_request_id();
        assert!(r.len() == 16 && r.bytes().all(|c| c.is_ascii_hexdigit()), "{r}");
    }
}
