//! A search around its database call: the limits a consumer is held to, what its paging cursors
//! are bound to, and the searchset Bundle made from the result. No actix, no diesel.

use super::query::SearchResult;
use crate::auth::registry::Consumer;
use crate::base::validator::Validator;
use crate::fhir::bundle::{Entry, SearchMode, Searchset};
use crate::fhir::outcome::{Issue, operation_outcome_with_id};
use crate::fhir::{ResourceType, elements};
use crate::search::cursor::{self, CursorKey};
use crate::search::date::format_instant;
use crate::search::limits::SearchLimits;
use crate::search::near::EARTH_RADIUS_KM;
use crate::search::{SearchRequest, SortKey};

/// The server's limits narrowed by the consumer's own page size, if it has one.
pub fn limits_for(consumer: &Consumer, server: &SearchLimits) -> SearchLimits {
    let mut limits = server.clone();
    if let Some(own) = consumer.max_count {
        limits.max_count = limits.max_count.min(own);
        limits.default_count = limits.default_count.min(limits.max_count);
    }
    limits
}

/// What a cursor is bound to: the consumer, what defines its view (profile, regions, own page
/// size: a cursor made before the registry narrowed a consumer must not carry the old `total`
/// into the new view), and the search.
pub fn cursor_binding(consumer: &Consumer, rt: ResourceType, req: &SearchRequest) -> String {
    let regions = consumer.regions.as_ref().map(|r| {
        let mut r = r.clone();
        r.sort();
        r.join(",")
    });
    format!(
        "{}\nprofile={}\nregions={}\nmax_count={}\n{}?{}",
        consumer.name,
        consumer.profile.number(),
        regions.as_deref().unwrap_or("*"),
        consumer.max_count.map_or_else(|| "-".to_owned(), |n| n.to_string()),
        rt.as_str(),
        req.canonical_query
    )
}

/// A random UUID (the id of a Bundle or of an OperationOutcome entry).
fn random_id() -> String {
    let mut b = [0u8; 16];
    let _ = openssl::rand::rand_bytes(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The searchset Bundle of `result`: `self` and `next` links under `base` (the next one with a
/// cursor signed with `secret` for `binding`), matches cut to `_elements`, included resources, and
/// an OperationOutcome entry for the warnings.
pub fn searchset(search: &SearchRequest, result: SearchResult, base: &str, binding: &str, secret: &[u8]) -> Searchset {
    let rt = search.resource;
    let link = |extra: Option<String>| {
        let mut q = search.canonical_query.clone();
        if let Some(c) = extra {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str("_cursor=");
            q.push_str(&c);
        }
        if q.is_empty() { format!("{base}/{}", rt.as_str()) } else { format!("{base}/{}?{q}", rt.as_str()) }
    };
    let next_url = match (result.has_more, result.matches.last()) {
        (true, Some(last)) => {
            let key = CursorKey {
                last_updated: (search.sort.key == SortKey::LastUpdated).then_some(last.last_updated),
                id: last.id.clone(),
                total: result.total,
                score_bits: last.score.filter(|_| search.sort.key == SortKey::Near).map(f64::to_bits),
            };
            Some(link(Some(cursor::encode(secret, binding, &key))))
        }
        _ => None,
    };
    let subset = |json: String| match &search.elements {
        Some(list) => elements::subset(&json, list),
        None => json,
    };
    let mut entries: Vec<Entry> = result
        .matches
        .into_iter()
        .map(|r| Entry {
            resource_type: rt.as_str(),
            distance_km: r.score.map(|dot| dot.clamp(-1.0, 1.0).acos() * EARTH_RADIUS_KM),
            id: r.id,
            json: subset(r.json),
            mode: SearchMode::Match,
        })
        .collect();
    entries.extend(result.included.into_iter().map(|(irt, r)| Entry {
        resource_type: irt.as_str(),
        distance_km: None,
        id: r.id,
        json: r.json,
        mode: SearchMode::Include,
    }));
    let mut warnings = search.warnings.clone();
    if result.included_truncated {
        warnings.push(Issue::warning(
            "too-costly",
            "included resources were cut at the server's limit; page with a smaller _count",
        ));
    }
    if !warnings.is_empty() {
        let id = random_id();
        entries.push(Entry {
            resource_type: "OperationOutcome",
            distance_km: None,
            json: operation_outcome_with_id(&id, &warnings).to_string(),
            id,
            mode: SearchMode::Outcome,
        });
    }
    Searchset {
        id: random_id(),
        last_updated: format_instant(crate::base::clock::now_us()),
        total: result.total,
        self_url: link(search.cursor.clone()),
        next_url,
        entries,
    }
}

/// The validator (weak `ETag`) of a searchset: its total, links and entries, without what differs
/// between two answers of the same content (the Bundle's id and instant, an OperationOutcome
/// entry's id: the warnings themselves follow from the request and the data).
pub fn validator(set: &Searchset) -> String {
    let mut v = Validator::new();
    v.part(set.total.map(|t| t.to_string()).unwrap_or_default().as_bytes());
    v.part(set.self_url.as_bytes()).part(set.next_url.as_deref().unwrap_or_default().as_bytes());
    for e in &set.entries {
        v.part(e.resource_type.as_bytes());
        if e.mode == SearchMode::Outcome {
            continue;
        }
        v.part(e.id.as_bytes()).part(e.json.as_bytes());
        v.part(&e.distance_km.map(f64::to_bits).unwrap_or(u64::MAX).to_le_bytes());
        v.part(if e.mode == SearchMode::Match { b"match" } else { b"include" });
    }
    v.tag()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::Profile;
    use crate::db::rows::ResourceRow;
    use crate::search::parse::parse;

    fn row(id: &str, json: &str) -> ResourceRow {
        ResourceRow::served(id.to_owned(), 0, json.to_owned())
    }

    fn request(q: &str, lenient: bool) -> SearchRequest {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).expect("a query");
        parse(ResourceType::Location, &pairs, lenient, &SearchLimits::default()).expect("a valid search")
    }

    #[test]
    fn a_consumer_is_held_to_its_own_page_size() {
        let mut c = Consumer::unauthenticated("c", Profile::EVERYTHING);
        let server = SearchLimits::default();
        assert_eq!(limits_for(&c, &server).max_count, server.max_count);
        c.max_count = Some(10);
        let own = limits_for(&c, &server);
        assert_eq!((own.max_count, own.default_count), (10, 10));
    }

    #[test]
    fn cursors_are_bound_to_what_defines_the_view() {
        let req = request("name=a", false);
        let mut c = Consumer::unauthenticated("c", Profile::EVERYTHING);
        let before = cursor_binding(&c, ResourceType::Location, &req);
        c.regions = Some(vec!["52".to_owned()]);
        assert_ne!(cursor_binding(&c, ResourceType::Location, &req), before);
    }

    #[test]
    fn the_bundle_links_pages_and_reports_warnings() {
        let req = request("name=a&_elements=name&nonsense=1", true);
        let result = SearchResult {
            total: Some(3),
            matches: vec![row("p1", r#"{"resourceType":"Location","id":"p1","name":"a","status":"active"}"#)],
            has_more: true,
            included: vec![(
                ResourceType::HealthcareService,
                row("s1", r#"{"resourceType":"HealthcareService","id":"s1"}"#),
            )],
            included_truncated: true,
            ..SearchResult::default()
        };
        let b = searchset(&req, result, "https://h/fhir", "binding", b"secret");
        assert_eq!(b.self_url, "https://h/fhir/Location?name=a&_elements=name");
        let next = b.next_url.expect("a next page");
        let token = next.split("_cursor=").nth(1).expect("a cursor");
        assert_eq!(cursor::decode(b"secret", "binding", token).expect("signed").id, "p1");
        assert!(cursor::decode(b"secret", "another binding", token).is_err());
        let modes: Vec<_> = b.entries.iter().map(|e| (e.resource_type, e.mode)).collect();
        assert_eq!(
            modes,
            [
                ("Location", SearchMode::Match),
                ("HealthcareService", SearchMode::Include),
                ("OperationOutcome", SearchMode::Outcome)
            ]
        );
        assert!(!b.entries[0].json.contains("status"), "the match is cut to _elements");
        let outcome = &b.entries[2].json;
        assert!(outcome.contains("nonsense") && outcome.contains("too-costly"), "{outcome}");
    }
}
