//! The parameters that shape the result rather than select it: includes, paging, sort, total,
//! summary, elements and format.

use super::Param;
use super::SearchLimits;
use super::values::values;
use crate::fhir::outcome::Issue;
use crate::fhir::{ResourceType, elements};
use crate::search::{SearchRequest, Sort, SortKey};

/// The parameters that shape the result rather than select it (includes, paging, sort, total,
/// summary, elements, format); `Ok(false)` when `param` is none of them.
pub(super) fn result_parameter(
    req: &mut SearchRequest,
    param: &Param<'_>,
    limits: &SearchLimits,
) -> Result<bool, Issue> {
    use ResourceType as R;
    let (name, raw) = (param.name, param.raw);
    match (req.resource, name) {
        (R::Location, "_revinclude") => {
            param.plain()?;
            only_service_location(name, raw)?;
            req.revinclude_services = true;
        }
        (R::HealthcareService, "_include") => {
            param.plain()?;
            match raw {
                "HealthcareService:location" => req.include_locations = true,
                "HealthcareService:organization" => req.include_organizations = true,
                _ => {
                    return Err(unsupported_include(
                        name,
                        raw,
                        "HealthcareService:location, HealthcareService:organization",
                    ));
                }
            }
        }
        (R::Location, "_include") => {
            param.plain()?;
            if raw != "Location:organization" {
                return Err(unsupported_include(name, raw, "Location:organization"));
            }
            req.include_organizations = true;
        }
        (_, "_count") => {
            param.plain()?;
            req.count = count(raw, limits, &mut req.warnings)?;
        }
        (_, "_sort") => {
            param.plain()?;
            req.sort = parse_sort(raw)?;
        }
        (_, "_total") => {
            param.plain()?;
            req.total = match raw {
                "accurate" | "estimate" => true,
                "none" => false,
                _ => {
                    return Err(Issue::error(
                        "invalid",
                        format!("_total must be none, estimate or accurate, got {raw:?}"),
                    )
                    .at(name));
                }
            };
        }
        (_, "_summary") => {
            param.plain()?;
            req.summary_count = match raw {
                "count" => true,
                "false" => false,
                _ => {
                    return Err(Issue::error(
                        "not-supported",
                        format!("_summary={raw} is not supported (count and false are)"),
                    )
                    .at(name));
                }
            };
        }
        (rt, "_elements") => {
            param.plain()?;
            req.elements = Some(element_names(rt, raw, limits)?);
        }
        // Content negotiation is handled by the HTTP layer.
        (_, "_format") => param.plain()?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `_revinclude`: only `HealthcareService:location` is supported.
pub(super) fn only_service_location(name: &str, raw: &str) -> Result<(), Issue> {
    if raw == "HealthcareService:location" {
        return Ok(());
    }
    Err(unsupported_include(name, raw, "HealthcareService:location"))
}

fn unsupported_include(name: &str, raw: &str, supported: &str) -> Issue {
    let shown: String = raw.chars().take(60).collect();
    Issue::error("not-supported", format!("{name}={shown} is not supported ({supported} are)")).at(name)
}

/// `_count`, capped at the server's maximum (with a warning when it was above).
pub(super) fn count(raw: &str, limits: &SearchLimits, warnings: &mut Vec<Issue>) -> Result<usize, Issue> {
    let n: usize = raw.parse().map_err(|_| {
        Issue::error("invalid", format!("_count must be a non-negative integer, got {raw:?}")).at("_count")
    })?;
    if n > limits.max_count {
        warnings.push(
            Issue::warning("informational", format!("_count={n} is above the maximum; {} used", limits.max_count))
                .at("_count"),
        );
    }
    Ok(n.min(limits.max_count))
}

/// `_elements`: at most `limits.max_elements` names, each an element of `rt`.
pub(super) fn element_names(rt: ResourceType, raw: &str, limits: &SearchLimits) -> Result<Vec<String>, Issue> {
    let names = values("_elements", raw)?;
    if names.len() > limits.max_elements {
        return Err(Issue::error(
            "too-costly",
            format!("_elements lists {} names; at most {} are accepted", names.len(), limits.max_elements),
        )
        .at("_elements"));
    }
    if let Some(e) = names.iter().find(|e| !elements::is_known_element(rt, e)) {
        return Err(
            Issue::error("invalid", format!("_elements: {e:?} is not an element of {}", rt.as_str())).at("_elements")
        );
    }
    Ok(names)
}

pub(super) fn parse_sort(raw: &str) -> Result<Sort, Issue> {
    let keys: Vec<&str> = raw.split(',').collect();
    let key = |k: &str| -> Option<Sort> {
        let (descending, name) = match k.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, k),
        };
        let key = match name {
            "_id" => SortKey::Id,
            "_lastUpdated" => SortKey::LastUpdated,
            "near" if !descending => SortKey::Near,
            _ => return None,
        };
        Some(Sort { key, descending })
    };
    let bad = || {
        Issue::error(
            "not-supported",
            format!("_sort={raw:?}: supported keys are _lastUpdated, -_lastUpdated, _id, -_id, near (with near)"),
        )
        .at("_sort")
    };
    match keys.as_slice() {
        [one] => key(one).ok_or_else(bad),
        // `_lastUpdated,_id` is accepted: the id is always the tie-breaker.
        [first, second] => {
            let s = key(first).ok_or_else(bad)?;
            match key(second) {
                Some(Sort { key: SortKey::Id, descending })
                    if s.key == SortKey::LastUpdated && descending == s.descending =>
                {
                    Ok(s)
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}
