//! Query plans of the five scenarios (`ror-capacity explain`), to check that every one is
//! index-driven on both backends: `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL.

use diesel::QueryableByName;
use diesel::sql_types::Text;

use crate::auth::policy::Profile;
use crate::config::database::Backend;
use crate::db::read::load;
use crate::db::sql::{self, Planning, Scope, SqlPlan};
use crate::db::{DbConn, DbError};
use crate::fhir::ResourceType;
use crate::search::limits::SearchLimits;
use crate::search::parse::parse;

#[derive(Debug, QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(Debug, QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The plan of `plan`, one line per step.
pub fn explain(conn: &mut DbConn, plan: &SqlPlan) -> Result<Vec<String>, DbError> {
    let is_pg = matches!(conn, DbConn::Postgresql(_));
    let wrapped = plan.prefixed(if is_pg { "EXPLAIN " } else { "EXPLAIN QUERY PLAN " });
    Ok(if is_pg {
        load::<PgPlanRow>(conn, &wrapped)?.into_iter().map(|r| r.line).collect()
    } else {
        load::<SqlitePlanRow>(conn, &wrapped)?.into_iter().map(|r| r.detail).collect()
    })
}

/// The SQL run by each scenario (count, page, `_revinclude`), with sample values.
pub fn scenario_plans(
    place_ids: &[String],
    offer_ids: &[String],
    since: &str,
    backend: Backend,
) -> Vec<(String, SqlPlan)> {
    let limits = SearchLimits::default();
    let profile = |n: u8| Scope::of_profile(Profile::new(n).unwrap_or(Profile::EVERYTHING));
    let scope = profile(1);
    let narrowed = profile(0);
    let q = |s: &str| -> Vec<(String, String)> { serde_urlencoded::from_str(s).unwrap_or_default() };
    let one = place_ids.first().cloned().unwrap_or_default();
    let many = place_ids.iter().take(50).cloned().collect::<Vec<_>>().join(",");
    let offers = offer_ids.iter().take(50).cloned().collect::<Vec<_>>().join(",");
    let enc = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default().trim_start_matches("v=").to_owned();
    let searches = [
        ("S1 all places (first page)", "_revinclude=HealthcareService:location".to_owned()),
        ("S2 one identifier", format!("identifier={}", enc(&one))),
        ("S3 50 identifiers", format!("identifier={}", enc(&many))),
        ("S4 _lastUpdated=ge", format!("_lastUpdated=ge{}", enc(since))),
        ("S5 _has offers", format!("_has:HealthcareService:location:identifier={}", enc(&offers))),
    ];
    let mut out = Vec::new();
    for (name, query) in searches {
        let Ok(req) = parse(ResourceType::Location, &q(&query), false, &limits) else { continue };
        out.push((format!("{name}: count"), sql::count(&req, &scope)));
        out.push((format!("{name}: page"), sql::page(&req, &scope, None, 201, Planning::for_backend(backend))));
        out.push((
            format!("{name}: page, profile 0"),
            sql::page(&req, &narrowed, None, 201, Planning::for_backend(backend)),
        ));
        if name.starts_with("S4") {
            // Each profile matches and orders places on its own view of them.
            for n in [2, 5] {
                out.push((
                    format!("{name}: page, profile {n}"),
                    sql::page(&req, &profile(n), None, 201, Planning::for_backend(backend)),
                ));
            }
            let sorted = format!("{query}&_sort=_lastUpdated");
            if let Ok(req) = parse(ResourceType::Location, &q(&sorted), false, &limits) {
                for n in [0, 1, 2, 5] {
                    let name = format!("{name} _sort=_lastUpdated: page, profile {n}");
                    out.push((name, sql::page(&req, &profile(n), None, 201, Planning::for_backend(backend))));
                }
            }
        }
    }
    let ids: Vec<String> = (0..200).map(|i| format!("{}", 1_000_001 + i)).collect();
    out.push(("_revinclude of a page".to_owned(), sql::services_of_locations(&ids, &scope, 2001)));
    out.push(("figures of narrowed places".to_owned(), sql::visible_figures(&ids, &narrowed)));
    let mut by_subject = SqlPlan::new("SELECT r.observation_id AS id FROM capacities r WHERE r.location_id IN (");
    by_subject.text(ids[0].clone());
    by_subject.push(")");
    out.push(("Observation by subject".to_owned(), by_subject));
    out.extend(surface_plans(&scope, place_ids.first().map(String::as_str).unwrap_or_default(), backend));
    out
}

/// The page of each search parameter of the ROR search surface (issue 11), alone or as a
/// regulator combines them, and the IG's offer search.
fn surface_plans(scope: &Scope, place: &str, backend: Backend) -> Vec<(String, SqlPlan)> {
    use ResourceType::{HealthcareService as H, Location as L};
    let limits = SearchLimits::default();
    let place = serde_urlencoded::to_string([("v", place)]).unwrap_or_default();
    let place = place.trim_start_matches("v=");
    let r211 = "https%3A%2F%2Fmos.esante.gouv.fr%2FNOS%2FTRE_R211-ActiviteOperationnelle%2FFHIR%2FTRE-R211-ActiviteOperationnelle";
    let searches: Vec<(ResourceType, String)> = vec![
        (L, "capacity-type=01&capacity-status=02&nb-capacity=gt0&_tag=52".into()),
        (L, "capacity-type=01&capacity-status=02&nb-capacity=gt0".into()),
        (L, "gender-capacity-available=01".into()),
        (L, "capacity-closing-type=01".into()),
        (L, "additional-bed-type=01".into()),
        (L, "crisis-type=01".into()),
        (L, "temporary-assignement=02".into()),
        (L, "capacity-update-date=ge2026-10-31".into()),
        (L, "nb-capacity=ge100".into()),
        (L, "capacity-status:not=01".into()),
        (L, "operational-status=3".into()),
        (L, "address-city=rennes".into()),
        (L, "name:contains=clinique".into()),
        (L, "address-city:contains=enne".into()),
        (L, "commune-cog=35238".into()),
        (L, format!("organization={place}")),
        (L, format!("partof={place}")),
        (L, "near=48.11%7C-1.68%7C10%7Ckm".into()),
        (L, "near=48.11%7C-1.68%7C10%7Ckm&capacity-status=02&nb-capacity=gt0".into()),
        (L, "near=48.11%7C-1.68%7C50%7Ckm&capacity-status=02&nb-capacity=gt0&_sort=near".into()),
        (L, "_filter=capacity-status%20eq%2002%20and%20nb-capacity%20gt%200%20or%20_tag%20eq%2052".into()),
        (
            H,
            format!(
                "specialty={r211}%7C356&location.capacity-type=01&location.capacity-status=02&location.nb-capacity=gt0"
            ),
        ),
        (H, "name=urgences".into()),
        (H, "name:contains=gence".into()),
        (H, "specialty=356&_tag=52".into()),
    ];
    let mut out = Vec::new();
    for (rt, query) in searches {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap_or_default();
        let Ok(req) = parse(rt, &pairs, false, &limits) else { continue };
        let how = Planning::for_backend(backend);
        if sql::region_code(&req).is_some() {
            // Read along the figures' région, unless some place holds the tag otherwise.
            let exact = Planning { region_exact: true, ..how };
            out.push((format!("{}?{query}: page", rt.as_str()), sql::page(&req, scope, None, 201, exact)));
            out.push((
                format!("{}?{query}: page, tag held off its région", rt.as_str()),
                sql::page(&req, scope, None, 201, how),
            ));
        } else {
            out.push((format!("{}?{query}: page", rt.as_str()), sql::page(&req, scope, None, 201, how)));
        }
    }
    out
}
