//! The one error type of a request: what went wrong, as the client will be told (its issues,
//! its HTTP status, whether to retry). Lower layers' errors become one of these by `From` (where
//! they are defined, e.g. `service::access`) or by the caller that knows the request (database
//! failures, `http::dbcall`); `http::error` renders every one as an OperationOutcome, in one place.

use crate::base::issue::Issue;

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
    /// 429 with `Retry-After` (seconds): the client asks too often or has too much running.
    #[error("too many requests: {0}")]
    TooManyRequests(String, u64),
    /// 503: the client's certificate cannot be checked for revocation (its CRL is out of date).
    #[error("revocation status unknown: {0}")]
    RevocationUnknown(String),
    /// 500: logged by whoever built it; the client sees a generic message.
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// A 400 with one issue.
    pub fn invalid(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self::Invalid(vec![Issue::error(code, diagnostics)])
    }

    /// The issues of its OperationOutcome.
    pub fn issues(&self) -> Vec<Issue> {
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
            Self::TooManyRequests(m, _) => vec![Issue::error("throttled", m.clone())],
            Self::Internal => vec![Issue::error(
                "exception",
                "internal error; the request id in X-Request-Id identifies it in the server log",
            )],
        }
    }

    /// Its HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Forbidden(_) => 403,
            Self::Invalid(_) | Self::TooCostly(_) => 400,
            Self::MethodNotAllowed(..) => 405,
            Self::NotAcceptable(_) => 406,
            Self::UnsupportedMediaType(_) => 415,
            Self::Timeout(_) => 408,
            Self::TooLarge(_) => 413,
            Self::TooManyRequests(..) => 429,
            Self::Unavailable | Self::Overloaded | Self::RevocationUnknown(_) => 503,
            Self::Internal => 500,
        }
    }

    /// The delay, in seconds, to send in `Retry-After`, when there is one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Unavailable | Self::Overloaded => Some(1),
            Self::TooManyRequests(_, s) => Some(*s),
            _ => None,
        }
    }

    /// Whether the rest of the request was left unread, so that its connection cannot carry another.
    pub fn body_unread(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::TooLarge(_))
    }
}

impl From<Vec<Issue>> for AppError {
    fn from(issues: Vec<Issue>) -> Self {
        Self::Invalid(issues)
    }
}

impl From<Issue> for AppError {
    fn from(issue: Issue) -> Self {
        Self::Invalid(vec![issue])
    }
}
