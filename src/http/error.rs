//! The one place where errors become HTTP responses: [`AppError`] (`crate::error`) and the
//! framework's own error responses, always as an OperationOutcome with the right status, and never
//! internal detail (that is logged with the request id instead).

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

pub use crate::error::AppError;
use crate::fhir::outcome::{Issue, operation_outcome};

/// The FHIR JSON media type sent on every response.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
        if let Self::MethodNotAllowed(_, allow) = self {
            resp.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if let Some(secs) = self.retry_after() {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if self.body_unread() {
            // The rest of the body was not read: the connection cannot carry another request.
            resp.force_close();
        }
        resp.body(operation_outcome(&self.issues()).to_string())
    }
}

/// `ErrorHandlers` default: any error response the framework produced itself (payload too large,
/// malformed request…) becomes an OperationOutcome with the same status; ours pass unchanged.
pub fn to_operation_outcome<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_fhir = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/fhir+json"));
    if is_fhir {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        413 | 414 | 431 => "too-costly",
        404 => "not-found",
        405 => "not-supported",
        400..=499 => "invalid",
        _ => "exception",
    };
    let reason = status.canonical_reason().unwrap_or("error").to_owned();
    if status.is_server_error() {
        log::error!("framework error response {status}");
    }
    let body = operation_outcome(&[Issue::error(code, reason)]).to_string();
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status);
    new.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.append_header((name.clone(), value.clone()));
        }
    }
    let res = ServiceResponse::new(req, new.body(body)).map_into_boxed_body().map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}
