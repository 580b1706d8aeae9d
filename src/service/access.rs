//! What a consumer may do, checked before any database work: the types and interactions its
//! profile and registration allow, the search parameters its profile refuses, and the types a
//! search reaches through `_include`, `_revinclude` or `_has`. Each refusal says why.

use crate::auth::policy::{capacity_scope, denied_parameter, may_access};
use crate::auth::registry::{Consumer, Interaction};
use crate::db::sql::Scope;
use crate::fhir::ResourceType;
use crate::search::SearchRequest;

/// Why a consumer is refused (answered 403 with this text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl From<Denied> for crate::error::AppError {
    fn from(d: Denied) -> Self {
        Self::Forbidden(d.0)
    }
}

/// Refuses what the consumer's profile and registration do not allow on `rt`; returns the scope
/// it sees `rt` through.
pub fn authorize(c: &Consumer, rt: ResourceType, interaction: Interaction) -> Result<Scope, Denied> {
    if !may_access(c.profile, rt) {
        return Err(Denied(format!("access profile {} does not give access to {}", c.profile.number(), rt.as_str())));
    }
    if !c.allows(rt, interaction) {
        let what = if interaction == Interaction::Read { "read" } else { "search" };
        return Err(Denied(format!("consumer {} may not {what} {}", c.name, rt.as_str())));
    }
    Ok(Scope { regions: c.regions.clone(), capacity: capacity_scope(c.profile) })
}

/// Refuses the capacity aggregates (`MeasureReport`, `Measure`) to a consumer that may not search
/// places, or whose profile sees no capacity figure: the aggregates are a sum over what its
/// Location searches show, so they open nothing more. Returns the scope they are computed in.
pub fn authorize_aggregates(c: &Consumer) -> Result<Scope, Denied> {
    let scope = authorize(c, ResourceType::Location, Interaction::Search)
        .map_err(|d| Denied(format!("the capacity aggregates are sums over Location searches: {}", d.0)))?;
    if scope.capacity.none {
        return Err(Denied(format!(
            "access profile {} gives no access to capacity figures, nor to their aggregates",
            c.profile.number()
        )));
    }
    Ok(scope)
}

/// Refuses a search parameter (of `names`, as sent) that the consumer's profile may not use on `rt`.
pub fn authorize_parameters<'a>(
    c: &Consumer,
    rt: ResourceType,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), Denied> {
    match denied_parameter(c.profile, rt, names) {
        Some(p) => Err(Denied(format!("access profile {} may not search {} by {p}", c.profile.number(), rt.as_str()))),
        None => Ok(()),
    }
}

/// Refuses a search that reads or returns a type the consumer may not search (`_include`,
/// `_revinclude`, `_has`): a grant on one type must not open another through a search parameter.
pub fn authorize_related(c: &Consumer, search: &SearchRequest) -> Result<(), Denied> {
    for (rt, through) in search.related_types() {
        if !may_access(c.profile, rt) || !c.allows(rt, Interaction::Search) {
            return Err(Denied(format!("consumer {} may not search {}, which {through} reads", c.name, rt.as_str())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::auth::policy::Profile;
    use crate::search::limits::SearchLimits;
    use crate::search::parse::parse;

    fn consumer(profile: u8) -> Consumer {
        Consumer::unauthenticated("c", Profile::new(profile).expect("a profile"))
    }

    #[test]
    fn profiles_and_grants_decide_types_and_interactions() {
        assert!(authorize(&consumer(1), ResourceType::Observation, Interaction::Read).is_ok());
        let denied = authorize(&consumer(5), ResourceType::Observation, Interaction::Search).unwrap_err();
        assert!(denied.0.contains("profile 5"), "{denied:?}");
        let mut offers_only = consumer(1);
        offers_only.interactions = Some(BTreeMap::from([("HealthcareService".to_owned(), vec![Interaction::Search])]));
        assert!(authorize(&offers_only, ResourceType::HealthcareService, Interaction::Search).is_ok());
        assert!(authorize(&offers_only, ResourceType::HealthcareService, Interaction::Read).is_err());
        assert!(authorize(&offers_only, ResourceType::Location, Interaction::Search).is_err());
    }

    #[test]
    fn a_profile_without_capacity_may_not_search_by_capacity() {
        let names = ["name", "capacity-status:not"];
        assert!(authorize_parameters(&consumer(1), ResourceType::Location, names).is_ok());
        let denied = authorize_parameters(&consumer(5), ResourceType::Location, names).unwrap_err();
        assert!(denied.0.contains("capacity-status"), "{denied:?}");
        assert!(authorize_parameters(&consumer(5), ResourceType::Location, ["name"]).is_ok());
    }

    #[test]
    fn includes_need_a_grant_on_the_type_they_reach() {
        let pairs = vec![("_include".to_owned(), "HealthcareService:location".to_owned())];
        let search = parse(ResourceType::HealthcareService, &pairs, false, &SearchLimits::default()).expect("valid");
        let mut offers_only = consumer(1);
        offers_only.interactions = Some(BTreeMap::from([("HealthcareService".to_owned(), vec![Interaction::Search])]));
        let denied = authorize_related(&offers_only, &search).unwrap_err();
        assert!(denied.0.contains("Location"), "{denied:?}");
        assert!(authorize_related(&consumer(1), &search).is_ok());
    }
}
