//! Conditional requests (RFC 9110 §13.1–13.2) on reads and searches: `If-None-Match` (weak
//! comparison, `*`) and, only without it, `If-Modified-Since` (reads, which have a
//! `Last-Modified`); a fresh representation is answered `304 Not Modified` with its validators and
//! no body. An `If-None-Match` that cannot be parsed holds nothing (the full answer is sent).

use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate, IfModifiedSince, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::base::validator::{Held, opaque};

/// What the request says the client holds, when it sends `If-None-Match`.
pub fn held(req: &HttpRequest) -> Option<Held> {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return None;
    }
    Some(match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => Held::Any,
        Some(IfNoneMatch::Items(tags)) => Held::Tags(tags.iter().map(|t| opaque(&t.to_string()).to_owned()).collect()),
        None => Held::Tags(Vec::new()),
    })
}

/// Whether the client holds the representation tagged `etag`, last modified at `last_modified`
/// (seconds, as an HTTP-date says it).
pub fn fresh(req: &HttpRequest, etag: &str, last_modified: Option<SystemTime>) -> bool {
    if let Some(h) = held(req) {
        return h.holds(etag);
    }
    match (req.get_header::<IfModifiedSince>(), last_modified) {
        (Some(IfModifiedSince(since)), Some(lm)) => HttpDate::from(lm) <= since,
        _ => false,
    }
}

/// `304 Not Modified`: the validators, no body.
pub fn not_modified(etag: &str, last_modified: Option<SystemTime>) -> HttpResponse {
    let mut res = HttpResponse::NotModified();
    res.insert_header((header::ETAG, etag));
    if let Some(lm) = last_modified {
        res.insert_header((header::LAST_MODIFIED, HttpDate::from(lm)));
    }
    res.finish()
}
