//! The admin listener (`--admin-bind`): plain HTTP for load balancers, orchestrators and Prometheus,
//! which present no client certificate. It serves `/health`, `/ready` (the same answers as on the
//! FHIR listener, which keeps them) and `/metrics`, and nothing of the FHIR data: every other path
//! is a 404.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::admission::Admission;
use super::metrics::{Metrics, Sources};
use super::{dbcall, handlers};
use crate::auth::Authenticator;
use crate::auth::trust::ClientTrust;
use crate::db::read;

/// The longest a scrape waits for the database's import counts (they are left out after that,
/// and the work stopped): the rest of the scrape is answered well within Prometheus's timeout.
const IMPORTS_WAIT: Duration = Duration::from_secs(2);

/// `GET /metrics`: the Prometheus text format.
async fn metrics(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    state: web::Data<AppState>,
    admission: Option<web::Data<Arc<Admission>>>,
    auth: Option<web::Data<Authenticator>>,
    trust: Option<web::Data<ClientTrust>>,
) -> HttpResponse {
    // The import counts come from the database, read on the blocking threads as every request's
    // database work is, within the server's statement budget and `IMPORTS_WAIT`; when it does
    // not answer, they are left out and the rest is served.
    let imports = match tokio::time::timeout(IMPORTS_WAIT, dbcall::with_conn(&req, &state, read::import_totals)).await {
        Ok(Ok(totals)) => Some(totals),
        Ok(Err(_)) => None,
        Err(_) => {
            log::warn!("metrics: the database did not give the import counts within {IMPORTS_WAIT:?}");
            None
        }
    };
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
            handshakes: trust.as_ref().map(|t| &*t.handshakes),
            imports,
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
