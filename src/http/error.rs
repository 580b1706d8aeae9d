//! The one place where errors become HTTP responses: always an OperationOutcome, with the right
//! status, and never internal detail (that is logged with the request id instead).

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};

use crate::fhir::outcome::{Issue, operation_outcome};

/// The FHIR JSON media type sent on every response.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// 400 with the issues found.
    #[error("invalid request")]
    Invalid(Vec<Issue>),
    /// 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 405, with the methods the endpoint allows.
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String, &'static str),
    /// 406.
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// 415.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 408: the request did not arrive in time; the connection is closed.
    #[error("request timeout: {0}")]
    Timeout(String),
    /// 413.
    #[error("payload too large: {0}")]
    TooLarge(String),
    /// 400 `too-costly`: the request ran past its time budget.
    #[error("too costly: {0}")]
    TooCostly(String),
    /// 503 with `Retry-After`: the database is unreachable or saturated.
    #[error("service unavailable")]
    Unavailable,
    /// 503 with `Retry-After`: the server sheds load (too many requests in flight and waiting).
    #[error("overloaded")]
    Overloaded,
    /// 503: the client's certificate cannot be checked for revocation (its CRL is out of date).
    #[error("revocation status unknown: {0}")]
    RevocationUnknown(String),
    /// 500: logged by whoever built it; the client sees a generic message.
    #[error("internal error")]
    Internal,
}

impl From<crate::service::access::Denied> for AppError {
    fn from(d: crate::service::access::Denied) -> Self {
        Self::Forbidden(d.0)
    }
}

impl AppError {
    /// A 400 with one issue.
    pub fn invalid(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self::Invalid(vec![Issue::error(code, diagnostics)])
    }

    fn issues(&self) -> Vec<Issue> {
        match self {
            Self::NotFound(m) => vec![Issue::error("not-found", m.clone())],
            Self::Forbidden(m) => vec![Issue::error("forbidden", m.clone())],
            Self::Invalid(issues) => issues.clone(),
            Self::MethodNotAllowed(m, _) => vec![Issue::error("not-supported", m.clone())],
            Self::NotAcceptable(m) | Self::UnsupportedMediaType(m) => vec![Issue::error("not-supported", m.clone())],
            Self::Timeout(m) => vec![Issue::error("timeout", m.clone())],
            Self::TooLarge(m) | Self::TooCostly(m) => vec![Issue::error("too-costly", m.clone())],
            Self::Unavailable => vec![Issue::error("transient", "the service is temporarily unavailable; retry later")],
            Self::Overloaded => vec![Issue::error(
                "throttled",
                "the server is at capacity and cannot answer in time; retry after the delay in Retry-After",
            )],
            Self::RevocationUnknown(m) => vec![Issue::error("transient", m.clone())],
            Self::Internal => vec![Issue::error(
                "exception",
                "internal error; the request id in X-Request-Id identifies it in the server log",
            )],
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid(_) | Self::TooCostly(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable | Self::Overloaded | Self::RevocationUnknown(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
        if let Self::MethodNotAllowed(_, allow) = self {
            resp.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if matches!(self, Self::Unavailable | Self::Overloaded) {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        if matches!(self, Self::Timeout(_) | Self::TooLarge(_)) {
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
