//! The benchmark ceiling route: `GET /bench/ceiling` answers a fixed FHIR JSON body through the
//! same TLS, middleware and authentication as the API, and no database (the ceiling the API's
//! figures are compared to). Served only with `--bench-ceiling-bytes`.

use actix_web::web;

use crate::http::error::FHIR_JSON;

/// A fixed body served by the benchmark ceiling route.
#[derive(Debug, Clone)]
pub struct CeilingBody(pub web::Bytes);

async fn ceiling(body: web::Data<CeilingBody>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().content_type(FHIR_JSON).body(body.0.clone())
}

/// Benchmarks only: `GET /bench/ceiling` answers a fixed body of `bytes` bytes (a valid JSON object).
pub fn ceiling_route(cfg: &mut web::ServiceConfig, bytes: usize) {
    let head = r#"{"resourceType":"Basic","id":"ceiling","extension":[{"url":"urn:pad","valueString":""#;
    let tail = r#""}]}"#;
    let pad = bytes.saturating_sub(head.len() + tail.len());
    let body = format!("{head}{}{tail}", "x".repeat(pad));
    cfg.app_data(web::Data::new(CeilingBody(web::Bytes::from(body))))
        .service(web::resource("/bench/ceiling").route(web::get().to(ceiling)));
}
