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
//! This is exact only when "the places tagged v" are "the places of région v": no place holds the
//! code v as a tag other than its région. The import lists the codes held otherwise
//! (`search_tags_off_region`); the database layer checks the walked code there, in the page's
//! snapshot, before choosing this plan ([`region_code`]).

use super::conditions::codes_in;
use super::plan::SqlPlan;
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
    req.conditions.iter().find_map(|cond| match cond {
        Condition::Figure(tests) => Some(FigureWalk {
            region: region.clone(),
            status: required_code(tests, CapacityCode::Status)?,
            capacity_type: required_code(tests, CapacityCode::Type)?,
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

/// ` FROM capacities g JOIN locations r ON r.id = g.location_id`.
pub(super) fn from_figures(p: &mut SqlPlan) {
    p.push(" FROM capacities g JOIN locations r ON r.id = ");
    p.col("g", c::LOCATION_ID);
}

/// The walked figures: each place's first one of the région, status and type. A figure's région
/// is its place's (both written from the place's first tag of the région system), so the place
/// holds the walked tag, with or without that system.
pub(super) fn figure_rows(p: &mut SqlPlan, f: &FigureWalk) {
    let prefix = [c::REGION, c::CAPACITY_STATUS, c::CAPACITY_TYPE];
    for (col, value) in prefix.iter().zip([&f.region, &f.status, &f.capacity_type]) {
        p.col("g", *col);
        p.push(" = ");
        p.text(value.as_str());
        p.push(" AND ");
    }
    p.push("NOT EXISTS (SELECT 1 FROM capacities g2 WHERE ");
    for col in prefix.iter().chain([&c::LOCATION_ID]) {
        p.col("g2", *col);
        p.push(" = ");
        p.col("g", *col);
        p.push(" AND ");
    }
    p.col("g2", c::SEQ);
    p.push(" < ");
    p.col("g", c::SEQ);
    p.push(")");
}
