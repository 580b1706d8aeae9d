//! Translation of a [`SearchRequest`] into statements made of typed pieces ([`SqlPlan`]: static
//! text, identifiers of `db::ident`, bound values).
//!
//! Pure: the database layer sends the text and binds the values. Every user value is a bind,
//! never SQL text (the pieces' types allow nothing else). Plans are index-driven: id lists and token lists become
//! `IN (…)`, `_has` a semi-join on the offer↔place link table, paging a keyset on (sort key, id).

use crate::config::database::Backend;
use crate::fhir::ResourceType;
use crate::search::cursor::CursorKey;
use crate::search::near::Near;
use crate::search::{Condition, FigureTest, SearchRequest, SortKey, StringMode};

mod conditions;
mod figure_walk;
pub mod lookup;
mod plan;
mod scope;
mod walk;

pub use figure_walk::region_code;
pub use plan::{Bind, SqlPlan, limit_bucket, list_bucket};

use crate::db::ident::Ident;
pub use scope::Scope;

use conditions::{condition, correlated, subquery};
use figure_walk::{FigureWalk, figure_rows, figure_walk, from_figures};
use plan::{Junction, balanced, limit_clause};
use scope::{SENSITIVE_LINKS, capacity_visible, observation_filter, region_filter};
use walk::{TokenWalk, from_tokens, token_walk, walked_once, walked_rows};

/// What a page's plan may rely on besides the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planning {
    /// The database that runs it.
    pub backend: Backend,
    /// The request's `_tag` code ([`region_code`]) is held by no place other than as its région
    /// (read in the page's snapshot): the page may be read along its figures' région.
    pub region_exact: bool,
}

impl Planning {
    /// Plans for `backend` that rely on no fact of the data.
    pub fn for_backend(backend: Backend) -> Self {
        Self { backend, region_exact: false }
    }
}

/// Where a page's rows are read from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    /// The type's table (or the consumer's view of places).
    Table,
    /// The rows of a token ([`walk`]).
    Tokens(&'a TokenWalk<'a>),
    /// The figures of a région ([`figure_walk`]), for the token walk it replaces.
    Figures(&'a TokenWalk<'a>, &'a FigureWalk),
}

impl<'a> Source<'a> {
    /// The token walk the rows follow or replace.
    fn walk(self) -> Option<&'a TokenWalk<'a>> {
        match self {
            Self::Table => None,
            Self::Tokens(w) | Self::Figures(w, _) => Some(w),
        }
    }
}

#[cfg(test)]
mod tests;

/// Table facts of a searchable type. Observations are the rows of `capacities`.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Table name.
    pub name: Ident,
    /// Id column.
    pub id: Ident,
    /// JSON column (`None`: Observations, rendered when read from their figure's facts).
    pub json: Option<Ident>,
    /// The column of the row's `meta.lastUpdated`.
    pub last_updated: Ident,
}

/// The table behind a resource type.
pub fn table(rt: ResourceType) -> Table {
    use crate::db::ident::{capacities as c, healthcare_services as hs, locations as l, organizations as o};
    match rt {
        ResourceType::Location => {
            Table { name: l::TABLE, id: l::ID, json: Some(l::JSON_HEAD), last_updated: l::LAST_UPDATED }
        }
        ResourceType::HealthcareService => {
            Table { name: hs::TABLE, id: hs::ID, json: Some(hs::RESOURCE_JSON), last_updated: hs::LAST_UPDATED }
        }
        ResourceType::Organization => {
            Table { name: o::TABLE, id: o::ID, json: Some(o::RESOURCE_JSON), last_updated: o::LAST_UPDATED }
        }
        ResourceType::Observation => {
            Table { name: c::TABLE, id: c::OBSERVATION_ID, json: None, last_updated: c::LAST_UPDATED }
        }
    }
}

/// A column of a table under an alias of the statement (`r.id`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col(&'static str, Ident);

impl SqlPlan {
    fn column(&mut self, c: Col) {
        self.col(c.0, c.1);
    }
}

/// How a query reaches its rows (and, for Locations, the instant of the consumer's view of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drive {
    /// From the type's own table, in id order; a place's view instant is looked up per row on the
    /// primary key of `location_views`.
    Table,
    /// Locations sorted by `_lastUpdated`: from the consumer's view of the places (`lv`), in the
    /// order of its (view, last_updated, location_id) index.
    View,
}

impl Drive {
    fn of(req: &SearchRequest) -> Self {
        if req.resource == ResourceType::Location && req.sort.key == SortKey::LastUpdated {
            Self::View
        } else {
            Self::Table
        }
    }

    /// The instant and id columns paging follows.
    fn columns(self, rt: ResourceType) -> (Col, Col) {
        use crate::db::ident::location_views as lv;
        match self {
            Self::View => (Col("lv", lv::LAST_UPDATED), Col("lv", lv::LOCATION_ID)),
            Self::Table => (Col("r", table(rt).last_updated), Col("r", table(rt).id)),
        }
    }
}

/// The select list: id, last_updated, json and, for Locations, the parts around their figures and
/// what gives the instant of the consumer's view of each: `lv.last_updated` when the page walks
/// `location_views`, else the place's view instants kept on its row (`views`), from which
/// `db::read` picks the consumer's (a place without its view there, which the start-up upgrade
/// prevents, falls back to its own instant).
///
/// The columns come in the order of [`crate::db::rows::ResourceRow`]'s fields, which reads them
/// by position ([`crate::db::read::resources`]); their names are for the statements that select
/// them again by name ([`lookup`]).
///
/// `source`: where the rows are read from (see [`walk`], [`figure_walk`]).
fn select_list(
    p: &mut SqlPlan,
    rt: ResourceType,
    scope: &Scope,
    drive: Drive,
    near: Option<&Near>,
    source: Source<'_>,
) {
    let t = table(rt);
    if rt != ResourceType::Location {
        p.push("SELECT ");
        p.col("r", t.id);
        p.push(" AS id, ");
        p.col("r", t.last_updated);
        p.push(" AS last_updated, ");
        match t.json {
            Some(json) => p.col("r", json),
            None => observation_facts(p),
        }
        p.push(
            " AS json, '' AS tail, \
             CAST(0 AS BIGINT) AS cut_head, CAST(0 AS BIGINT) AS cut_tail, CAST(NULL AS BYTEA) AS figures, \
             CAST(NULL AS TEXT) AS statuses, CAST(NULL AS TEXT) AS assignments, CAST(NULL AS BIGINT) AS lu_at, \
             CAST(NULL AS TEXT) AS views, FALSE AS sensitive, CAST(NULL AS DOUBLE PRECISION) AS score",
        );
        from_table(p, rt, source);
        return;
    }
    p.push(if drive == Drive::View {
        "SELECT r.id AS id, lv.last_updated AS last_updated, "
    } else {
        "SELECT r.id AS id, r.last_updated AS last_updated, "
    });
    p.push(
        "r.json_head AS json, r.json_tail AS tail, \
         r.empty_head_len AS cut_head, r.empty_tail_skip AS cut_tail, r.figures_lz4 AS figures, \
         r.figure_statuses AS statuses, r.figure_assignments AS assignments, r.lu_at AS lu_at, ",
    );
    p.push(if drive == Drive::View { "CAST(NULL AS TEXT) AS views, " } else { "r.view_instants AS views, " });
    p.push("r.sensitive AS sensitive, ");
    if let Some(near) = near {
        dot(p, near);
        p.push(" AS score FROM locations r JOIN location_positions lp ON lp.location_id = r.id");
        return;
    }
    p.push("CAST(NULL AS DOUBLE PRECISION) AS score");
    if drive == Drive::View {
        p.push(" FROM location_views lv JOIN locations r ON r.id = lv.location_id AND lv.view = ");
        p.text(scope.capacity.view_key());
    } else {
        from_table(p, rt, source);
    }
}

/// ` FROM <table> r`, or joined to the token rows or figures it is walked along.
fn from_table(p: &mut SqlPlan, rt: ResourceType, source: Source<'_>) {
    match source {
        Source::Tokens(_) => from_tokens(p, rt),
        Source::Figures(..) => from_figures(p),
        Source::Table => {
            p.push(" FROM ");
            p.ident(table(rt).name);
            p.push(" r");
        }
    }
}

/// The facts an Observation is rendered from, as one text (`fhir::figures::Facts::decode`): the
/// codes are checked against their lists at import, the place's id and the date against their
/// syntax, so none holds a `|`; the région, which may, comes last.
fn observation_facts(p: &mut SqlPlan) {
    p.push(
        "r.location_id || '|' || r.capacity_type || '|' || r.capacity_status || '|' || r.temporality || '|' \
         || COALESCE('=' || r.gender, '') || '|' || CAST(r.nb_capacity AS TEXT) || '|' || r.update_date || '|' \
         || COALESCE('=' || r.region, '')",
    );
}

/// One resource by id, within `scope`.
pub fn read(rt: ResourceType, id: &str, scope: &Scope) -> SqlPlan {
    let t = table(rt);
    let mut p = SqlPlan::default();
    select_list(&mut p, rt, scope, Drive::Table, None, Source::Table);
    p.push(" WHERE ");
    p.col("r", t.id);
    p.push(" = ");
    p.text(id);
    region_filter(&mut p, rt, scope);
    observation_filter(&mut p, rt, scope);
    p
}

/// Which figures of Locations are visible (their places and positions, from 1), in document order.
pub fn visible_figures(ids: &[String], scope: &Scope) -> SqlPlan {
    let mut p = SqlPlan::new(
        "SELECT c.location_id AS location_id, CAST(c.seq AS BIGINT) AS seq FROM capacities c WHERE c.location_id IN ",
    );
    p.text_list(ids);
    p.push(" AND ");
    capacity_visible(&mut p, "c", &scope.capacity);
    p.push(" ORDER BY c.location_id, c.seq");
    p
}

/// Every place linked to a sensitive unit (few: the import keeps them in memory).
pub fn all_sensitive_places() -> SqlPlan {
    let mut p = SqlPlan::new("SELECT DISTINCT shl.location_id AS v FROM ");
    p.push(SENSITIVE_LINKS);
    p
}

/// Which of the places `ids` are linked to a sensitive unit (their figures are hidden from
/// consumers whose scope hides sensitive units).
pub fn sensitive_places(ids: &[String]) -> SqlPlan {
    let mut p = SqlPlan::new("SELECT DISTINCT shl.location_id AS v FROM ");
    p.push(SENSITIVE_LINKS);
    p.push(" AND shl.location_id IN ");
    p.text_list(ids);
    p
}

/// Most semi-joins on the id a search is written with; past this, they are intersected instead.
/// Up to here PostgreSQL plans them as joins in a few milliseconds and may drive the search from
/// the most selective one; 6 took 400 ms to plan, 100 a minute.
const MAX_SEMI_JOINS: usize = 4;

/// Most subqueries joined in one `INTERSECT` (SQLite accepts up to 500 terms in a compound SELECT).
const MAX_INTERSECTED: usize = 64;

/// One ANDed term of a WHERE clause.
enum Term<'a> {
    /// A condition on its own.
    One(&'a Condition),
    /// A capacity or chained condition probed per candidate row (`EXISTS`).
    Probed(&'a Condition),
    /// `id IN (<subquery> INTERSECT <subquery> …)`.
    Intersect(&'a [SqlPlan]),
}

/// The conditions, ANDed. When a search has more than [`MAX_SEMI_JOINS`] semi-joins on the id
/// (repeated `identifier`, `_lastUpdated`, `_has`, `location`…), they are written as one
/// `id IN (… INTERSECT …)`: PostgreSQL plans each semi-join as a join, and its planning time
/// explodes with their number (100 repeated `_lastUpdated` took a minute to plan, 100 `location`
/// 8 s; intersected, 20 ms).
///
/// Walked (`source`), the rows are those of the walked token or figures (the walked condition is
/// not repeated).
fn where_clause(p: &mut SqlPlan, req: &SearchRequest, scope: &Scope, drive: Drive, source: Source<'_>) {
    p.push(" WHERE ");
    let rt = req.resource;
    match source {
        Source::Table => {}
        Source::Tokens(w) => {
            walked_rows(p, rt, w);
            p.push(" AND ");
        }
        Source::Figures(_, f) => {
            figure_rows(p, f, scope);
            p.push(" AND ");
        }
    }
    let walk = source.walk();
    let folded = match source {
        Source::Figures(_, f) => f.folded_at(),
        _ => None,
    };
    let walked = |i: usize| walk.is_some_and(|w| w.at == i) || folded == Some(i);
    let conditions: Vec<&Condition> =
        req.conditions.iter().enumerate().filter(|(i, _)| !walked(*i)).map(|(_, c)| c).collect();
    // Capacity and chained conditions are probed per candidate when another condition (or the
    // `_lastUpdated` walk) drives the search; on their own, they drive it from their indexes.
    let driven = drive == Drive::View || req.conditions.iter().any(drives);
    let probed = |c: &Condition| (driven && matches!(c, Condition::Figure(_) | Condition::Chain(_))) || negation(c);
    let term = |c| if probed(c) { Term::Probed(c) } else { Term::One(c) };
    let mut subqueries = Vec::new();
    let mut others = Vec::new();
    for &c in &conditions {
        match subquery(rt, c, scope, drive).filter(|_| !probed(c)) {
            Some(s) => subqueries.push(s),
            None => others.push(term(c)),
        }
    }
    let terms: Vec<Term<'_>> = if subqueries.len() <= MAX_SEMI_JOINS {
        conditions.iter().map(|&c| term(c)).collect()
    } else {
        others.into_iter().chain(subqueries.chunks(MAX_INTERSECTED).map(Term::Intersect)).collect()
    };
    let terms: Vec<&Term<'_>> = terms.iter().collect();
    let id = table(rt).id;
    balanced(p, &terms, Junction::And, &|p, term| match term {
        Term::One(c) => condition(p, rt, c, scope, drive),
        Term::Probed(c) => correlated(p, rt, c, scope, drive),
        Term::Intersect(subs) => {
            p.col("r", id);
            p.push(" IN (");
            for (i, s) in subs.iter().enumerate() {
                if i > 0 {
                    p.push(" INTERSECT ");
                }
                p.append(s.clone());
            }
            p.push(")");
        }
    });
    region_filter(p, rt, scope);
    observation_filter(p, rt, scope);
}

/// Whether condition `c` selects few rows through an index of its own (so that the search can
/// start from it and probe the others).
fn drives(c: &Condition) -> bool {
    matches!(
        c,
        Condition::Ids(_)
            | Condition::Tokens { .. }
            | Condition::HasServiceIdentifier(_)
            | Condition::HasServiceId(_)
            | Condition::ServiceLocation(_)
            | Condition::ServiceOrganization(_)
            | Condition::ObservationSubject(_)
            | Condition::LocationPartOf(_)
            | Condition::LocationOrganization(_)
            | Condition::Near(_)
    ) || matches!(c, Condition::Strings { mode, values, .. }
        if *mode != StringMode::Contains || values.iter().all(|v| conditions::trigram_indexed(v)))
}

/// Whether `c` is a figure condition made of `:not` tests only: it matches nearly every place, so
/// the places are walked in the page's order and each one probed (the page stops early), rather
/// than every figure of France read first.
fn negation(c: &Condition) -> bool {
    matches!(c, Condition::Figure(tests) if tests.iter().all(|t| matches!(t, FigureTest::Code { negated: true, .. })))
}

/// `SELECT COUNT(*) AS n` of the matches.
pub fn count(req: &SearchRequest, scope: &Scope) -> SqlPlan {
    // Counted, the ids of a token are gathered first either way: walking its rows instead checks
    // each one for a duplicate, which costs more than the gathering (a région's count at 120k
    // places: 29-44 ms against 16-27 ms).
    let mut p = SqlPlan::new("SELECT COUNT(*) AS n");
    from_table(&mut p, req.resource, Source::Table);
    where_clause(&mut p, req, scope, Drive::Table, Source::Table);
    p
}

/// The `near` of a page of places sorted by distance.
fn near_sort(req: &SearchRequest) -> Option<&Near> {
    req.near().filter(|_| req.sort.key == SortKey::Near && req.resource == ResourceType::Location)
}

/// The token a page of `req` is walked along, if any.
fn walk_of(req: &SearchRequest) -> Option<TokenWalk<'_>> {
    token_walk(req, Drive::of(req)).filter(|_| near_sort(req).is_none())
}

/// One page: rows after `after` in the requested order, at most `limit` of them, as the backend
/// of `how` plans it best (the statements differ only where their planners do: see [`walk`]).
pub fn page(req: &SearchRequest, scope: &Scope, after: Option<&CursorKey>, limit: usize, how: Planning) -> SqlPlan {
    let drive = Drive::of(req);
    let near = near_sort(req);
    let walk = walk_of(req);
    let figures = walk.as_ref().and_then(|w| figure_walk(req, w)).filter(|_| how.region_exact);
    let source = match (&walk, &figures) {
        (Some(w), Some(f)) => Source::Figures(w, f),
        (Some(w), None) => Source::Tokens(w),
        (None, _) => Source::Table,
    };
    let (lu_col, id) = drive.columns(req.resource);
    // Walked, the page follows the order of the token rows or figures.
    let id = match source {
        Source::Table => id,
        Source::Tokens(_) => Col("t", crate::db::ident::search_tokens::RESOURCE_ID),
        Source::Figures(..) => Col("g", crate::db::ident::capacities::LOCATION_ID),
    };
    let mut p = SqlPlan::default();
    select_list(&mut p, req.resource, scope, drive, near, source);
    where_clause(&mut p, req, scope, drive, source);
    if let Source::Tokens(w) = source {
        walked_once(&mut p, req.resource, w, how.backend);
    }
    let (cmp, dir) = if req.sort.descending { (" < ", " DESC") } else { (" > ", " ASC") };
    if let Some(after) = after {
        match (req.sort.key, after.last_updated, after.score_bits, near) {
            (SortKey::LastUpdated, Some(lu), _, _) => {
                p.push(" AND (");
                p.column(lu_col);
                p.push(cmp);
                p.int(lu);
                p.push(" OR (");
                p.column(lu_col);
                p.push(" = ");
                p.int(lu);
                p.push(" AND ");
                p.column(id);
                p.push(cmp);
                p.text(after.id.as_str());
                p.push("))");
            }
            // Nearest first: a smaller dot product is farther.
            (SortKey::Near, _, Some(bits), Some(near)) => {
                p.push(" AND (");
                dot(&mut p, near);
                p.push(" < ");
                p.double(f64::from_bits(bits));
                p.push(" OR (");
                dot(&mut p, near);
                p.push(" = ");
                p.double(f64::from_bits(bits));
                p.push(" AND r.id > ");
                p.text(after.id.as_str());
                p.push("))");
            }
            _ => {
                p.push(" AND ");
                p.column(id);
                p.push(cmp);
                p.text(after.id.as_str());
            }
        }
    }
    p.push(" ORDER BY ");
    if req.sort.key == SortKey::LastUpdated {
        p.column(lu_col);
        p.push(dir);
        p.push(", ");
    }
    if let Some(near) = near {
        dot(&mut p, near);
        p.push(" DESC, ");
    }
    p.column(id);
    p.push(dir);
    limit_clause(&mut p, limit);
    p
}

/// The dot product of a place's unit vector (`lp`) with the centre of `near`: the cosine of the
/// angle between them, larger when nearer.
fn dot(p: &mut SqlPlan, near: &Near) {
    let [x, y, z] = near.vector();
    p.push("(lp.x * ");
    p.double(x);
    p.push(" + lp.y * ");
    p.double(y);
    p.push(" + lp.z * ");
    p.double(z);
    p.push(")");
}

/// The resources of `target` linked through HealthcareService.location to any of `ids` (the other
/// side of the link): offers of places for `_revinclude`, places of offers for `_include`.
fn linked(target: ResourceType, ids: &[String], scope: &Scope, limit: usize) -> SqlPlan {
    linked_to(target, Some(ids), scope, limit)
}

/// The resources of `target` linked to `ids`, or (`None`) to the rows of a `page` common table
/// expression of the same statement ([`lookup::page_with_services`]).
fn linked_to(target: ResourceType, ids: Option<&[String]>, scope: &Scope, limit: usize) -> SqlPlan {
    use crate::db::ident::healthcare_service_locations as hl;
    let (wanted, given) = match target {
        ResourceType::Location => (hl::LOCATION_ID, hl::SERVICE_ID),
        _ => (hl::SERVICE_ID, hl::LOCATION_ID),
    };
    let mut p = SqlPlan::default();
    select_list(&mut p, target, scope, Drive::Table, None, Source::Table);
    p.push(" WHERE r.id IN (SELECT ");
    p.col("hl", wanted);
    p.push(" FROM healthcare_service_locations hl WHERE ");
    p.col("hl", given);
    p.push(" IN ");
    match ids {
        Some(ids) => p.text_list(ids),
        None => p.push("(SELECT page.id FROM page)"),
    }
    p.push(")");
    region_filter(&mut p, target, scope);
    p.push(" ORDER BY r.id");
    limit_clause(&mut p, limit);
    p
}

/// The HealthcareServices that reference any of `location_ids` (`_revinclude`).
pub fn services_of_locations(location_ids: &[String], scope: &Scope, limit: usize) -> SqlPlan {
    linked(ResourceType::HealthcareService, location_ids, scope, limit)
}

/// The Locations referenced by any of `service_ids` (`_include`).
pub fn locations_of_services(service_ids: &[String], scope: &Scope, limit: usize) -> SqlPlan {
    linked(ResourceType::Location, service_ids, scope, limit)
}

/// The Organizations referenced by the resources `ids` of `rt` (`_include=Location:organization`,
/// the managing organization; `_include=HealthcareService:organization`, `providedBy`).
pub fn organizations_of(rt: ResourceType, ids: &[String], scope: &Scope, limit: usize) -> SqlPlan {
    use crate::db::ident::{healthcare_services as hs, locations as l};
    let (source, column) = match rt {
        ResourceType::Location => (l::TABLE, l::MANAGING_ORG_ID),
        _ => (hs::TABLE, hs::PROVIDED_BY_ID),
    };
    let mut p = SqlPlan::default();
    select_list(&mut p, ResourceType::Organization, scope, Drive::Table, None, Source::Table);
    p.push(" WHERE r.id IN (SELECT ");
    p.col("x", column);
    p.push(" FROM ");
    p.ident(source);
    p.push(" x WHERE x.id IN ");
    p.text_list(ids);
    p.push(")");
    region_filter(&mut p, ResourceType::Organization, scope);
    p.push(" ORDER BY r.id");
    limit_clause(&mut p, limit);
    p
}
