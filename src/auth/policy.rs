//! The ROR access-profile rules, as data: one entry per rule. Pure (no actix, no diesel).
//!
//! Rules are applied by narrowing the SQL of every search and read (never by filtering results
//! afterwards), so `total` and paging stay exact. Reading of the IG's mapping notes
//! (RORLocationSupportedCapacity, `ConceptMetier_RORLocationSupportedCapacity`):
//! - profile 5 sees no capacity data at all;
//! - profile 0 sees only figures whose status is TRE_R330 `01` (installé) and whose temporary
//!   assignment is TRE_R337 `01` (aucune);
//! - profiles 2 and 3 do not see "exceptional" figures: the IG names no such status code; the only
//!   TRE_R330 code that fits is `06` (supplémentaire, capacity opened beyond the installed one to
//!   face a crisis), so those are hidden;
//! - nothing of the capacity of a place linked to a sensitive unit (`uniteSensible` = true on one
//!   of its offers) is shown, whatever the profile.

use crate::fhir::ResourceType;
use crate::search::registry;

/// An access profile, 0 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Profile(u8);

impl Profile {
    /// Every profile.
    pub const ALL: [u8; 6] = [0, 1, 2, 3, 4, 5];
    /// Profile 1: every data.
    pub const EVERYTHING: Profile = Profile(1);

    /// `Some` for 0..=5.
    pub fn new(n: u8) -> Option<Self> {
        (n <= 5).then_some(Self(n))
    }

    /// The number.
    pub fn number(self) -> u8 {
        self.0
    }
}

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// No capacity figure at all (no extension on Location, no Observation).
    NoCapacity,
    /// Only figures with one of these TRE_R330 statuses.
    OnlyStatuses(&'static [&'static str]),
    /// Figures with these TRE_R330 statuses are hidden.
    HideStatuses(&'static [&'static str]),
    /// Only figures with one of these TRE_R337 temporary assignments.
    OnlyAssignments(&'static [&'static str]),
    /// Figures of places linked to a sensitive unit are hidden.
    HideSensitiveUnits,
    /// The resource type may not be read or searched.
    DenyType(ResourceType),
    /// Search parameters that match capacity figures (the registry's `capacity` flag) may not be
    /// used.
    DenyCapacityParameters,
}

/// One rule: the profiles it applies to, and its effect.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Profiles concerned.
    pub profiles: &'static [u8],
    /// Effect.
    pub effect: Effect,
}

/// The rules. A new rule is one entry here.
pub const RULES: &[Rule] = &[
    Rule { profiles: &[5], effect: Effect::NoCapacity },
    Rule { profiles: &[5], effect: Effect::DenyType(ResourceType::Observation) },
    Rule { profiles: &[5], effect: Effect::DenyCapacityParameters },
    Rule { profiles: &[0], effect: Effect::OnlyStatuses(&["01"]) },
    Rule { profiles: &[0], effect: Effect::OnlyAssignments(&["01"]) },
    Rule { profiles: &[2, 3], effect: Effect::HideStatuses(&["06"]) },
    Rule { profiles: &Profile::ALL, effect: Effect::HideSensitiveUnits },
];

/// Which capacity figures a profile sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapacityScope {
    /// No figure at all.
    pub none: bool,
    /// Only these statuses (intersection of every `OnlyStatuses`).
    pub only_statuses: Option<Vec<&'static str>>,
    /// Hidden statuses.
    pub hidden_statuses: Vec<&'static str>,
    /// Only these temporary assignments.
    pub only_assignments: Option<Vec<&'static str>>,
    /// Hide figures of places linked to a sensitive unit.
    pub hide_sensitive: bool,
}

impl CapacityScope {
    /// Everything visible.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Whether every figure is visible.
    pub fn is_everything(&self) -> bool {
        *self == Self::default()
    }

    /// Whether a place's figures are either all visible or all hidden, whatever they are: no
    /// status or temporary assignment is singled out (the sensitive units hide all of a place's).
    pub fn all_or_nothing(&self) -> bool {
        self.none
            || (self.only_statuses.is_none() && self.hidden_statuses.is_empty() && self.only_assignments.is_none())
    }

    /// Whether a figure with this status and temporary assignment is visible, sensitive units
    /// aside (the same rule as the SQL filter on `capacities`).
    pub fn admits(&self, status: &str, assignment: &str) -> bool {
        !self.none && self.admits_status(status) && self.admits_assignment(assignment)
    }

    /// Whether figures of `status` are visible (temporary assignments and sensitive places aside).
    pub fn admits_status(&self, status: &str) -> bool {
        !self.hidden_statuses.contains(&status) && self.only_statuses.as_ref().is_none_or(|only| only.contains(&status))
    }

    fn admits_assignment(&self, assignment: &str) -> bool {
        self.only_assignments.as_ref().is_none_or(|only| only.contains(&assignment))
    }

    /// Whether every figure of a place with these distinct statuses and temporary assignments is
    /// visible, sensitive units aside (the same rules as the SQL filter on `capacities`).
    pub fn admits_all<'a>(
        &self,
        statuses: impl IntoIterator<Item = &'a str>,
        assignments: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        !self.none
            && statuses.into_iter().all(|s| self.admits_status(s))
            && assignments.into_iter().all(|a| self.admits_assignment(a))
    }

    /// A stable name for the figures this scope sees (`none`, `all`, `s=01;a=01;hs`, …): the key of
    /// the place views kept per scope (`location_views.view`). Two scopes that see the same figures
    /// have the same key.
    pub fn view_key(&self) -> String {
        if self.none {
            return "none".to_owned();
        }
        let mut parts = Vec::new();
        if let Some(only) = &self.only_statuses {
            parts.push(format!("s={}", sorted(only)));
        }
        if !self.hidden_statuses.is_empty() {
            parts.push(format!("s!={}", sorted(&self.hidden_statuses)));
        }
        if let Some(only) = &self.only_assignments {
            parts.push(format!("a={}", sorted(only)));
        }
        if self.hide_sensitive {
            parts.push("hs".to_owned());
        }
        if parts.is_empty() { "all".to_owned() } else { parts.join(";") }
    }
}

fn sorted(codes: &[&str]) -> String {
    let set: std::collections::BTreeSet<&str> = codes.iter().copied().collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// The distinct capacity scopes of the access profiles, in profile order: the place views kept
/// for each (what each consumer sees of a place's `meta.lastUpdated` depends only on its view).
pub fn views() -> Vec<CapacityScope> {
    let mut out: Vec<CapacityScope> = Vec::new();
    for n in Profile::ALL {
        let scope = Profile::new(n).map(capacity_scope).unwrap_or_default();
        if !out.iter().any(|s| s.view_key() == scope.view_key()) {
            out.push(scope);
        }
    }
    out
}

fn intersect(current: Option<Vec<&'static str>>, with: &'static [&'static str]) -> Option<Vec<&'static str>> {
    Some(match current {
        None => with.to_vec(),
        Some(c) => c.into_iter().filter(|s| with.contains(s)).collect(),
    })
}

fn applicable(profile: Profile) -> impl Iterator<Item = Effect> {
    RULES.iter().filter(move |r| r.profiles.contains(&profile.0)).map(|r| r.effect)
}

/// The capacity figures `profile` may see.
pub fn capacity_scope(profile: Profile) -> CapacityScope {
    let mut s = CapacityScope::default();
    for effect in applicable(profile) {
        match effect {
            Effect::NoCapacity => s.none = true,
            Effect::OnlyStatuses(st) => s.only_statuses = intersect(s.only_statuses.take(), st),
            Effect::HideStatuses(st) => s.hidden_statuses.extend_from_slice(st),
            Effect::OnlyAssignments(a) => s.only_assignments = intersect(s.only_assignments.take(), a),
            Effect::HideSensitiveUnits => s.hide_sensitive = true,
            Effect::DenyType(_) | Effect::DenyCapacityParameters => {}
        }
    }
    s
}

/// Whether `profile` may read and search `rt`.
pub fn may_access(profile: Profile, rt: ResourceType) -> bool {
    !applicable(profile).any(|e| e == Effect::DenyType(rt))
}

/// The first parameter of `names` that `profile` may not use on `rt`.
pub fn denied_parameter<'a>(
    profile: Profile,
    rt: ResourceType,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let capacity_denied = applicable(profile).any(|e| e == Effect::DenyCapacityParameters);
    names.into_iter().find(|n| {
        let base = n.split(':').next().unwrap_or_default();
        let (rt, base) = match base.strip_prefix("location.") {
            Some(chained) if rt == ResourceType::HealthcareService => (ResourceType::Location, chained),
            _ => (rt, base),
        };
        capacity_denied && registry::find(rt, base).is_some_and(|p| p.capacity)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_all_follows_the_figure_filter() {
        let all = CapacityScope::everything();
        assert!(all.admits_all(["01", "06"], ["1"]));
        let hide = CapacityScope { hidden_statuses: vec!["06"], ..CapacityScope::default() };
        assert!(hide.admits_all(["01"], ["1"]));
        assert!(!hide.admits_all(["01", "06"], ["1"]));
        let only =
            CapacityScope { only_statuses: Some(vec!["01"]), only_assignments: Some(vec!["1"]), ..Default::default() };
        assert!(only.admits_all(["01"], ["1"]));
        assert!(!only.admits_all(["01", "02"], ["1"]));
        assert!(!only.admits_all(["01"], ["1", "2"]));
        assert!(only.admits_all([], []));
        let none = CapacityScope { none: true, ..CapacityScope::default() };
        assert!(!none.admits_all([], []));
        assert!(only.admits("01", "1") && !only.admits("02", "1") && !only.admits("01", "2"));
        assert!(hide.admits("01", "9") && !hide.admits("06", "9") && !none.admits("01", "01"));
    }

    #[test]
    fn one_view_per_distinct_scope() {
        let keys: Vec<String> = views().iter().map(CapacityScope::view_key).collect();
        assert_eq!(keys, vec!["s=01;a=01;hs", "hs", "s!=06;hs", "none"]);
        assert_eq!(capacity_scope(p(4)).view_key(), "hs");
        assert_eq!(capacity_scope(p(3)).view_key(), "s!=06;hs");
        assert_eq!(CapacityScope::everything().view_key(), "all");
    }

    fn p(n: u8) -> Profile {
        Profile::new(n).unwrap()
    }

    #[test]
    fn profiles_fold_their_rules() {
        assert!(capacity_scope(p(5)).none);
        assert_eq!(capacity_scope(p(0)).only_statuses, Some(vec!["01"]));
        assert_eq!(capacity_scope(p(0)).only_assignments, Some(vec!["01"]));
        assert_eq!(capacity_scope(p(2)).hidden_statuses, vec!["06"]);
        assert_eq!(capacity_scope(p(3)).hidden_statuses, vec!["06"]);
        let one = capacity_scope(p(1));
        assert!(one.hide_sensitive && !one.none && one.only_statuses.is_none() && one.hidden_statuses.is_empty());
        assert!(!may_access(p(5), ResourceType::Observation));
        assert!(may_access(p(0), ResourceType::Observation));
        assert!(Profile::new(6).is_none());
    }
}
