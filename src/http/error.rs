//! The one place where errors become HTTP responses: always an OperationOutcome, with the right
//! status, and never internal detail (that is logged with the request id instead).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
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
    /// 503: the database is unreachable or saturated.
    #[error("service unavailable")]
    Unavailable,
    /// 500: logged by whoever built it; the client sees a generic message.
    #[error("internal error")]
    Internal,
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
            Self::Unavailable => vec![Issue::error("transient", "the service is temporarily unavailable; retry later")],
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
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(..) => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON)));
        if let Self::MethodNotAllowed(_, allow) = self {
            resp.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        resp.body(operation_outcome(&self.issues()).to_string())
    }
}
