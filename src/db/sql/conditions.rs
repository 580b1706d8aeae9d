//! One search condition as SQL: token, string, date and capacity predicates, and the semi-joins
//! on the id that most of them become.

use super::plan::{Junction, SqlPlan, any_of, balanced};
use super::scope::{Scope, figure_visible, region_filter, visible_offers};
use super::{Col, Drive, table};
use crate::db::ident::Ident;
use crate::db::ident::{capacities as c, healthcare_services as hs, location_views as lv, locations as l, text};
use crate::fhir::ResourceType;
use crate::fhir::codes::{CapacityCode, LOCATION_STATUS_SYSTEM};
use crate::search::date::DateCondition;
use crate::search::near::Near;
use crate::search::number::NumberCondition;
use crate::search::{Condition, FigureTest, FilterNode, StringField, StringMode, TokenValue, normalize};

pub(super) fn token_match(p: &mut SqlPlan, values: &[TokenValue]) {
    // Plain codes (any system) are grouped into one IN list; the rest are ORed.
    let plain: Vec<&String> = values.iter().filter(|v| v.system.is_none()).filter_map(|v| v.code.as_ref()).collect();
    let with_system: Vec<&TokenValue> = values.iter().filter(|v| v.system.is_some()).collect();
    let system_term = |p: &mut SqlPlan, v: &&TokenValue| {
        let system = v.system.clone().unwrap_or_default();
        match &v.code {
            Some(code) => {
                p.push("(t.code = ");
                p.text(code.as_str());
                p.push(" AND t.system = ");
                p.text(system);
                p.push(")");
            }
            None => {
                p.push("t.system = ");
                p.text(system);
            }
        }
    };
    p.push("(");
    match (plain.is_empty(), with_system.is_empty()) {
        (false, true) => {
            p.push("t.code IN ");
            p.text_list(plain);
        }
        (true, _) => any_of(p, &with_system, &system_term),
        (false, false) => {
            p.push("t.code IN ");
            p.text_list(plain);
            p.push(" OR ");
            any_of(p, &with_system, &system_term);
        }
    }
    p.push(")");
}

/// The ids of the resources of `resource_type` with a token of `param` among `values` (both names
/// are written as literals: the planner sees them, and they come from the code).
pub(super) fn token_subquery(p: &mut SqlPlan, resource_type: &'static str, param: &'static str, values: &[TokenValue]) {
    p.push("SELECT t.resource_id FROM search_tokens t WHERE ");
    token_rows(p, resource_type, param);
    p.push(" AND ");
    token_match(p, values);
}

/// `t.resource_type = '<type>' AND t.param = '<param>'`: the token rows of one parameter.
pub(super) fn token_rows(p: &mut SqlPlan, resource_type: &'static str, param: &'static str) {
    p.push("t.resource_type = ");
    p.literal(resource_type);
    p.push(" AND t.param = ");
    p.literal(param);
}

pub(super) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(super) fn date_condition(p: &mut SqlPlan, col: Col, c: &DateCondition) {
    match *c {
        DateCondition::Within { lower, upper } => {
            p.push("(");
            match (lower, upper) {
                (Some(lo), Some(hi)) => {
                    p.column(col);
                    p.push(" >= ");
                    p.int(lo);
                    p.push(" AND ");
                    p.column(col);
                    p.push(" < ");
                    p.int(hi);
                }
                (Some(lo), None) => {
                    p.column(col);
                    p.push(" >= ");
                    p.int(lo);
                }
                (None, Some(hi)) => {
                    p.column(col);
                    p.push(" < ");
                    p.int(hi);
                }
                (None, None) => p.push("1 = 1"),
            }
            p.push(")");
        }
        DateCondition::Outside { start, end } => {
            p.push("(");
            p.column(col);
            p.push(" < ");
            p.int(start);
            p.push(" OR ");
            p.column(col);
            p.push(" >= ");
            p.int(end);
            p.push(")");
        }
    }
}

pub(super) fn observation_code(p: &mut SqlPlan, values: &[TokenValue]) {
    let ty = CapacityCode::Type.system();
    let st = CapacityCode::Status.system();
    let term = |p: &mut SqlPlan, v: &TokenValue| match (v.system.as_deref(), &v.code) {
        (None, Some(code)) => {
            p.push("(r.capacity_type = ");
            p.text(code.as_str());
            p.push(" OR r.capacity_status = ");
            p.text(code.as_str());
            p.push(")");
        }
        (Some(s), Some(code)) if s == ty => {
            p.push("r.capacity_type = ");
            p.text(code.as_str());
        }
        (Some(s), Some(code)) if s == st => {
            p.push("r.capacity_status = ");
            p.text(code.as_str());
        }
        (Some(s), None) if s == ty || s == st => p.push("1 = 1"),
        _ => p.push("1 = 0"),
    };
    p.push("(");
    any_of(p, values, &term);
    p.push(")");
}

/// The codes of the token values that can match a code of `system` (no system given, or that one).
pub(super) fn codes_in(values: &[TokenValue], system: &str) -> Vec<String> {
    values.iter().filter(|v| v.system.as_deref().is_none_or(|s| s == system)).filter_map(|v| v.code.clone()).collect()
}

/// One condition; a semi-join on the id is written `id IN (<its subquery>)` (see [`subquery`]).
pub(super) fn condition(p: &mut SqlPlan, rt: ResourceType, c: &Condition, scope: &Scope, drive: Drive) {
    let t = table(rt);
    if let Some(sub) = subquery(rt, c, scope, drive) {
        p.col("r", t.id);
        p.push(" IN (");
        p.append(sub);
        p.push(")");
        return;
    }
    match c {
        Condition::Ids(ids) => {
            p.col("r", t.id);
            p.push(" IN ");
            p.text_list(ids);
        }
        Condition::LocationStatus(values) => {
            let codes = codes_in(values, LOCATION_STATUS_SYSTEM);
            if codes.is_empty() {
                p.push("1 = 0");
            } else {
                p.push("r.status IN ");
                p.text_list(&codes);
            }
        }
        Condition::Strings { field, mode, values } => strings(p, *field, *mode, values),
        Condition::LastUpdated(conds) => {
            // Places walked in the order of their view's instant (`Drive::View`): a range of that
            // index (otherwise a subquery).
            p.push("(");
            any_of(p, conds, &|p, d| date_condition(p, Col("lv", lv::LAST_UPDATED), d));
            p.push(")");
        }
        Condition::ServiceOrganization(ids) => {
            p.push("r.provided_by_id IN ");
            p.text_list(ids);
        }
        Condition::ObservationSubject(ids) => {
            p.push("r.location_id IN ");
            p.text_list(ids);
        }
        Condition::ObservationCode(values) => observation_code(p, values),
        Condition::LocationPartOf(ids) => {
            p.col("r", l::PART_OF_ID);
            p.push(" IN ");
            p.text_list(ids);
        }
        Condition::LocationOrganization(ids) => {
            p.col("r", l::MANAGING_ORG_ID);
            p.push(" IN ");
            p.text_list(ids);
        }
        Condition::Filter(node) => filter(p, rt, node, scope, drive),
        Condition::Figure(_)
        | Condition::Near(_)
        | Condition::Chain(_)
        | Condition::Tokens { .. }
        | Condition::HasServiceIdentifier(_)
        | Condition::HasServiceId(_)
        | Condition::ServiceLocation(_) => {}
    }
}

/// The `SELECT <id> …` of a condition that is a semi-join on the id (`id IN (SELECT …)`), or
/// `None` for the other conditions.
pub(super) fn subquery(rt: ResourceType, c: &Condition, scope: &Scope, drive: Drive) -> Option<SqlPlan> {
    let t = table(rt);
    let mut p = SqlPlan::default();
    match c {
        Condition::Tokens { param, values } => token_subquery(&mut p, rt.as_str(), param, values),
        Condition::LastUpdated(_) if drive == Drive::View => return None,
        Condition::LastUpdated(conds) => {
            // A semi-join on the (last_updated, id) index: the planner would otherwise walk the id
            // order of the whole table to avoid sorting a handful of recent rows. A place is matched
            // on the consumer's view of it.
            if rt == ResourceType::Location {
                p.push("SELECT lu.location_id FROM location_views lu WHERE lu.view = ");
                p.text(scope.capacity.view_key());
                p.push(" AND ");
            } else {
                p.push("SELECT ");
                p.col("lu", t.id);
                p.push(" FROM ");
                p.ident(t.name);
                p.push(" lu WHERE ");
            }
            any_of(&mut p, conds, &|p, d| date_condition(p, Col("lu", t.last_updated), d));
        }
        Condition::HasServiceIdentifier(values) => {
            p.push("SELECT hl.location_id FROM healthcare_service_locations hl WHERE hl.service_id IN (");
            token_subquery(&mut p, "HealthcareService", "identifier", values);
            p.push(")");
            visible_offers(&mut p, scope);
        }
        Condition::HasServiceId(ids) => {
            p.push("SELECT hl.location_id FROM healthcare_service_locations hl WHERE hl.service_id IN ");
            p.text_list(ids);
            visible_offers(&mut p, scope);
        }
        Condition::ServiceLocation(ids) => {
            p.push("SELECT hl.service_id FROM healthcare_service_locations hl WHERE hl.location_id IN ");
            p.text_list(ids);
        }
        Condition::Figure(tests) => figures(&mut p, tests, scope),
        Condition::Near(near) => near_places(&mut p, near),
        Condition::Chain(inner) => {
            // The offers with one place the consumer may see (its regions) that meets `inner`.
            p.push("SELECT hl.service_id FROM healthcare_service_locations hl WHERE hl.location_id IN (SELECT r.id FROM locations r WHERE ");
            condition(&mut p, ResourceType::Location, inner, scope, Drive::Table);
            region_filter(&mut p, ResourceType::Location, scope);
            p.push(")");
        }
        _ => return None,
    }
    Some(p)
}

/// `SELECT c.location_id …` of the places with one figure the consumer may see that passes all
/// `tests`.
pub(super) fn figures(p: &mut SqlPlan, tests: &[FigureTest], scope: &Scope) {
    p.push("SELECT c.location_id FROM capacities c WHERE ");
    figure_passes(p, "c", tests, scope, true);
}

/// `<each test> AND <figure alias is visible>` (its place's `sensitive` flag read when
/// `check_place`).
pub(super) fn figure_passes(
    p: &mut SqlPlan,
    alias: &'static str,
    tests: &[FigureTest],
    scope: &Scope,
    check_place: bool,
) {
    for t in tests {
        figure_test(p, alias, t);
        p.push(" AND ");
    }
    figure_visible(p, alias, &scope.capacity, check_place);
}

fn figure_column(field: CapacityCode) -> Ident {
    match field {
        CapacityCode::Status => c::CAPACITY_STATUS,
        CapacityCode::Type => c::CAPACITY_TYPE,
        CapacityCode::Temporality => c::TEMPORALITY,
        CapacityCode::Gender => c::GENDER,
        CapacityCode::ClosingType => c::CLOSING_TYPE,
        CapacityCode::AdditionalBedType => c::ADDITIONAL_BED_TYPE,
        CapacityCode::CrisisType => c::CRISIS_TYPE,
        CapacityCode::TemporaryAssignment => c::TEMPORARY_ASSIGNMENT,
        CapacityCode::SourceType => c::SOURCE_TYPE,
    }
}

/// One test on the figure aliased `alias` (a parenthesised boolean expression).
fn figure_test(p: &mut SqlPlan, alias: &'static str, t: &FigureTest) {
    match t {
        FigureTest::Code { field, values, negated } => {
            let col = figure_column(*field);
            let system = field.system();
            let codes = codes_in(values, system);
            // `system|`: any code of that system, that is any figure that has the sub-extension.
            let any = values.iter().any(|v| v.code.is_none() && v.system.as_deref() == Some(system));
            p.push(if *negated { "(" } else { "((" });
            if *negated {
                p.col(alias, col);
                p.push(" IS NULL OR NOT (");
            }
            match (codes.is_empty(), any) {
                (_, true) => {
                    p.col(alias, col);
                    p.push(" IS NOT NULL");
                }
                (true, false) => p.push("1 = 0"),
                (false, false) => {
                    p.col(alias, col);
                    p.push(" IN ");
                    p.text_list(&codes);
                }
            }
            p.push("))");
        }
        FigureTest::Count(conds) => {
            p.push("(");
            any_of(p, conds, &|p, n| number_condition(p, Col(alias, c::NB_CAPACITY), n));
            p.push(")");
        }
        FigureTest::Updated(conds) => {
            p.push("(");
            any_of(p, conds, &|p, d| date_condition(p, Col(alias, c::UPDATE_DATE_US), d));
            p.push(")");
        }
    }
}

pub(super) fn number_condition(p: &mut SqlPlan, col: Col, n: &NumberCondition) {
    // An inclusive integer range is the half-open range of a date condition one further.
    let after = |v: i64| v.checked_add(1);
    let range = match *n {
        NumberCondition::Within { min, max } => DateCondition::Within { lower: min, upper: max.and_then(after) },
        NumberCondition::Outside { min, max } => match after(max) {
            Some(end) => DateCondition::Outside { start: min, end },
            None => DateCondition::Within { lower: None, upper: Some(min) },
        },
    };
    date_condition(p, col, &range);
}

/// `SELECT lp.location_id …` of the places within `near`: a box through the (latitude,
/// longitude) index, then the exact great-circle test on the unit vectors.
fn near_places(p: &mut SqlPlan, near: &Near) {
    use crate::db::ident::location_positions as lp;
    let b = near.bounding_box();
    let [qx, qy, qz] = near.vector();
    p.push("SELECT lp.location_id FROM location_positions lp WHERE ");
    p.col("lp", lp::LATITUDE);
    p.push(" BETWEEN ");
    p.double(b.latitudes.0);
    p.push(" AND ");
    p.double(b.latitudes.1);
    p.push(" AND (");
    any_of(p, &b.longitudes, &|p, (west, east)| {
        p.push("(");
        p.col("lp", lp::LONGITUDE);
        p.push(" BETWEEN ");
        p.double(*west);
        p.push(" AND ");
        p.double(*east);
        p.push(")");
    });
    p.push(") AND ");
    p.col("lp", lp::X);
    p.push(" * ");
    p.double(qx);
    p.push(" + ");
    p.col("lp", lp::Y);
    p.push(" * ");
    p.double(qy);
    p.push(" + ");
    p.col("lp", lp::Z);
    p.push(" * ");
    p.double(qz);
    p.push(" >= ");
    p.double(near.min_dot());
}

/// A string parameter on `field`: one of `values` matches, as `mode` says.
fn strings(p: &mut SqlPlan, field: StringField, mode: StringMode, values: &[String]) {
    // The indexed column (normalised but for the postal code), and the exact one.
    let (col, exact) = match field {
        StringField::LocationName => (l::NAME_NORM, l::NAME),
        StringField::PostalCode => (l::POSTAL_CODE, l::POSTAL_CODE),
        StringField::City => (l::CITY_NORM, l::CITY),
        StringField::ServiceName => (hs::NAME_NORM, hs::NAME),
    };
    // Where `:contains` finds its ids by trigrams: the resource's id column and its text table.
    let (id, text) = match field {
        StringField::ServiceName => (hs::ID, text::SERVICES),
        _ => (l::ID, text::LOCATIONS),
    };
    let term = |p: &mut SqlPlan, v: &String| match mode {
        // `:exact` reads the index of the normalised column, then compares the original.
        StringMode::Exact if col != exact => {
            p.col("r", col);
            p.push(" = ");
            p.text(normalize(v));
            p.push(" AND ");
            p.col("r", exact);
            p.push(" = ");
            p.text(v.as_str());
        }
        StringMode::Exact => {
            p.col("r", col);
            p.push(" = ");
            p.text(v.as_str());
        }
        // A prefix is a range of the column's index, in code-point order (SQLite's BINARY, the
        // C collation on PostgreSQL): both sides are lower-cased, except a postal code, whose
        // letters keep `LIKE` (case-insensitive).
        StringMode::StartsWith => match prefix_end(v).filter(|_| field != StringField::PostalCode || !has_letters(v)) {
            Some(end) => {
                p.col("r", col);
                p.push(" >= ");
                p.text(v.as_str());
                p.push(" AND ");
                p.col("r", col);
                p.push(" < ");
                p.text(end);
            }
            None => like(p, col, &format!("{}%", escape_like(v))),
        },
        StringMode::Contains if trigram_indexed(v) => {
            p.col("r", id);
            p.push(" IN (SELECT x.");
            p.ident(id);
            p.push(" FROM ");
            p.ident(text);
            p.push(" x WHERE ");
            p.col("x", col);
            p.push(" LIKE ");
            p.text(format!("%{v}%"));
            p.push(")");
        }
        StringMode::Contains => like(p, col, &format!("%{}%", escape_like(v))),
    };
    p.push("(");
    any_of(p, values, &term);
    p.push(")");
}

/// Whether a `:contains` value is found through the trigram index: it has three characters or
/// more (a trigram), and none that `LIKE` reads as a wildcard or an escape (SQLite's FTS5 tables
/// use their index for `LIKE` without an `ESCAPE` clause only). Other values are compared with
/// every row's column.
pub(super) fn trigram_indexed(v: &str) -> bool {
    v.chars().count() >= 3 && !v.contains(['%', '_', '\\'])
}

/// `r.<col> LIKE <pattern>` (backslash escapes).
fn like(p: &mut SqlPlan, col: Ident, pattern: &str) {
    p.col("r", col);
    p.push(" LIKE ");
    p.text(pattern);
    p.push(" ESCAPE '\\'");
}

/// The least string above every string that starts with `prefix` (its last character that has a
/// successor, incremented, the rest dropped), or `None` when there is none (or no prefix).
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn has_letters(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A `_filter` expression. `not` is `NOT COALESCE(…, FALSE)`: a test on an absent value is false,
/// so its negation holds (FHIR: `ne` matches a resource without the value).
fn filter(p: &mut SqlPlan, rt: ResourceType, node: &FilterNode, scope: &Scope, drive: Drive) {
    let nested = |p: &mut SqlPlan, n: &FilterNode| filter(p, rt, n, scope, drive);
    match node {
        FilterNode::And(items) => {
            let items: Vec<&FilterNode> = items.iter().collect();
            p.push("(");
            balanced(p, &items, Junction::And, &nested);
            p.push(")");
        }
        FilterNode::Or(items) => {
            // Semi-joins ORed are one semi-join on their union: PostgreSQL would test each as a
            // hashed subplan, reading all of its rows (a scan of the figures) for any page.
            let leaf = |n: &FilterNode| match n {
                FilterNode::Leaf(c) => subquery(rt, c, scope, drive),
                _ => None,
            };
            if let Some(subs) = items.iter().map(leaf).collect::<Option<Vec<SqlPlan>>>() {
                p.col("r", table(rt).id);
                p.push(" IN (");
                for (i, s) in subs.into_iter().enumerate() {
                    if i > 0 {
                        p.push(" UNION ");
                    }
                    p.append(s);
                }
                p.push(")");
                return;
            }
            let items: Vec<&FilterNode> = items.iter().collect();
            p.push("(");
            balanced(p, &items, Junction::Or, &nested);
            p.push(")");
        }
        FilterNode::Not(inner) => {
            p.push("NOT COALESCE((");
            filter(p, rt, inner, scope, drive);
            p.push("), FALSE)");
        }
        FilterNode::Leaf(c) => {
            p.push("(");
            condition(p, rt, c, scope, drive);
            p.push(")");
        }
    }
}

/// A capacity or chained condition written as a correlated `EXISTS` on the row `r`, for searches
/// that another condition drives (a token, an id list, `near`…): each candidate is probed on the
/// primary keys instead of materialising every matching figure of France first. Other
/// conditions as [`condition`] writes them.
pub(super) fn correlated(p: &mut SqlPlan, rt: ResourceType, c: &Condition, scope: &Scope, drive: Drive) {
    match c {
        Condition::Figure(tests) => figure_exists(p, tests, scope),
        Condition::Chain(inner) => {
            // The inner `r` is the place; `hl` correlates it with the offer `r` outside.
            p.push(
                "EXISTS (SELECT 1 FROM healthcare_service_locations hl WHERE hl.service_id = r.id AND EXISTS \
                 (SELECT 1 FROM locations r WHERE r.id = hl.location_id AND ",
            );
            match &**inner {
                Condition::Figure(tests) => figure_exists(p, tests, scope),
                other => condition(p, ResourceType::Location, other, scope, Drive::Table),
            }
            region_filter(p, ResourceType::Location, scope);
            p.push("))");
        }
        _ => condition(p, rt, c, scope, drive),
    }
}

/// Place `r` has a figure the consumer may see that passes all `tests` (a place linked to a
/// sensitive unit, by its own flag, shows none to a scope that hides them).
fn figure_exists(p: &mut SqlPlan, tests: &[FigureTest], scope: &Scope) {
    let cap = &scope.capacity;
    p.push("(");
    if cap.hide_sensitive {
        p.push("r.sensitive = FALSE AND ");
    }
    p.push("EXISTS (SELECT 1 FROM capacities c WHERE c.location_id = r.id AND ");
    figure_passes(p, "c", tests, scope, false);
    p.push("))");
}
