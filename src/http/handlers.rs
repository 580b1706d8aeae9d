//! Request handlers: metadata, read, search (GET and POST `_search`), health and readiness.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::authenticate::Principal;
use super::dbcall::{with_conn, with_conn_if_small};
use super::error::FHIR_JSON;
use super::telemetry::ResourceCount;
use super::{AppState, conditional, negotiate};
use crate::auth::crl::Freshness;
use crate::auth::registry::Interaction;
use crate::auth::trust::ClientTrust;
use crate::base::validator::weak_tag;
use crate::db::read;
use crate::error::AppError;
use crate::fhir::{ResourceType, is_valid_id};
use crate::search::cursor;
use crate::search::parse;
use crate::service::access;
use crate::service::memo::Remembered;
use crate::service::query::{self, Reuse, SearchResult};
use crate::service::search as service;

/// The CapabilityStatement, served verbatim.
const CAPABILITY_STATEMENT: &str = include_str!("../../capability-statement.json");

/// Most values a lookup names to be run on the handler's thread (see `dbcall::with_conn_if_small`):
/// S2's one identifier, a few more.
const SMALL_LOOKUP: usize = 4;

fn fhir_ok(body: String) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_TYPE, FHIR_JSON)).body(body)
}

fn counted(mut resp: HttpResponse, n: usize) -> HttpResponse {
    resp.extensions_mut().insert(ResourceCount(n));
    resp
}

fn resource_type(name: &str) -> Result<ResourceType, AppError> {
    ResourceType::parse(name).ok_or_else(|| {
        AppError::NotFound(format!(
            "resource type {name:?} is not served here (Location, HealthcareService, Organization, Observation are)"
        ))
    })
}

/// The base of `fullUrl` and links: the configured base URL; else the address the client
/// connected to (`Host`, or the HTTP/2 authority). Forwarding headers (`Forwarded`,
/// `X-Forwarded-Host`, `X-Forwarded-Proto`) are only followed on connections from a trusted proxy:
/// from anyone else they would let a client make the server write links to another host.
pub(super) fn base_url(req: &HttpRequest, state: &AppState) -> String {
    if let Some(b) = &state.base_url {
        return b.trim_end_matches('/').to_owned();
    }
    let from_proxy = req.peer_addr().is_some_and(|a| state.trusted_proxies.contains(&a.ip()));
    if from_proxy {
        let info = req.connection_info();
        if let Some(host) = Some(info.host()).filter(|h| valid_authority(h)) {
            let scheme = if info.scheme() == "http" { "http" } else { "https" };
            return format!("{scheme}://{host}/fhir");
        }
    }
    let scheme = if req.app_config().secure() { "https" } else { "http" };
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned))
        .filter(|h| valid_authority(h))
        .unwrap_or_else(|| req.app_config().local_addr().to_string());
    format!("{scheme}://{host}/fhir")
}

/// Whether `h` is a plain `host[:port]` (a DNS name, IPv4 or bracketed IPv6 address): nothing
/// that could carry a path, user info or markup into a link.
fn valid_authority(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

pub(super) fn format_param(pairs: &[(String, String)]) -> Option<&str> {
    pairs.iter().find(|(k, _)| k == "_format").map(|(_, v)| v.as_str())
}

pub(super) fn query_pairs(q: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(crate::search::query::decode_pairs(q)?)
}

/// `GET /fhir/metadata`.
pub async fn metadata(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(req.query_string())?;
    negotiate::check(&req, format_param(&pairs))?;
    Ok(fhir_ok(CAPABILITY_STATEMENT.to_owned()))
}

/// `GET /fhir/{type}/{id}`.
pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (type_name, id) = path.into_inner();
    let rt = resource_type(&type_name)?;
    let scope = access::authorize(&principal.0, rt, Interaction::Read)?;
    let pairs = query_pairs(req.query_string())?;
    negotiate::check(&req, format_param(&pairs))?;
    if let Some((k, _)) = pairs.iter().find(|(k, _)| k != "_format") {
        return Err(AppError::invalid("not-supported", format!("parameter {k:?} is not supported on read")));
    }
    if !is_valid_id(&id) {
        return Err(AppError::invalid("invalid", format!("{id:?} is not a valid FHIR id")));
    }
    let lookup = id.clone();
    let row = with_conn_if_small(&req, &state, true, move |c| query::read(c, rt, &lookup, &scope)).await?;
    let Some(r) = row else {
        return Err(AppError::NotFound(format!("{}/{id} is not known", rt.as_str())));
    };
    let modified = modified_at(r.last_updated);
    let etag = weak_tag(r.json.as_bytes());
    if conditional::fresh(&req, &etag, Some(modified)) {
        return Ok(conditional::not_modified(&etag, Some(modified)));
    }
    Ok(counted(
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, FHIR_JSON))
            .insert_header((header::ETAG, etag))
            .insert_header((header::LAST_MODIFIED, header::HttpDate::from(modified)))
            .body(r.json),
        1,
    ))
}

/// The instant of a `Last-Modified`, to the second as an HTTP-date says it; instants outside
/// 1970–9999 (which it cannot write, and which `HttpDate` panics on past 9999) are clamped. Import
/// refuses such instants; this keeps the response whole anyway.
pub(super) fn modified_at(us: i64) -> std::time::SystemTime {
    let secs = us.clamp(0, crate::search::date::MAX_SERVABLE_US).div_euclid(1_000_000);
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// Whether the request's `Prefer` fields hold `token` (e.g. `respond-async`).
pub(super) fn prefers(req: &HttpRequest, token: &str) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(token))
}

pub(super) fn lenient(req: &HttpRequest) -> bool {
    prefers(req, "handling=lenient")
}

/// `GET /fhir/{type}`.
pub async fn search_get(
    req: HttpRequest,
    path: web::Path<String>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let rt = resource_type(&path.into_inner())?;
    let pairs = query_pairs(req.query_string())?;
    search(req, rt, pairs, principal, state).await
}

/// `POST /fhir/{type}/_search` (form body; URL parameters are added to it).
pub async fn search_post(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let rt = resource_type(&path.into_inner())?;
    let pairs = form_pairs(&req, payload, &state).await?;
    search(req, rt, pairs, principal, state).await
}

/// The parameters of a `POST _search`: the URL's, then the form body's.
pub(super) async fn form_pairs(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Vec<(String, String)>, AppError> {
    let mut pairs = query_pairs(req.query_string())?;
    let body = super::body::read(req, payload, state.limits.max_body_bytes, state.limits.body_timeout).await?;
    if !body.is_empty() {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(AppError::UnsupportedMediaType(
                "POST _search takes an application/x-www-form-urlencoded body".into(),
            ));
        }
        let text =
            std::str::from_utf8(&body).map_err(|_| AppError::invalid("invalid", "the form body is not UTF-8"))?;
        pairs.extend(query_pairs(text)?);
    }
    Ok(pairs)
}

async fn search(
    req: HttpRequest,
    rt: ResourceType,
    pairs: Vec<(String, String)>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let scope = access::authorize(&principal.0, rt, Interaction::Search)?;
    negotiate::check(&req, format_param(&pairs))?;
    access::authorize_parameters(&principal.0, rt, pairs.iter().map(|(k, _)| k.as_str()))?;
    let limits = service::limits_for(&principal.0, &state.limits);
    let search = parse::parse(rt, &pairs, lenient(&req), &limits)?;
    access::authorize_parameters(&principal.0, rt, search.filter_parameters.iter().map(String::as_str))?;
    access::authorize_related(&principal.0, &search)?;
    let binding = service::cursor_binding(&principal.0, rt, &search);
    let after = match &search.cursor {
        None => None,
        Some(token) => Some(
            cursor::decode(&state.cursor_secret, &binding, token)
                .map_err(|e| AppError::invalid("invalid", e.to_string()))?,
        ),
    };
    let max_included = state.limits.max_included;
    let base = base_url(&req, &state);
    // A page's validator is remembered per consumer, search, page and base URL (its links).
    let tags = Remembered {
        memo: state.tags.clone(),
        key: format!("{binding}\ncursor={}\nbase={base}", search.cursor.as_deref().unwrap_or_default()),
    };
    let held = conditional::held(&req);
    let reuse = Reuse {
        totals: Remembered { memo: state.counts.clone(), key: binding.clone() },
        held: held.clone().map(|h| (tags.clone(), h)),
    };
    let search_req = search.clone();
    let small = search.is_small_lookup(SMALL_LOOKUP);
    let result: SearchResult = with_conn_if_small(&req, &state, small, move |c| {
        query::search(c, &search_req, &scope, after.as_ref(), max_included, Some(&reuse))
    })
    .await?;
    if let Some(tag) = &result.unchanged {
        return Ok(conditional::not_modified(tag, None));
    }
    let generation = result.generation;
    let n = result.matches.len() + result.included.len();
    let set = service::searchset(&search, result, &base, &binding, &state.cursor_secret);
    let etag = service::validator(&set);
    if let (Some(g), Some(held)) = (generation, &held) {
        tags.memo.put(&tags.key, g, etag.clone());
        if held.holds(&etag) {
            return Ok(conditional::not_modified(&etag, None));
        }
    }
    let encoding = super::compress::choose(req.get_header::<header::AcceptEncoding>().as_ref());
    let mut ok = HttpResponse::Ok();
    ok.insert_header((header::CONTENT_TYPE, FHIR_JSON));
    let mut res = super::pieces::searchset_body(ok, set.into_pieces(&base), encoding);
    if let Ok(v) = header::HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(counted(res, n))
}

/// `GET /health`: the process answers.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(r#"{"status":"ok"}"#)
}

/// `GET /ready`: the database answers, and no CRL is past its `nextUpdate` (503 saying which);
/// lists that expire soon are listed as warnings, and read replicas with their state (a replica
/// down does not make the server unready: reads go to the others, or to the primary).
pub async fn ready(
    req: HttpRequest,
    state: web::Data<AppState>,
    trust: Option<web::Data<ClientTrust>>,
) -> Result<HttpResponse, AppError> {
    with_conn(&req, &state, read::ping).await?;
    let reports = trust.map(|t| t.reports()).unwrap_or_default();
    let expired: Vec<String> =
        reports.iter().filter(|r| r.freshness == Freshness::Expired).map(|r| r.describe()).collect();
    if !expired.is_empty() {
        for e in &expired {
            log::error!("not ready: {e}");
        }
        return Err(AppError::RevocationUnknown(expired.join("; ")));
    }
    let warnings: Vec<String> =
        reports.iter().filter(|r| r.freshness == Freshness::ExpiresSoon).map(|r| r.describe()).collect();
    let replicas = state.db.replica_states();
    let body = if replicas.is_empty() {
        serde_json::json!({"status": "ready", "warnings": warnings})
    } else {
        serde_json::json!({"status": "ready", "warnings": warnings, "replicas": replicas})
    };
    Ok(HttpResponse::Ok().content_type("application/json").body(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_never_panic() {
        let http_date = |us| header::HttpDate::from(modified_at(us)).to_string();
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(http_date(i64::MIN), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn authorities_are_plain_hosts() {
        assert!(valid_authority("127.0.0.1:8443") && valid_authority("[::1]:80") && valid_authority("ror.example"));
        assert!(!valid_authority("evil.example/x") && !valid_authority("a@b") && !valid_authority(""));
    }
}
