//! The admin listener (`--admin-bind`): plain HTTP for load balancers, orchestrators and Prometheus,
//! which present no client certificate. It serves `/health`, `/ready` (the same answers as on the
//! FHIR listener, which keeps them) and `/metrics`, and nothing of the FHIR data: every other path
//! is a 404.

use std::sync::Arc;

use actix_web::{HttpResponse, web};

use super::AppState;
use super::admission::Admission;
use super::handlers;
use super::metrics::{Metrics, Sources};
use crate::auth::Authenticator;
use crate::auth::trust::ClientTrust;

/// `GET /metrics`: the Prometheus text format.
async fn metrics(
    metrics: web::Data<Metrics>,
    state: web::Data<AppState>,
    admission: Option<web::Data<Arc<Admission>>>,
    auth: Option<web::Data<Authenticator>>,
    trust: Option<web::Data<ClientTrust>>,
) -> HttpResponse {
    let runner = state.db.clone();
    let metrics = metrics.into_inner();
    let admission = admission.map(|a| a.get_ref().clone());
    let registry = auth.and_then(|a| match a.get_ref() {
        Authenticator::Registry { registry, .. } => Some(registry.clone()),
        _ => None,
    });
    let trust = trust.map(web::Data::into_inner);
    // Reading the pools' state takes their locks: off the async threads.
    let render = move || {
        metrics.render(&Sources {
            runner: &runner,
            admission: admission.as_deref(),
            registry: registry.as_ref().map(|r| &r.reloads),
            crls: trust.as_ref().map(|t| &t.reloads),
        })
    };
    match web::block(render).await {
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
