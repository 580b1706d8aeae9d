//! What one consumer's export reads: per type, the scope it sees the type through and the searches
//! (its `_typeFilter` queries, ORed, each with `_since`) that select what goes in the type's file,
//! checked against the consumer's grants exactly as the same searches would be.

use super::request::{ExportSpec, split_filter};
use crate::auth::registry::{Consumer, Interaction};
use crate::db::sql::Scope;
use crate::error::AppError;
use crate::fhir::ResourceType;
use crate::search::limits::SearchLimits;
use crate::search::{SearchRequest, parse, query};
use crate::service::access;

/// The order types are exported in: offers first, so the places and organisations they bring
/// along are known before the types' own walks.
const ORDER: [ResourceType; 4] =
    [ResourceType::HealthcareService, ResourceType::Location, ResourceType::Organization, ResourceType::Observation];

/// One exported type.
#[derive(Debug, Clone)]
pub struct Part {
    /// The type.
    pub rt: ResourceType,
    /// What the consumer sees of it.
    pub scope: Scope,
    /// Its searches, ORed (a resource matched by several is written once).
    pub searches: Vec<SearchRequest>,
}

/// What an export reads.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// The exported types, in [`ORDER`].
    pub parts: Vec<Part>,
    /// `_myCompleteExtract`: the types resources of the parts bring along, and the scope the
    /// consumer sees them through (only types it may search).
    pub associated: Vec<(ResourceType, Scope)>,
}

impl ExportPlan {
    /// Whether a resource of `rt` may reach its file twice (several searches, or brought along),
    /// so the ids written must be remembered.
    pub fn may_repeat(&self, rt: ResourceType) -> bool {
        self.associated.iter().any(|(t, _)| *t == rt) || self.parts.iter().any(|p| p.rt == rt && p.searches.len() > 1)
    }

    /// The scope of a type brought along, if it is.
    pub fn associated_scope(&self, rt: ResourceType) -> Option<&Scope> {
        self.associated.iter().find(|(t, _)| *t == rt).map(|(_, s)| s)
    }

    /// Whether any search tests a range (PostgreSQL then plans with the values).
    pub fn has_ranges(&self) -> bool {
        self.parts.iter().flat_map(|p| &p.searches).any(|s| s.conditions.iter().any(crate::search::Condition::is_range))
    }
}

/// The criteria a `_typeFilter` query may carry: search parameters, not result parameters
/// (`_sort`, `_include`, `_count`… shape pages, which an export has none of).
fn criterion(name: &str) -> bool {
    !name.starts_with('_')
        || name.starts_with("_has:")
        || matches!(
            name.split(':').next(),
            Some("_id" | "_lastUpdated" | "_tag" | "_filter" | "_profile" | "_security")
        )
}

/// The search of one `_typeFilter` query (or of the whole type when `criteria` is `None`), with
/// `_since`, checked against the consumer's grants.
fn search(
    c: &Consumer,
    rt: ResourceType,
    criteria: Option<&str>,
    since: Option<&str>,
    limits: &SearchLimits,
) -> Result<SearchRequest, AppError> {
    let mut pairs = match criteria {
        Some(q) => query::decode_pairs(q)?,
        None => Vec::new(),
    };
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !criterion(k)) {
        return Err(AppError::invalid(
            "not-supported",
            format!("_typeFilter may only carry search criteria; {name} is a result parameter"),
        ));
    }
    access::authorize_parameters(c, rt, pairs.iter().map(|(k, _)| k.as_str()))?;
    if let Some(since) = since {
        pairs.push(("_lastUpdated".to_owned(), format!("gt{since}")));
    }
    let req = parse::parse(rt, &pairs, false, limits)?;
    access::authorize_parameters(c, rt, req.filter_parameters.iter().map(String::as_str))?;
    access::authorize_related(c, &req)?;
    Ok(req)
}

/// The plan of `spec` for consumer `c`: a type named in `_type` that the consumer may not search
/// is refused (403); without `_type`, the types it may search are exported.
pub fn plan(spec: &ExportSpec, c: &Consumer, limits: &SearchLimits) -> Result<ExportPlan, AppError> {
    let mut parts = Vec::new();
    for rt in ORDER {
        let scope = match &spec.types {
            Some(types) if !types.contains(&rt) => continue,
            Some(_) => access::authorize(c, rt, Interaction::Search)?,
            None => match access::authorize(c, rt, Interaction::Search) {
                Ok(s) => s,
                Err(_) => continue,
            },
        };
        let filters: Vec<&str> = spec
            .type_filters
            .iter()
            .filter_map(|q| split_filter(q))
            .filter(|(t, _)| *t == rt)
            .map(|(_, criteria)| criteria)
            .collect();
        let searches = if filters.is_empty() {
            vec![search(c, rt, None, spec.since.as_deref(), limits)?]
        } else {
            filters.iter().map(|q| search(c, rt, Some(q), spec.since.as_deref(), limits)).collect::<Result<_, _>>()?
        };
        parts.push(Part { rt, scope, searches });
    }
    if parts.is_empty() {
        return Err(AppError::Forbidden(format!("consumer {} may not search any exported type", c.name)));
    }
    let mut associated = Vec::new();
    if spec.complete_extract {
        let exported = |rt| parts.iter().any(|p: &Part| p.rt == rt);
        let mut brought = Vec::new();
        if exported(ResourceType::HealthcareService) {
            brought.extend([ResourceType::Location, ResourceType::Organization]);
        }
        if exported(ResourceType::Location) {
            brought.push(ResourceType::Organization);
        }
        for rt in ORDER.into_iter().filter(|rt| brought.contains(rt)) {
            if let Ok(scope) = access::authorize(c, rt, Interaction::Search) {
                associated.push((rt, scope));
            }
        }
    }
    Ok(ExportPlan { parts, associated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::Profile;
    use crate::service::export::request::parse_kickoff;

    fn spec(list: &[(&str, &str)]) -> ExportSpec {
        let pairs: Vec<(String, String)> = list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        parse_kickoff(&pairs, None, false).expect("a valid kick-off")
    }

    fn consumer(profile: u8) -> Consumer {
        Consumer::unauthenticated("c", Profile::new(profile).expect("a profile"))
    }

    #[test]
    fn every_type_the_consumer_may_search_by_default() {
        let all = plan(&spec(&[]), &consumer(1), &SearchLimits::default()).unwrap();
        assert_eq!(all.parts.len(), 4);
        let p5 = plan(&spec(&[]), &consumer(5), &SearchLimits::default()).unwrap();
        assert!(p5.parts.iter().all(|p| p.rt != ResourceType::Observation));
        assert!(plan(&spec(&[("_type", "Observation")]), &consumer(5), &SearchLimits::default()).is_err());
    }

    #[test]
    fn filters_are_searches_the_consumer_could_run() {
        let s = spec(&[("_typeFilter", "Location?capacity-status=02")]);
        assert!(plan(&s, &consumer(1), &SearchLimits::default()).is_ok());
        assert!(matches!(plan(&s, &consumer(5), &SearchLimits::default()), Err(AppError::Forbidden(_))));
        let sorted = spec(&[("_typeFilter", "Location?_sort=_lastUpdated")]);
        assert!(matches!(plan(&sorted, &consumer(1), &SearchLimits::default()), Err(AppError::Invalid(_))));
        let bad = spec(&[("_typeFilter", "Location?no-such-parameter=1")]);
        assert!(plan(&bad, &consumer(1), &SearchLimits::default()).is_err());
    }

    #[test]
    fn the_complete_extract_brings_places_and_organisations() {
        let s = spec(&[("_type", "HealthcareService"), ("includeAssociatedData", "_myCompleteExtract")]);
        let p = plan(&s, &consumer(1), &SearchLimits::default()).unwrap();
        assert_eq!(p.parts.len(), 1);
        let brought: Vec<ResourceType> = p.associated.iter().map(|(t, _)| *t).collect();
        assert_eq!(brought, vec![ResourceType::Location, ResourceType::Organization]);
        assert!(p.may_repeat(ResourceType::Location) && !p.may_repeat(ResourceType::HealthcareService));
    }
}
