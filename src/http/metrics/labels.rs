//! The labels of a request: its route, resource type, method and scenario shape, each one of a
//! few fixed texts, never text of the request itself.

use crate::fhir::ResourceType;

/// The route of `path` (a fixed text, never the request's own) and the resource type it names, if
/// one this server serves (`""` otherwise): nothing allocated, few values.
pub(super) fn route_of(path: &str) -> (&'static str, &'static str) {
    match path {
        "/health" => return ("/health", ""),
        "/ready" => return ("/ready", ""),
        "/fhir/metadata" => return ("/fhir/metadata", ""),
        "/bench/ceiling" => return ("/bench/ceiling", ""),
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/fhir/") else { return ("other", "") };
    let mut parts = rest.splitn(3, '/');
    let (first, second, more) = (parts.next().unwrap_or(""), parts.next(), parts.next().is_some());
    if first.starts_with('$') || second.is_some_and(|s| s.starts_with('$')) {
        let rt = ResourceType::parse(first).map_or("", ResourceType::as_str);
        return ("/fhir/$export", rt);
    }
    let rt = ResourceType::parse(first).map_or("", ResourceType::as_str);
    let route = match (second, more) {
        (None | Some(""), _) => "/fhir/{type}",
        (Some("_search"), false) => "/fhir/{type}/_search",
        (Some(_), false) => "/fhir/{type}/{id}",
        (Some(_), true) => "other",
    };
    (route, rt)
}

pub(super) fn method_of(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The scenario shape of a search (for the latency histograms): which of the ROR's scenarios its
/// query looks like, from the names of its parameters (never their values). `read` for a read by
/// id; `next-page` for a page reached by its cursor; `identifier` (S2, S3: `identifier` or
/// `_id`); `has` (S5: `_has`); `since` (S4: `_lastUpdated`); `filtered` for any other criterion;
/// `all` (S1) for none but paging, includes and output settings; `post` for a POST search (its
/// parameters are in the body); empty for routes that are not searches or reads.
pub(super) fn shape_of(route: &str, method: &str, query: &str) -> &'static str {
    match route {
        "/fhir/{type}/{id}" => return "read",
        "/fhir/{type}" | "/fhir/{type}/_search" if method == "POST" => return "post",
        "/fhir/{type}" | "/fhir/{type}/_search" => {}
        _ => return "",
    }
    let names = query.split('&').map(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        name.split(':').next().unwrap_or(name)
    });
    let (mut identifier, mut has, mut since, mut filtered) = (false, false, false, false);
    for name in names {
        match name {
            "_cursor" => return "next-page",
            "identifier" | "_id" => identifier = true,
            "_has" => has = true,
            "_lastUpdated" => since = true,
            "" | "_count" | "_include" | "_revinclude" | "_elements" | "_summary" | "_format" | "_total" | "_sort"
            | "_pretty" => {}
            _ => filtered = true,
        }
    }
    match (identifier, has, since, filtered) {
        (true, ..) => "identifier",
        (_, true, ..) => "has",
        (_, _, true, _) => "since",
        (.., true) => "filtered",
        _ => "all",
    }
}

#[cfg(test)]
mod tests {
    use super::{route_of, shape_of};

    #[test]
    fn shapes_take_few_values() {
        let shape = |q| shape_of("/fhir/{type}", "GET", q);
        assert_eq!(shape("_revinclude=HealthcareService:location&_count=200"), "all");
        assert_eq!(shape(""), "all");
        assert_eq!(shape("identifier=52/1&_revinclude=HealthcareService:location"), "identifier");
        assert_eq!(shape("identifier:of-type=a|b|c"), "identifier");
        assert_eq!(shape("_lastUpdated=ge2026-10-25&_revinclude=HealthcareService:location"), "since");
        assert_eq!(shape("_has:HealthcareService:location:identifier=11/3"), "has");
        assert_eq!(shape("_cursor=abc&_count=10"), "next-page");
        assert_eq!(shape("capacity-status=02"), "filtered");
        assert_eq!(shape("%00=%ff&&&=="), "filtered");
        assert_eq!(shape_of("/fhir/{type}/_search", "POST", ""), "post");
        assert_eq!(shape_of("/fhir/{type}/{id}", "GET", "_elements=id"), "read");
        assert_eq!(shape_of("/fhir/metadata", "GET", "x=1"), "");
    }

    #[test]
    fn routes_take_few_values() {
        assert_eq!(route_of("/fhir/Location"), ("/fhir/{type}", "Location"));
        assert_eq!(route_of("/fhir/Location/"), ("/fhir/{type}", "Location"));
        assert_eq!(route_of("/fhir/Location/_search"), ("/fhir/{type}/_search", "Location"));
        assert_eq!(route_of("/fhir/Observation/abc-1"), ("/fhir/{type}/{id}", "Observation"));
        assert_eq!(route_of("/fhir/Nonsense"), ("/fhir/{type}", ""));
        assert_eq!(route_of("/fhir/x/y/z"), ("other", ""));
        assert_eq!(route_of("/fhir/$export"), ("/fhir/$export", ""));
        assert_eq!(route_of("/fhir/Location/$export"), ("/fhir/$export", "Location"));
        assert_eq!(route_of("/fhir/$export-file/1/Location.ndjson"), ("/fhir/$export", ""));
        assert_eq!(route_of("/fhir/metadata"), ("/fhir/metadata", ""));
        assert_eq!(route_of("/etc/passwd"), ("other", ""));
        assert_eq!(route_of("/health"), ("/health", ""));
    }
}
