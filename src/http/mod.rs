//! HTTP layer: routes, content negotiation, request ids, and the mapping of everything to FHIR
//! responses. Handlers stay short: parse, call one function, respond.

pub mod admission;
pub mod authenticate;
pub mod body;
mod dbcall;
pub mod error;
pub mod handlers;
pub mod negotiate;
pub mod peer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use crate::db::run::Runner;
use crate::search::limits::SearchLimits;
use error::AppError;

/// Shared, read-only server state.
pub struct AppState {
    /// Runs database work on the read-only pool.
    pub db: Arc<Runner>,
    /// Time budget of one request's database work.
    pub statement_budget: std::time::Duration,
    /// Search limits.
    pub limits: SearchLimits,
    /// Configured public base URL.
    pub base_url: Option<String>,
    /// HMAC key of paging cursors.
    pub cursor_secret: Vec<u8>,
    /// Addresses of trusted reverse proxies: only their forwarding headers shape links.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Request id, in request extensions and the `X-Request-Id` response header.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// The request id of `req` (empty if it has none).
pub fn request_id_of(req: &actix_web::HttpRequest) -> String {
    req.extensions().get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_default()
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

/// Assigns a request id, adds it to the response and logs one access line.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id: Arc<str> = Arc::from(new_request_id());
    req.extensions_mut().insert(RequestId(id.clone()));
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let mut res = next.call(req).await?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), v);
    }
    log::info!(
        target: "access",
        "request_id={id} method={method} path={path} status={} duration_us={}",
        res.status().as_u16(),
        started.elapsed().as_micros()
    );
    Ok(res)
}

const READ_ONLY: &str = "this server is read-only: only read and search interactions are supported";

async fn get_only() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(READ_ONLY.into(), "GET, HEAD"))
}

async fn post_only() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(format!("{READ_ONLY}; _search takes POST"), "POST"))
}

async fn nothing_allowed() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(format!("{READ_ONLY}; batch and transaction Bundles are not accepted"), ""))
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("no such endpoint".into()))
}

/// Registers every route. HEAD is answered wherever GET is (the same status and headers, no body).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/health")
            .route(web::get().to(handlers::health))
            .route(web::head().to(handlers::health))
            .default_service(web::to(get_only)),
    )
    .service(
        web::resource("/ready")
            .route(web::get().to(handlers::ready))
            .route(web::head().to(handlers::ready))
            .default_service(web::to(get_only)),
    )
    .service(
        web::scope("/fhir")
            .service(
                web::resource("/metadata")
                    .route(web::get().to(handlers::metadata))
                    .route(web::head().to(handlers::metadata))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/{type}/_search")
                    .route(web::post().to(handlers::search_post))
                    .default_service(web::to(post_only)),
            )
            .service(
                web::resource("/{type}/{id}")
                    .route(web::get().to(handlers::read))
                    .route(web::head().to(handlers::read))
                    .default_service(web::to(get_only)),
            )
            .service(
                web::resource("/{type}")
                    .route(web::get().to(handlers::search_get))
                    .route(web::head().to(handlers::search_get))
                    .default_service(web::to(get_only)),
            )
            .service(web::resource(["", "/"]).default_service(web::to(nothing_allowed)))
            .default_service(web::to(not_found)),
    )
    .default_service(web::to(not_found));
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
