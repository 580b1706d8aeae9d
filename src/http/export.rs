//! Bulk Data `$export` over HTTP: the kick-off (`GET`/`POST [base]/$export` and
//! `[base]/{type}/$export`), the polling URL (`[base]/$export-status/{id}`, also reachable as the
//! ROR's `[base]/$export-poll-status?_jobId={id}`; `DELETE` cancels) and the files
//! (`[base]/$export-file/{id}/{name}`). Every one of them is behind the same mutual TLS as
//! searches, and a job is only visible to the consumer that started it.

use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Header, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use super::authenticate::Principal;
use super::error::FHIR_JSON;
use super::handlers::{base_url, format_param, lenient, modified_at, prefers, query_pairs};
use super::{AppState, compress, negotiate};
use crate::error::AppError;
use crate::fhir::ResourceType;
use crate::fhir::outcome::{Issue, operation_outcome};
use crate::service::export::job::Owner;
use crate::service::export::{Poll, Refusal, plan, request, store};

/// The media type of the export's files.
const NDJSON: &str = "application/fhir+ndjson";

/// A route answering `405` with `why` and the methods allowed.
fn refuse(why: &'static str, allow: &'static str) -> actix_web::Route {
    web::to(move || async move { Err::<HttpResponse, _>(AppError::MethodNotAllowed(why.into(), allow)) })
}

/// Registers the routes (inside the `/fhir` scope, before the type routes they would match).
pub fn routes(cfg: &mut web::ServiceConfig) {
    const KICKOFF: &str = "an export is kicked off with GET or POST";
    const POLL: &str = "poll with GET, cancel with DELETE";
    for path in ["/$export", "/{type}/$export"] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(kickoff))
                .route(web::post().to(kickoff))
                .default_service(refuse(KICKOFF, "GET, POST")),
        );
    }
    cfg.service(
        web::resource("/$export-status/{id}")
            .route(web::get().to(status))
            .route(web::delete().to(cancel))
            .default_service(refuse(POLL, "GET, DELETE")),
    )
    .service(
        web::resource("/$export-poll-status")
            .route(web::get().to(status_by_query))
            .route(web::delete().to(cancel_by_query))
            .default_service(refuse(POLL, "GET, DELETE")),
    )
    .service(
        web::resource("/$export-file/{id}/{name}")
            .route(web::get().to(file))
            .route(web::head().to(file))
            .default_service(refuse("files are read with GET", "GET, HEAD")),
    );
}

fn exports(state: &AppState) -> Result<&crate::service::export::Exports, AppError> {
    state.exports.as_deref().ok_or_else(|| AppError::NotFound("Bulk Data export is not enabled on this server".into()))
}

/// The kick-off's parameters: the query's, and a POST's `Parameters` (or form) body's.
async fn kickoff_pairs(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Vec<(String, String)>, AppError> {
    let mut pairs = query_pairs(req.query_string())?;
    if req.method() != actix_web::http::Method::POST {
        return Ok(pairs);
    }
    let body = super::body::read(req, payload, state.limits.max_body_bytes, state.limits.body_timeout).await?;
    if body.is_empty() {
        return Ok(pairs);
    }
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let ct = ct.to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let text =
            std::str::from_utf8(&body).map_err(|_| AppError::invalid("invalid", "the form body is not UTF-8"))?;
        pairs.extend(query_pairs(text)?);
    } else if ct.starts_with("application/fhir+json") || ct.starts_with("application/json") {
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| AppError::invalid("invalid", "the body is not a JSON Parameters resource"))?;
        pairs.extend(request::parameters_body(&json)?);
    } else {
        return Err(AppError::UnsupportedMediaType(
            "a POST $export takes a Parameters resource (application/fhir+json)".into(),
        ));
    }
    Ok(pairs)
}

/// Kick-off: checks the parameters as the consumer's searches would be, records the job, and
/// answers `202` with its polling URL in `Content-Location`. Without `Prefer: respond-async`
/// the export is asynchronous all the same (the ROR tolerates its absence), and the answer says so.
pub async fn kickoff(
    req: HttpRequest,
    payload: web::Payload,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let level = match req.match_info().get("type") {
        Some(t) => Some(ResourceType::parse(t).ok_or_else(|| {
            AppError::NotFound(format!(
                "{t}/$export: {t} is not served here (Location, HealthcareService, Organization, Observation are)"
            ))
        })?),
        None => None,
    };
    let exports = exports(&state)?;
    let pairs = kickoff_pairs(&req, payload, &state).await?;
    negotiate::check(&req, format_param(&pairs))?;
    let spec = request::parse_kickoff(&pairs, level, lenient(&req))?;
    plan::plan(&spec, &principal.0, &state.limits)?;
    let base = base_url(&req, &state);
    let path = req.path().strip_prefix("/fhir").unwrap_or(req.path());
    let url = match req.query_string() {
        "" => format!("{base}{path}"),
        q => format!("{base}{path}?{q}"),
    };
    let id = match exports.submit(Owner::of(&principal.0), url, spec) {
        Ok(id) => id,
        Err(Refusal::TooMany(why, after)) => return Err(AppError::TooManyRequests(why, after.as_secs().max(1))),
        Err(Refusal::Io(e)) => {
            log::error!(request_id = super::request_id_of(&req); "{e}");
            return Err(AppError::Internal);
        }
    };
    let mut issues =
        vec![Issue::information("informational", format!("export {id} accepted: poll the URL in Content-Location"))];
    if !prefers(&req, "respond-async") {
        issues.push(Issue::warning(
            "informational",
            "Prefer: respond-async was not sent; the export runs asynchronously all the same",
        ));
    }
    Ok(HttpResponse::Accepted()
        .insert_header((header::CONTENT_LOCATION, format!("{base}/$export-status/{id}")))
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .body(operation_outcome(&issues).to_string()))
}

fn no_such_job(id: &str) -> AppError {
    AppError::NotFound(format!(
        "no export job {id:?} for this consumer (it may have expired, been cancelled, or never existed)"
    ))
}

fn job_id(id: &str) -> Result<&str, AppError> {
    if store::valid_id(id) { Ok(id) } else { Err(no_such_job(id)) }
}

/// `GET [base]/$export-status/{id}`.
pub async fn status(
    req: HttpRequest,
    path: web::Path<String>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    poll(&req, &path.into_inner(), &principal, &state)
}

fn query_job_id(req: &HttpRequest) -> Result<String, AppError> {
    let pairs = query_pairs(req.query_string())?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "_jobId")
        .map(|(_, v)| v)
        .ok_or_else(|| AppError::invalid("required", "_jobId is required"))
}

/// `GET [base]/$export-poll-status?_jobId={id}` (the ROR's form of the polling URL).
pub async fn status_by_query(
    req: HttpRequest,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = query_job_id(&req)?;
    poll(&req, &id, &principal, &state)
}

fn poll(req: &HttpRequest, id: &str, principal: &Principal, state: &AppState) -> Result<HttpResponse, AppError> {
    let id = job_id(id)?;
    let found = exports(state)?.poll(id, &Owner::of(&principal.0)).ok_or_else(|| no_such_job(id))?;
    match found {
        Poll::Pending(progress, after) => Ok(HttpResponse::Accepted()
            .insert_header((header::RETRY_AFTER, after.as_secs().max(1)))
            .insert_header(("x-progress", progress))
            .finish()),
        Poll::TooSoon(after) => Err(AppError::TooManyRequests(
            "polled again too soon: wait for the delay in Retry-After".into(),
            after.as_secs().max(1),
        )),
        Poll::Failed(why) => Ok(HttpResponse::InternalServerError()
            .insert_header((header::CONTENT_TYPE, FHIR_JSON))
            .body(operation_outcome(&[Issue::error("exception", why)]).to_string())),
        Poll::Done(job, expires_us) => {
            let files = format!("{}/$export-file/{}", base_url(req, state), job.id);
            Ok(HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header((header::EXPIRES, header::HttpDate::from(modified_at(expires_us))))
                .body(job.manifest(&files).to_string()))
        }
    }
}

/// `DELETE [base]/$export-status/{id}`: cancels the job (or deletes a finished one's files).
pub async fn cancel(
    path: web::Path<String>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    delete(&path.into_inner(), &principal, &state).await
}

/// `DELETE [base]/$export-poll-status?_jobId={id}`.
pub async fn cancel_by_query(
    req: HttpRequest,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = query_job_id(&req)?;
    delete(&id, &principal, &state).await
}

async fn delete(id: &str, principal: &Principal, state: &web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let id = job_id(id)?.to_owned();
    let owner = Owner::of(&principal.0);
    let (st, job) = (state.clone(), id.clone());
    // Removing a job's files is file-system work: off the event loop.
    let done =
        web::block(move || exports(&st).map(|e| e.cancel(&job, &owner))).await.map_err(|_| AppError::Internal)??;
    if !done {
        return Err(no_such_job(&id));
    }
    let issue = Issue::information("informational", "the export is cancelled and its files removed");
    Ok(HttpResponse::Accepted()
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .body(operation_outcome(&[issue]).to_string()))
}

/// `GET [base]/$export-file/{id}/{name}`: one NDJSON file, streamed, gzip- or Brotli-encoded when
/// the client asks for it.
pub async fn file(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let id = job_id(&id)?;
    let file = exports(&state)?
        .file(id, &Owner::of(&principal.0), &name)
        .ok_or_else(|| AppError::NotFound(format!("no file {name:?} in export {id:?} for this consumer")))?;
    let encoding = compress::choose(AcceptEncoding::parse(&req).ok().as_ref());
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, NDJSON)).insert_header((header::VARY, "accept-encoding"));
    if encoding != ContentEncoding::Identity {
        res.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(encoding.as_str())));
    }
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(res.finish());
    }
    match state.downloads.file(&file, encoding) {
        Ok(Some(body)) => Ok(res.body(body)),
        Ok(None) => Err(AppError::TooManyRequests("too many files are being downloaded; retry shortly".into(), 5)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(AppError::NotFound("the file has expired".into())),
        Err(e) => {
            log::error!(request_id = super::request_id_of(&req); "cannot open export file: {e}");
            Err(AppError::Internal)
        }
    }
}
