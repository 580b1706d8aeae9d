//! The capacity aggregates: `GET /fhir/MeasureReport` (search), `GET /fhir/MeasureReport/{id}`
//! (read), and our `Measure` (`GET /fhir/Measure`, `GET /fhir/Measure/{id}`). Each report is
//! computed for the consumer's certificate (see `service::aggregates`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::authenticate::Principal;
use super::dbcall::with_conn;
use super::error::FHIR_JSON;
use super::handlers::{base_url, format_param, modified_at, query_pairs};
use super::telemetry::ResourceCount;
use super::{AppState, conditional, negotiate};
use crate::base::validator::weak_tag;
use crate::error::AppError;
use crate::fhir::bundle::{Entry, SearchMode, Searchset};
use crate::fhir::measure_report::{self, Area, MEASURE_ID, MEASURE_JSON, Report};
use crate::search::measure as measure_params;
use crate::search::measure_report as params;
use crate::service::access;
use crate::service::aggregates::{self, AreaTotals};

fn answer(req: &HttpRequest, body: String, modified: Option<std::time::SystemTime>, n: usize) -> HttpResponse {
    let etag = weak_tag(body.as_bytes());
    if conditional::fresh(req, &etag, modified) {
        return conditional::not_modified(&etag, modified);
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, FHIR_JSON)).insert_header((header::ETAG, etag));
    if let Some(m) = modified {
        res.insert_header((header::LAST_MODIFIED, header::HttpDate::from(m)));
    }
    let mut res = res.body(body);
    res.extensions_mut().insert(ResourceCount(n));
    res
}

/// The consumer's reports, with the statuses they list.
async fn reports(
    req: &HttpRequest,
    principal: &Principal,
    state: &web::Data<AppState>,
) -> Result<(std::sync::Arc<Vec<AreaTotals>>, Vec<&'static str>), AppError> {
    let scope = access::authorize_aggregates(&principal.0)?;
    let (read_scope, memo) = (scope.clone(), state.areas.clone());
    let areas = with_conn(req, state, move |c| memo.read(c, &read_scope)).await?;
    let statuses = aggregates::statuses(&scope, &areas);
    Ok((areas, statuses))
}

fn json_of(a: &AreaTotals, statuses: &[&'static str]) -> String {
    let report = Report { area: a.area, counts: &a.counts, statuses, last_updated_us: a.last_updated_us };
    measure_report::render(&report).to_string()
}

/// `GET /fhir/MeasureReport`.
pub async fn search_get(
    req: HttpRequest,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(req.query_string())?;
    search(req, pairs, principal, state).await
}

/// `POST /fhir/MeasureReport/_search` (form body; URL parameters are added to it).
pub async fn search_post(
    req: HttpRequest,
    payload: web::Payload,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let pairs = super::handlers::form_pairs(&req, payload, &state).await?;
    search(req, pairs, principal, state).await
}

async fn search(
    req: HttpRequest,
    pairs: Vec<(String, String)>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    negotiate::check(&req, format_param(&pairs))?;
    let query = params::parse(&pairs).map_err(|e| AppError::invalid("not-supported", e))?;
    let (areas, statuses) = reports(&req, &principal, &state).await?;
    let matching: Vec<&AreaTotals> = areas.iter().filter(|a| query.matches(&a.area, a.last_updated_us)).collect();
    let base = base_url(&req, &state);
    let link = |offset: usize| {
        let mut kept: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "_offset").cloned().collect();
        if offset > 0 {
            kept.push(("_offset".into(), offset.to_string()));
        }
        search_link(&base, "MeasureReport", &kept)
    };
    let page: Vec<&&AreaTotals> = matching.iter().skip(query.offset).take(query.count).collect();
    let end = query.offset.saturating_add(page.len());
    let entries: Vec<Entry> = page
        .iter()
        .map(|a| Entry {
            resource_type: "MeasureReport",
            id: a.area.id(),
            json: json_of(a, &statuses),
            mode: SearchMode::Match,
            distance_km: None,
        })
        .collect();
    let next_url = (end < matching.len() && query.count > 0).then(|| link(end));
    Ok(searchset_answer(&req, &base, link(query.offset), next_url, matching.len(), entries))
}

/// The link of a search of `rt` by `pairs`.
fn search_link(base: &str, rt: &str, pairs: &[(String, String)]) -> String {
    match serde_urlencoded::to_string(pairs).unwrap_or_default() {
        q if q.is_empty() => format!("{base}/{rt}"),
        q => format!("{base}/{rt}?{q}"),
    }
}

/// A searchset of `entries` out of `total` matches, with this page's link and the next page's,
/// and an `ETag` over what the consumer sees (the entries, the total and the links).
fn searchset_answer(
    req: &HttpRequest,
    base: &str,
    self_url: String,
    next_url: Option<String>,
    total: usize,
    entries: Vec<Entry>,
) -> HttpResponse {
    let mut seen = crate::base::validator::Validator::new();
    seen.part(self_url.as_bytes());
    for e in &entries {
        seen.part(e.json.as_bytes());
    }
    let etag = seen.part(format!("{total}\n{next_url:?}").as_bytes()).tag();
    if conditional::fresh(req, &etag, None) {
        return conditional::not_modified(&etag, None);
    }
    let n = entries.len();
    let set = Searchset {
        id: crate::base::validator::opaque(&etag).to_owned(),
        last_updated: crate::base::instant::format_instant(crate::base::clock::now_us()),
        total: Some(total as u64),
        self_url,
        next_url,
        entries,
    };
    let mut res = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, FHIR_JSON))
        .insert_header((header::ETAG, etag))
        .body(set.to_json(base));
    res.extensions_mut().insert(ResourceCount(n));
    res
}

fn no_parameters(req: &HttpRequest) -> Result<(), AppError> {
    let pairs = query_pairs(req.query_string())?;
    negotiate::check(req, format_param(&pairs))?;
    match pairs.iter().find(|(k, _)| k != "_format") {
        Some((k, _)) => Err(AppError::invalid("not-supported", format!("parameter {k:?} is not supported on read"))),
        None => Ok(()),
    }
}

/// `GET /fhir/MeasureReport/{id}`: 404 for an area the consumer does not see.
pub async fn read(
    req: HttpRequest,
    id: web::Path<String>,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    no_parameters(&req)?;
    let id = id.into_inner();
    let wanted = Area::of_id(&id);
    let (areas, statuses) = reports(&req, &principal, &state).await?;
    let Some(a) = wanted.and_then(|w| areas.iter().find(|a| a.area == w)) else {
        return Err(AppError::NotFound(format!("MeasureReport/{id} is not known")));
    };
    Ok(answer(&req, json_of(a, &statuses), Some(modified_at(a.last_updated_us)), 1))
}

/// `GET /fhir/Measure/{id}`: our Measure (the one there is).
pub async fn measure_read(
    req: HttpRequest,
    id: web::Path<String>,
    principal: Principal,
) -> Result<HttpResponse, AppError> {
    access::authorize_aggregates(&principal.0)?;
    no_parameters(&req)?;
    if id.as_str() != MEASURE_ID {
        return Err(AppError::NotFound(format!("Measure/{id} is not known ({MEASURE_ID} is)")));
    }
    Ok(answer(&req, MEASURE_JSON.to_owned(), None, 1))
}

/// `GET /fhir/Measure`: our Measure when it matches the search (`Measure?url=<canonical>`
/// resolves the URL a report's `measure` names), in a searchset.
pub async fn measure_search_get(
    req: HttpRequest,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let pairs = query_pairs(req.query_string())?;
    measure_search(&req, &pairs, &principal, &state)
}

/// `POST /fhir/Measure/_search` (form body; URL parameters are added to it).
pub async fn measure_search_post(
    req: HttpRequest,
    payload: web::Payload,
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let pairs = super::handlers::form_pairs(&req, payload, &state).await?;
    measure_search(&req, &pairs, &principal, &state)
}

fn measure_search(
    req: &HttpRequest,
    pairs: &[(String, String)],
    principal: &Principal,
    state: &AppState,
) -> Result<HttpResponse, AppError> {
    access::authorize_aggregates(&principal.0)?;
    negotiate::check(req, format_param(pairs))?;
    let query = measure_params::parse(pairs).map_err(|e| AppError::invalid("not-supported", e))?;
    let base = base_url(req, state);
    let self_url = search_link(&base, "Measure", pairs);
    let entries = if query.matches && query.count > 0 {
        vec![Entry {
            resource_type: "Measure",
            id: MEASURE_ID.to_owned(),
            json: MEASURE_JSON.to_owned(),
            mode: SearchMode::Match,
            distance_km: None,
        }]
    } else {
        Vec::new()
    };
    Ok(searchset_answer(req, &base, self_url, None, usize::from(query.matches), entries))
}

/// The routes, inside `/fhir`, before the generic ones.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::readable(web::resource("/MeasureReport"), search_get))
        .service(super::posted(web::resource("/MeasureReport/_search"), search_post))
        .service(super::readable(web::resource("/MeasureReport/{id}"), read))
        .service(super::readable(web::resource("/Measure"), measure_search_get))
        .service(super::posted(web::resource("/Measure/_search"), measure_search_post))
        .service(super::readable(web::resource("/Measure/{id}"), measure_read));
}
