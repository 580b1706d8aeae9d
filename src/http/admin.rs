//! The admin listener (`--admin-bind`): plain HTTP for load balancers, orchestrators and Prometheus,
//! which present no client certificate. It serves `/health`, `/ready` (the same answers as on the
//! FHIR listener, which keeps them) and `/metrics`, and nothing of the FHIR data: every other path
//! is a 404.

use actix_web::{HttpResponse, web};

use super::AppState;
use super::admission::Admission;
use super::handlers;
use super::metrics::Metrics;

/// `GET /metrics`: the Prometheus text format.
async fn metrics(
    metrics: web::Data<Metrics>,
    state: web::Data<AppState>,
    admission: Option<web::Data<std::sync::Arc<Admission>>>,
) -> HttpResponse {
    let runner = state.db.clone();
    let metrics = metrics.into_inner();
    let admission = admission.map(|a| a.get_ref().clone());
    // Reading the pools' state takes their locks: off the async threads.
    match web::block(move || metrics.render(&runner, admission.as_deref())).await {
        Ok(text) => HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text),
        Err(e) => {
            log::error!("metrics: {e}");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

async fn not_here() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain")
        .body("the admin listener serves /health, /ready and /metrics only\n")
}

/// The admin listener's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/health").route(web::get().to(handlers::health)).route(web::head().to(handlers::health)),
    )
    .service(web::resource("/ready").route(web::get().to(handlers::ready)).route(web::head().to(handlers::ready)))
    .service(web::resource("/metrics").route(web::get().to(metrics)))
    .default_service(web::to(not_here));
}
