//! The benchmark ceiling route: `GET /bench/ceiling` answers a fixed FHIR JSON body through the
//! same TLS, middleware and authentication as the API, and no database (the ceiling the API's
//! figures are compared to). Served only with `--bench-ceiling-bytes`.
//!
//! `GET /bench/ceiling?bytes=N` answers a body of N bytes instead (at most [`MAX_BYTES`]): the
//! byte-equivalent ceiling of a workload whose answers are N bytes long. Each size is made once
//! and kept, [`MAX_SIZES`] sizes at most.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::{HttpResponse, web};

use crate::http::error::FHIR_JSON;

/// The largest body asked for by size (an S1 page of 200 places is about 2.3 MB).
pub const MAX_BYTES: usize = 8 << 20;
/// How many sizes are kept.
pub const MAX_SIZES: usize = 8;

/// The bodies served by the benchmark ceiling route: the default size, and those asked for.
#[derive(Debug)]
pub struct CeilingBodies {
    default: web::Bytes,
    sized: Mutex<HashMap<usize, web::Bytes>>,
}

/// A valid JSON object of `bytes` bytes (or of its smallest form, when fewer are asked for).
fn body(bytes: usize) -> web::Bytes {
    let head = r#"{"resourceType":"Basic","id":"ceiling","extension":[{"url":"urn:pad","valueString":""#;
    let tail = r#""}]}"#;
    let pad = bytes.saturating_sub(head.len() + tail.len());
    web::Bytes::from(format!("{head}{}{tail}", "x".repeat(pad)))
}

#[derive(serde::Deserialize)]
struct Size {
    bytes: Option<usize>,
}

async fn ceiling(bodies: web::Data<CeilingBodies>, size: web::Query<Size>) -> HttpResponse {
    let Some(n) = size.bytes else {
        return HttpResponse::Ok().content_type(FHIR_JSON).body(bodies.default.clone());
    };
    if n > MAX_BYTES {
        return HttpResponse::BadRequest().body(format!("at most {MAX_BYTES} bytes"));
    }
    let mut sized = bodies.sized.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let made = match sized.get(&n) {
        Some(b) => b.clone(),
        None if sized.len() >= MAX_SIZES => {
            return HttpResponse::BadRequest().body(format!("at most {MAX_SIZES} sizes"));
        }
        None => sized.entry(n).or_insert_with(|| body(n)).clone(),
    };
    drop(sized);
    HttpResponse::Ok().content_type(FHIR_JSON).body(made)
}

/// Benchmarks only: `GET /bench/ceiling` answers a fixed body of `bytes` bytes (a valid JSON
/// object), and `?bytes=N` one of N bytes.
pub fn ceiling_route(cfg: &mut web::ServiceConfig, bytes: usize) {
    let bodies = CeilingBodies { default: body(bytes), sized: Mutex::new(HashMap::new()) };
    cfg.app_data(web::Data::new(bodies)).service(web::resource("/bench/ceiling").route(web::get().to(ceiling)));
}
