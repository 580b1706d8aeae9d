//! When each consumer's view of a place last changed: the `meta.lastUpdated` a consumer sees of a
//! Location, what its `_lastUpdated` search matches and what `_sort=_lastUpdated` orders by. Pure.
//!
//! A place is seen through one view per distinct capacity scope ([`super::policy::views`]): the
//! place without its figures, plus the figures that scope admits (none when the place is linked to
//! a sensitive unit and the scope hides those). A view's instant moves only when what it shows
//! changes, so a figure a consumer may not see never moves what that consumer sees.

use super::policy::CapacityScope;

/// What the view rules need of one capacity figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure<'a> {
    /// TRE_R330 status.
    pub status: &'a str,
    /// TRE_R337 temporary assignment.
    pub assignment: &'a str,
    /// Its extension JSON, as served.
    pub json: &'a str,
    /// Its own last change (the `meta.lastUpdated` of its Observation).
    pub last_updated: i64,
}

/// One state of a place, as far as the views are concerned.
#[derive(Debug, Clone, Copy)]
pub struct PlaceState<'a> {
    /// Last change of the place without its figures.
    pub base_last_updated: i64,
    /// Whether the place is linked to a sensitive unit.
    pub sensitive: bool,
    /// Its figures, in document order.
    pub figures: &'a [Figure<'a>],
}

/// The figures of `place` seen through `scope`, in document order.
pub fn visible<'a>(scope: &CapacityScope, place: &PlaceState<'a>) -> Vec<&'a Figure<'a>> {
    if scope.none || (scope.hide_sensitive && place.sensitive) {
        return Vec::new();
    }
    place.figures.iter().filter(|f| scope.admits(f.status, f.assignment)).collect()
}

/// The instant of a view computed from one state alone (a new place, or a view that did not exist
/// before): the latest of the place's own and its visible figures'.
pub fn fresh(scope: &CapacityScope, place: &PlaceState<'_>) -> i64 {
    visible(scope, place).iter().map(|f| f.last_updated).fold(place.base_last_updated, i64::max)
}

/// Whether what `scope` shows of a place differs between two states: its base, or its visible
/// figures (their JSON, in order).
pub fn changed(scope: &CapacityScope, base_changed: bool, before: &PlaceState<'_>, after: &PlaceState<'_>) -> bool {
    base_changed || !visible(scope, before).iter().map(|f| f.json).eq(visible(scope, after).iter().map(|f| f.json))
}

/// The instant of a view after a change of the place: the view's instant when nothing it shows
/// changed; otherwise its fresh instant, moved past the previous one (see [`next_last_updated`]).
pub fn after_change(
    scope: &CapacityScope,
    previous: Option<i64>,
    base_changed: bool,
    before: &PlaceState<'_>,
    after: &PlaceState<'_>,
    now_us: i64,
) -> i64 {
    match previous {
        None => fresh(scope, after),
        Some(prev) if !changed(scope, base_changed, before, after) => prev,
        Some(prev) => next_last_updated(fresh(scope, after), Some(prev), now_us),
    }
}

/// `meta.lastUpdated` never goes backwards and always moves when content changes: `candidate`
/// (a source instant), unless it is not after `previous`, then the import time (or just after
/// `previous` when the clock is behind it).
pub fn next_last_updated(candidate: i64, previous: Option<i64>, now_us: i64) -> i64 {
    match previous {
        Some(prev) if candidate <= prev => now_us.max(prev.saturating_add(1)),
        _ => candidate,
    }
}

/// The instants of a place's views as kept on its row: `instant:view` entries separated by
/// spaces (view keys hold neither a space nor a colon), in the order given.
pub fn encode_instants<K: AsRef<str>>(views: &[(K, i64)]) -> String {
    let entries: Vec<String> = views.iter().map(|(key, lu)| format!("{lu}:{}", key.as_ref())).collect();
    entries.join(" ")
}

/// The instant of view `key` in `encoded` (see [`encode_instants`]).
pub fn instant_of(encoded: &str, key: &str) -> Option<i64> {
    encoded.split(' ').find_map(|entry| {
        let (lu, k) = entry.split_once(':')?;
        if k == key { lu.parse().ok() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::{Profile, capacity_scope};

    fn scope(n: u8) -> CapacityScope {
        capacity_scope(Profile::new(n).unwrap_or(Profile::EVERYTHING))
    }

    fn fig<'a>(status: &'a str, json: &'a str, lu: i64) -> Figure<'a> {
        Figure { status, assignment: "01", json, last_updated: lu }
    }

    #[test]
    fn a_hidden_figure_moves_no_view_that_hides_it() {
        let before = [fig("01", "a", 10), fig("06", "b", 20)];
        let after = [fig("01", "a", 10), fig("06", "b2", 90)];
        let s0 = PlaceState { base_last_updated: 5, sensitive: false, figures: &before };
        let s1 = PlaceState { figures: &after, ..s0 };
        // Profile 1 sees the 06 figure, 2 and 5 do not.
        assert_eq!(after_change(&scope(1), Some(20), false, &s0, &s1, 100), 90);
        assert_eq!(after_change(&scope(2), Some(10), false, &s0, &s1, 100), 10);
        assert_eq!(after_change(&scope(5), Some(5), false, &s0, &s1, 100), 5);
        assert_eq!(fresh(&scope(2), &s1), 10);
        assert_eq!(fresh(&scope(5), &s1), 5);
    }

    #[test]
    fn removals_and_sensitivity_move_the_views_that_saw_figures() {
        let before = [fig("01", "a", 10), fig("06", "b", 20)];
        let after = [fig("01", "a", 10)];
        let s0 = PlaceState { base_last_updated: 5, sensitive: false, figures: &before };
        let s1 = PlaceState { figures: &after, ..s0 };
        // The 06 figure disappears: profile 1 sees it go (now), profile 2 saw nothing change.
        assert_eq!(after_change(&scope(1), Some(20), false, &s0, &s1, 100), 100);
        assert_eq!(after_change(&scope(2), Some(10), false, &s0, &s1, 100), 10);
        // The place becomes sensitive: every view that showed a figure moves, profile 5 does not.
        let s2 = PlaceState { sensitive: true, ..s1 };
        assert_eq!(after_change(&scope(2), Some(10), false, &s1, &s2, 200), 200);
        assert_eq!(after_change(&scope(5), Some(5), false, &s1, &s2, 200), 5);
        assert!(visible(&scope(1), &s2).is_empty());
        // A base change moves every view; the clock behind the previous instant still moves it.
        assert_eq!(after_change(&scope(5), Some(5), true, &s1, &s1, 3), 6);
    }

    #[test]
    fn instants_never_go_backwards() {
        assert_eq!(next_last_updated(50, Some(40), 100), 50);
        assert_eq!(next_last_updated(30, Some(40), 100), 100);
        assert_eq!(next_last_updated(30, Some(400), 100), 401);
        assert_eq!(next_last_updated(30, None, 100), 30);
        assert_eq!(next_last_updated(0, Some(i64::MAX), 1), i64::MAX);
    }

    #[test]
    fn view_instants_round_trip_through_their_row_form() {
        let views = [("all", 5_i64), ("s!=06", -3), ("s=01;a=01;hs", 1_733_000_000_000_000), ("none", 0)];
        let encoded = encode_instants(&views);
        assert_eq!(encoded, "5:all -3:s!=06 1733000000000000:s=01;a=01;hs 0:none");
        for (key, lu) in views {
            assert_eq!(instant_of(&encoded, key), Some(lu));
        }
        assert_eq!(instant_of(&encoded, "s=01"), None);
        assert_eq!(instant_of(&encoded, "hs"), None);
        assert_eq!(instant_of("", "all"), None);
        assert_eq!(instant_of("x:all", "all"), None);
    }
}
