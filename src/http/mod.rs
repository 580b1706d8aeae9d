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
            .configure(export::routes)
            .configure(aggregates::routes)
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
