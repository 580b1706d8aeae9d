//! What a consumer may see, as SQL predicates: its regions, its capacity figures, sensitive units.

use super::plan::SqlPlan;
use crate::auth::policy::{CapacityScope, Profile, capacity_scope};
use crate::db::ident::capacities as c;
use crate::fhir::ResourceType;

/// What a consumer may see: every query is narrowed by it, in SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Source regions (`None`: all).
    pub regions: Option<Vec<String>>,
    /// Visible capacity figures.
    pub capacity: CapacityScope,
}

impl Scope {
    /// No restriction. Locations are served through the views of the access profiles
    /// (`location_views`), which this scope has none of: use [`Scope::of_profile`] for them.
    pub fn everything() -> Self {
        Self::default()
    }

    /// What a consumer of `profile` limited to no region sees.
    pub fn of_profile(profile: Profile) -> Self {
        Self { regions: None, capacity: capacity_scope(profile) }
    }
}

pub(super) fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The links from places (`shl.location_id`) to sensitive units: a place with one shows no figure
/// to a consumer whose scope hides sensitive units.
pub(super) const SENSITIVE_LINKS: &str = "healthcare_service_locations shl JOIN healthcare_services sh ON sh.id = shl.service_id \
     WHERE sh.sensitive_unit = TRUE";

/// The predicate "figure `alias` is visible" (a parenthesised boolean expression).
pub(super) fn capacity_visible(p: &mut SqlPlan, alias: &'static str, cap: &CapacityScope) {
    figure_visible(p, alias, cap, true);
}

/// The predicate "figure `alias` is visible", the place's `sensitive` flag read only when
/// `check_place` (otherwise the caller tests it on the place's row).
pub(super) fn figure_visible(p: &mut SqlPlan, alias: &'static str, cap: &CapacityScope, check_place: bool) {
    if cap.none {
        p.push("(1 = 0)");
        return;
    }
    p.push("(1 = 1");
    if let Some(only) = &cap.only_statuses {
        p.push(" AND ");
        p.col(alias, c::CAPACITY_STATUS);
        p.push(" IN ");
        p.text_list(&owned(only));
    }
    if !cap.hidden_statuses.is_empty() {
        p.push(" AND ");
        p.col(alias, c::CAPACITY_STATUS);
        p.push(" NOT IN ");
        p.text_list(&owned(&cap.hidden_statuses));
    }
    if let Some(only) = &cap.only_assignments {
        p.push(" AND ");
        p.col(alias, c::TEMPORARY_ASSIGNMENT);
        p.push(" IN ");
        p.text_list(&owned(only));
    }
    if cap.hide_sensitive && check_place {
        // The place's own flag (kept by the import with its links to sensitive units), through
        // the partial index of the few sensitive places: reading the links instead made
        // PostgreSQL scan every link and every offer for a capacity search of all of France.
        p.push(" AND NOT EXISTS (SELECT 1 FROM locations sp WHERE sp.sensitive = TRUE AND sp.id = ");
        p.col(alias, c::LOCATION_ID);
        p.push(")");
    }
    p.push(")");
}

/// `AND <region restriction>` for the rows of `rt` aliased `r`.
pub(super) fn region_filter(p: &mut SqlPlan, rt: ResourceType, scope: &Scope) {
    let Some(regions) = &scope.regions else { return };
    if rt == ResourceType::Observation {
        p.push(" AND r.location_id IN (SELECT rl.id FROM locations rl WHERE rl.region IN ");
        p.text_list(regions);
        p.push(")");
    } else {
        p.push(" AND r.region IN ");
        p.text_list(regions);
    }
}

/// `AND hl.service_id <is an offer the consumer may see>` (its regions), for `_has`: an offer
/// outside them must not make a place match.
pub(super) fn visible_offers(p: &mut SqlPlan, scope: &Scope) {
    let Some(regions) = &scope.regions else { return };
    p.push(" AND hl.service_id IN (SELECT vo.id FROM healthcare_services vo WHERE vo.region IN ");
    p.text_list(regions);
    p.push(")");
}

/// `AND <visible>` for Observations (their rows are the figures themselves).
pub(super) fn observation_filter(p: &mut SqlPlan, rt: ResourceType, scope: &Scope) {
    if rt == ResourceType::Observation && !scope.capacity.is_everything() {
        p.push(" AND ");
        capacity_visible(p, "r", &scope.capacity);
    }
}
