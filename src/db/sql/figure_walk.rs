//! Places of one région with capacity criteria, read along the figures' région.
//!
//! A regulator's query (`_tag=<région>&capacity-type=02&capacity-status=02&nb-capacity=gt0`) walked
//! along the région's `_tag` rows probes the figures of every place of the région in id order until
//! the page is full: 2,200 to 2,800 places for a page of 200 places of type 02 on the France set, each
//! probe a descent of the figures' index. Every figure carries its place's région, and
//! `capacities_region_walk` (région, status, type, place, seq) lists the figures of one région,
//! status and type in place order: the page reads those places instead, each once (its first such
//! figure), and probes only them for the rest of the criteria.
//!
//! When every test of the figure condition reads a column the walk's index holds (status, type,
//! temporality, temporary assignment, `nb-capacity`), the tests are made on the walked figure
//! itself ([`FigureWalk::folded_at`]): a place is read at its first figure that passes them, and
//! no figure of another index is probed. The place is joined on its région and id
//! (`locations_region_id`), so that a page's places are read along one stretch of that index
//! rather than one descent per place through the id's.
//!
//! This is exact only when "the places tagged v" are "the places of région v": no place holds the
//! code v as a tag other than its région. The import lists the codes held otherwise
//! (`search_tags_off_region`); the database layer checks the walked code there, in the page's
//! snapshot, before choosing this plan ([`region_code`]).

use super::conditions::{codes_in, figure_passes};
use super::plan::SqlPlan;
use super::scope::Scope;
use super::walk::TokenWalk;
use crate::db::ident::capacities as c;
use crate::fhir::ResourceType;
use crate::fhir::codes::{CapacityCode, REGION_SYSTEM};
use crate::search::{Condition, FigureTest, SearchRequest};

/// The région, status and type a page is read along.
#[derive(Debug, Clone)]
pub(super) struct FigureWalk {
    region: String,
    status: String,
    capacity_type: String,
    /// The figure condition tested on the walked figure itself: its position among the
    /// request's conditions, and its tests.
    folded: Option<(usize, Vec<FigureTest>)>,
}

impl FigureWalk {
    /// The position of the condition the walk tests itself (the WHERE clause leaves it out).
    pub(super) fn folded_at(&self) -> Option<usize> {
        self.folded.as_ref().map(|(at, _)| *at)
    }
}

/// Whether the walk's index (`capacities_region_walk`) holds every column test `t` reads.
fn read_by_the_walk(t: &FigureTest) -> bool {
    match t {
        FigureTest::Code { field, .. } => matches!(
            field,
            CapacityCode::Status | CapacityCode::Type | CapacityCode::Temporality | CapacityCode::TemporaryAssignment
        ),
        FigureTest::Count(_) => true,
        FigureTest::Updated(_) => false,
    }
}

/// The one code every matching figure has in `field`, when some test of `tests` requires it.
fn required_code(tests: &[FigureTest], field: CapacityCode) -> Option<String> {
    tests.iter().find_map(|t| match t {
        FigureTest::Code { field: f, values, negated: false } if *f == field => {
            let any = values.iter().any(|v| v.code.is_none());
            match codes_in(values, field.system()).as_slice() {
                [one] if !any => Some(one.clone()),
                _ => None,
            }
        }
        _ => None,
    })
}

/// The walk of a Location page walked along `walk`, when its `_tag` (without a system, or of the
/// région system) comes with a figure condition that names one status and one type.
pub(super) fn figure_walk(req: &SearchRequest, walk: &TokenWalk<'_>) -> Option<FigureWalk> {
    if req.resource != ResourceType::Location || walk.param() != "_tag" {
        return None;
    }
    let value = walk.value();
    if value.system.as_deref().is_some_and(|s| s != REGION_SYSTEM) {
        return None;
    }
    let region = value.code.clone()?;
    req.conditions.iter().enumerate().find_map(|(at, cond)| match cond {
        Condition::Figure(tests) => Some(FigureWalk {
            region: region.clone(),
            status: required_code(tests, CapacityCode::Status)?,
            capacity_type: required_code(tests, CapacityCode::Type)?,
            folded: tests.iter().all(read_by_the_walk).then(|| (at, tests.clone())),
        }),
        _ => None,
    })
}

/// The `_tag` code whose absence from `search_tags_off_region` lets a page of `req` be read along
/// its figures (`None`: such a page is never read so).
pub fn region_code(req: &SearchRequest) -> Option<String> {
    let walk = super::walk_of(req)?;
    figure_walk(req, &walk).map(|f| f.region)
}

/// ` FROM capacities g JOIN locations r ON r.region = g.region AND r.id = g.location_id` (a
/// figure's région is its place's).
pub(super) fn from_figures(p: &mut SqlPlan) {
    p.push(" FROM capacities g JOIN locations r ON r.region = ");
    p.col("g", c::REGION);
    p.push(" AND r.id = ");
    p.col("g", c::LOCATION_ID);
}

/// The walked figures: each place's first one of the région, status and type (that passes the
/// folded tests, and that the consumer may see, when the condition is folded), known as such
/// without a probe when it is the place's first of that status and type (`first_of_kind`). A figure's région
/// is its place's (both written from the place's first tag of the région system), so the place
/// holds the walked tag, with or without that system.
pub(super) fn figure_rows(p: &mut SqlPlan, f: &FigureWalk, scope: &Scope) {
    let prefix = [c::REGION, c::CAPACITY_STATUS, c::CAPACITY_TYPE];
    for (col, value) in prefix.iter().zip([&f.region, &f.status, &f.capacity_type]) {
        p.col("g", *col);
        p.push(" = ");
        p.text(value.as_str());
        p.push(" AND ");
    }
    if let Some((_, tests)) = &f.folded {
        figure_passes(p, "g", tests, scope, false);
        p.push(" AND ");
    }
    // A place's first figure of this status and type has no earlier one: the probe for an
    // earlier figure that passes too is made only for the others.
    p.push("(");
    p.col("g", c::FIRST_OF_KIND);
    p.push(" OR NOT EXISTS (SELECT 1 FROM capacities g2 WHERE ");
    for col in prefix.iter().chain([&c::LOCATION_ID]) {
        p.col("g2", *col);
        p.push(" = ");
        p.col("g", *col);
        p.push(" AND ");
    }
    p.col("g2", c::SEQ);
    p.push(" < ");
    p.col("g", c::SEQ);
    if let Some((_, tests)) = &f.folded {
        p.push(" AND ");
        figure_passes(p, "g2", tests, scope, false);
    }
    p.push("))");
    if f.folded.is_some() && scope.capacity.hide_sensitive {
        // The probe this replaces tested the place's own flag (`conditions::figure_exists`).
        p.push(" AND r.sensitive = FALSE");
    }
}
