//! HTTP layer: routes, content negotiation, request ids, and the mapping of everything to FHIR
//! responses. Handlers stay short: parse, call one function, respond.

pub mod admin;
pub mod admission;
pub mod aggregates;
pub mod authenticate;
pub mod body;
pub mod coalesce;
pub mod compress;
pub mod conditional;
mod dbcall;
pub mod error;
pub mod export;
pub mod handlers;
pub mod listener;
pub mod map;
pub mod metrics;
pub mod negotiate;
pub mod peer;
pub mod pieces;
pub mod release;
pub mod shutdown;
pub mod stream;
pub mod telemetry;

use std::sync::Arc;

use actix_web::web;

use crate::db::run::Runner;
use crate::error::AppError;
use crate::search::limits::SearchLimits;
pub use telemetry::{RequestId, request_id_of};

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
    /// Search totals remembered per search and consumer.
    pub counts: Arc<crate::service::memo::GenerationMemo<u64>>,
    /// Validators of search answers remembered per page and consumer (conditional searches).
    pub tags: Arc<crate::service::memo::GenerationMemo<String>>,
    /// The capacity aggregates' areas remembered per scope and data generation.
    pub areas: Arc<crate::service::aggregates::AreasMemo>,
    /// Bulk Data export jobs (`None`: exports are not served).
    pub exports: Option<Arc<crate::service::export::Exports>>,
    /// Export files being sent.
    pub downloads: stream::Streams,
}

const READ_ONLY: &str = "this server is read-only: only read and search interactions are supported";

async fn get_only() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(READ_ONLY.into(), "GET, HEAD"))
}

async fn post_only() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(format!("{READ_ONLY}; _search takes POST"), "POST"))
}

/// `resource` answering GET and HEAD with `handler`, and 405 to any other method.
fn readable<F, Args>(resource: actix_web::Resource, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource.route(web::get().to(handler.clone())).route(web::head().to(handler)).default_service(web::to(get_only))
}

/// `resource` (a `_search`) answering POST with `handler`, and 405 to any other method.
fn posted<F, Args>(resource: actix_web::Resource, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource.route(web::post().to(handler)).default_service(web::to(post_only))
}

async fn nothing_allowed() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed(format!("{READ_ONLY}; batch and transaction Bundles are not accepted"), ""))
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("no such endpoint".into()))
}

/// Registers every route. HEAD is answered wherever GET is (the same status and headers, no body).
pub fn routes(cfg: &mut web::ServiceConfig) {
    // The capacity map (`/map`, its assets, and `/` → `/map`), behind the same authentication.
    cfg.configure(map::routes);
    cfg.service(readable(web::resource("/health"), handlers::health))
        .service(readable(web::resource("/ready"), handlers::ready))
        .service(
            web::scope("/fhir")
                .configure(export::routes)
                .configure(aggregates::routes)
                .service(readable(web::resource("/metadata"), handlers::metadata))
                .service(posted(web::resource("/{type}/_search"), handlers::search_post))
                .service(readable(web::resource("/{type}/{id}"), handlers::read))
                .service(readable(web::resource("/{type}"), handlers::search_get))
                .service(web::resource(["", "/"]).default_service(web::to(nothing_allowed)))
                .default_service(web::to(not_found)),
        )
        .default_service(web::to(not_found));
}
