//! Translation of a [`SearchRequest`] into SQL text with `?` placeholders and a list of binds.
//!
//! Pure: the database layer renumbers placeholders for PostgreSQL and binds the values. Every
//! user value is a bind, never SQL text. Plans are index-driven: id lists and token lists become
//! `IN (…)`, `_has` a semi-join on the offer↔place link table, paging a keyset on (sort key, id).

use super::cursor::CursorKey;
use super::date::DateCondition;
use super::{CapacityField, Condition, SearchRequest, SortKey, StringField, StringMode, TokenValue};
use crate::auth::policy::{CapacityScope, Profile, capacity_scope};
use crate::fhir::ResourceType;
use crate::fhir::codes::{CapacityCode, LOCATION_STATUS_SYSTEM};

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// TEXT.
    Text(String),
    /// BIGINT.
    BigInt(i64),
    /// A NULL TEXT.
    Null,
}

/// SQL with `?` placeholders and their values, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlPlan {
    /// The statement.
    pub sql: String,
    /// The values.
    pub binds: Vec<Bind>,
}

impl SqlPlan {
    fn text(&mut self, v: impl Into<String>) {
        self.sql.push('?');
        self.binds.push(Bind::Text(v.into()));
    }

    /// Appends `other` (its text and, in order, its values).
    fn append(&mut self, other: SqlPlan) {
        self.sql.push_str(&other.sql);
        self.binds.extend(other.binds);
    }

    fn int(&mut self, v: i64) {
        self.sql.push('?');
        self.binds.push(Bind::BigInt(v));
    }

    /// `(?, ?, …)` of `vals`, padded by repeating the last value to the next size of
    /// [`list_bucket`], so that the statement text takes few shapes and can be prepared once.
    fn text_list<'a>(&mut self, vals: impl IntoIterator<Item = &'a String>) {
        let vals: Vec<&String> = vals.into_iter().collect();
        self.sql.push('(');
        let Some(last) = vals.last() else {
            // An empty list matches nothing; `IN ()` is not portable SQL.
            self.sql.push_str("SELECT NULL WHERE 1 = 0)");
            return;
        };
        for i in 0..list_bucket(vals.len()) {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.text(vals.get(i).unwrap_or(last).as_str());
        }
        self.sql.push(')');
    }
}

/// Length an `IN` list of `n` values is padded to: 1–4 as they are, then powers of two.
pub fn list_bucket(n: usize) -> usize {
    if n <= 4 { n } else { n.next_power_of_two() }
}

/// `items` padded to [`list_bucket`] by repeating the last one: ORing or ANDing a condition with
/// itself changes nothing, and the statement text then takes a few shapes per parameter instead of
/// one per number of values (each shape is a prepared statement kept per connection).
fn padded<T>(items: &[T]) -> Vec<&T> {
    let Some(last) = items.last() else { return Vec::new() };
    (0..list_bucket(items.len())).map(|i| items.get(i).unwrap_or(last)).collect()
}

/// `a OP b OP …` as a balanced tree of parenthesised pairs, so that its depth grows with the
/// logarithm of the number of terms: a left-deep chain of a thousand ORs exceeds SQLite's
/// expression-depth limit (1,000). An empty list is the neutral element of `op`.
fn balanced<T>(p: &mut SqlPlan, items: &[&T], op: Junction, term: &dyn Fn(&mut SqlPlan, &T)) {
    match items {
        [] => p.sql.push_str(op.neutral()),
        [one] => term(p, one),
        _ => {
            let (left, right) = items.split_at(items.len() / 2);
            p.sql.push('(');
            balanced(p, left, op, term);
            p.sql.push_str(op.sql());
            balanced(p, right, op, term);
            p.sql.push(')');
        }
    }
}

/// How the terms of [`balanced`] are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Junction {
    And,
    Or,
}

impl Junction {
    fn sql(self) -> &'static str {
        match self {
            Self::And => " AND ",
            Self::Or => " OR ",
        }
    }

    fn neutral(self) -> &'static str {
        match self {
            Self::And => "1 = 1",
            Self::Or => "1 = 0",
        }
    }
}

/// The values of several ORed terms, padded (see [`padded`]) and joined as a balanced tree.
fn any_of<T>(p: &mut SqlPlan, items: &[T], term: &dyn Fn(&mut SqlPlan, &T)) {
    balanced(p, &padded(items), Junction::Or, term);
}

/// Table facts of a searchable type. Observations are the rows of `capacities`.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Id column.
    pub id: &'static str,
    /// JSON column.
    pub json: &'static str,
}

/// The table behind a resource type.
pub fn table(rt: ResourceType) -> Table {
    match rt {
        ResourceType::Location => Table { name: "locations", id: "id", json: "json_head" },
        ResourceType::HealthcareService => Table { name: "healthcare_services", id: "id", json: "resource_json" },
        ResourceType::Organization => Table { name: "organizations", id: "id", json: "resource_json" },
        ResourceType::Observation => Table { name: "capacities", id: "observation_id", json: "observation_json" },
    }
}

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

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The links from places (`shl.location_id`) to sensitive units: a place with one shows no figure
/// to a consumer whose scope hides sensitive units.
const SENSITIVE_LINKS: &str = "healthcare_service_locations shl JOIN healthcare_services sh ON sh.id = shl.service_id \
     WHERE sh.sensitive_unit = TRUE";

/// The predicate "figure `alias` is visible" (a parenthesised boolean expression).
fn capacity_visible(p: &mut SqlPlan, alias: &str, cap: &CapacityScope) {
    if cap.none {
        p.sql.push_str("(1 = 0)");
        return;
    }
    p.sql.push_str("(1 = 1");
    if let Some(only) = &cap.only_statuses {
        p.sql.push_str(&format!(" AND {alias}.capacity_status IN "));
        p.text_list(&owned(only));
    }
    if !cap.hidden_statuses.is_empty() {
        p.sql.push_str(&format!(" AND {alias}.capacity_status NOT IN "));
        p.text_list(&owned(&cap.hidden_statuses));
    }
    if let Some(only) = &cap.only_assignments {
        p.sql.push_str(&format!(" AND {alias}.temporary_assignment IN "));
        p.text_list(&owned(only));
    }
    if cap.hide_sensitive {
        p.sql.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM {SENSITIVE_LINKS} AND shl.location_id = {alias}.location_id)"
        ));
    }
    p.sql.push(')');
}

/// `AND <region restriction>` for the rows of `rt` aliased `r`.
fn region_filter(p: &mut SqlPlan, rt: ResourceType, scope: &Scope) {
    let Some(regions) = &scope.regions else { return };
    if rt == ResourceType::Observation {
        p.sql.push_str(" AND r.location_id IN (SELECT rl.id FROM locations rl WHERE rl.region IN ");
        p.text_list(regions);
        p.sql.push(')');
    } else {
        p.sql.push_str(" AND r.region IN ");
        p.text_list(regions);
    }
}

/// `AND hl.service_id <is an offer the consumer may see>` (its regions), for `_has`: an offer
/// outside them must not make a place match.
fn visible_offers(p: &mut SqlPlan, scope: &Scope) {
    let Some(regions) = &scope.regions else { return };
    p.sql.push_str(" AND hl.service_id IN (SELECT vo.id FROM healthcare_services vo WHERE vo.region IN ");
    p.text_list(regions);
    p.sql.push(')');
}

/// `AND <visible>` for Observations (their rows are the figures themselves).
fn observation_filter(p: &mut SqlPlan, rt: ResourceType, scope: &Scope) {
    if rt == ResourceType::Observation && !scope.capacity.is_everything() {
        p.sql.push_str(" AND ");
        capacity_visible(p, "r", &scope.capacity);
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
    fn columns(self, rt: ResourceType) -> (&'static str, String) {
        match self {
            Self::View => ("lv.last_updated", "lv.location_id".to_owned()),
            Self::Table => ("r.last_updated", format!("r.{}", table(rt).id)),
        }
    }
}

/// The select list: id, last_updated, json and, for Locations, the parts around their figures and
/// the instant of the consumer's view of each (from `location_views`; a place written without
/// views, which the start-up upgrade prevents, falls back to its own instant).
fn select_list(p: &mut SqlPlan, rt: ResourceType, scope: &Scope, drive: Drive) {
    let t = table(rt);
    if rt != ResourceType::Location {
        p.sql.push_str(&format!(
            "SELECT r.{} AS id, r.last_updated AS last_updated, r.{} AS json, '' AS tail, \
             CAST(0 AS BIGINT) AS cut_head, CAST(0 AS BIGINT) AS cut_tail, CAST(NULL AS TEXT) AS figures, \
             CAST(NULL AS TEXT) AS statuses, CAST(NULL AS TEXT) AS assignments, CAST(NULL AS BIGINT) AS lu_at \
             FROM {} r",
            t.id, t.json, t.name
        ));
        return;
    }
    p.sql.push_str("SELECT r.id AS id, ");
    if drive == Drive::View {
        p.sql.push_str("lv.last_updated");
    } else {
        p.sql.push_str(
            "COALESCE((SELECT lv.last_updated FROM location_views lv WHERE lv.location_id = r.id AND lv.view = ",
        );
        p.text(scope.capacity.view_key());
        p.sql.push_str("), r.last_updated)");
    }
    p.sql.push_str(
        " AS last_updated, r.json_head AS json, r.json_tail AS tail, \
         r.empty_head_len AS cut_head, r.empty_tail_skip AS cut_tail, r.figures_json AS figures, \
         r.figure_statuses AS statuses, r.figure_assignments AS assignments, r.lu_at AS lu_at",
    );
    if drive == Drive::View {
        p.sql.push_str(" FROM location_views lv JOIN locations r ON r.id = lv.location_id AND lv.view = ");
        p.text(scope.capacity.view_key());
    } else {
        p.sql.push_str(" FROM locations r");
    }
}

/// One resource by id, within `scope`.
pub fn read(rt: ResourceType, id: &str, scope: &Scope) -> SqlPlan {
    let t = table(rt);
    let mut p = SqlPlan::default();
    select_list(&mut p, rt, scope, Drive::Table);
    p.sql.push_str(&format!(" WHERE r.{} = ", t.id));
    p.text(id);
    region_filter(&mut p, rt, scope);
    observation_filter(&mut p, rt, scope);
    p
}

/// The visible capacity extensions of Locations, in document order.
pub fn visible_figures(ids: &[String], scope: &Scope) -> SqlPlan {
    let mut p = SqlPlan {
        sql: "SELECT c.location_id AS location_id, c.extension_json AS json FROM capacities c WHERE c.location_id IN "
            .to_owned(),
        binds: Vec::new(),
    };
    p.text_list(ids);
    p.sql.push_str(" AND ");
    capacity_visible(&mut p, "c", &scope.capacity);
    p.sql.push_str(" ORDER BY c.location_id, c.seq");
    p
}

/// Every place linked to a sensitive unit (few: the import keeps them in memory).
pub fn all_sensitive_places() -> SqlPlan {
    SqlPlan { sql: format!("SELECT DISTINCT shl.location_id AS v FROM {SENSITIVE_LINKS}"), binds: Vec::new() }
}

/// Which of the places `ids` are linked to a sensitive unit (their figures are hidden from
/// consumers whose scope hides sensitive units).
pub fn sensitive_places(ids: &[String]) -> SqlPlan {
    let mut p = SqlPlan {
        sql: format!("SELECT DISTINCT shl.location_id AS v FROM {SENSITIVE_LINKS} AND shl.location_id IN "),
        binds: Vec::new(),
    };
    p.text_list(ids);
    p
}

fn token_match(p: &mut SqlPlan, values: &[TokenValue]) {
    // Plain codes (any system) are grouped into one IN list; the rest are ORed.
    let plain: Vec<&String> = values.iter().filter(|v| v.system.is_none()).filter_map(|v| v.code.as_ref()).collect();
    let with_system: Vec<&TokenValue> = values.iter().filter(|v| v.system.is_some()).collect();
    let system_term = |p: &mut SqlPlan, v: &&TokenValue| {
        let system = v.system.clone().unwrap_or_default();
        match &v.code {
            Some(code) => {
                p.sql.push_str("(t.code = ");
                p.text(code.as_str());
                p.sql.push_str(" AND t.system = ");
                p.text(system);
                p.sql.push(')');
            }
            None => {
                p.sql.push_str("t.system = ");
                p.text(system);
            }
        }
    };
    p.sql.push('(');
    match (plain.is_empty(), with_system.is_empty()) {
        (false, true) => {
            p.sql.push_str("t.code IN ");
            p.text_list(plain);
        }
        (true, _) => any_of(p, &with_system, &system_term),
        (false, false) => {
            p.sql.push_str("t.code IN ");
            p.text_list(plain);
            p.sql.push_str(" OR ");
            any_of(p, &with_system, &system_term);
        }
    }
    p.sql.push(')');
}

fn token_subquery(p: &mut SqlPlan, resource_type: &str, param: &str, values: &[TokenValue]) {
    p.sql.push_str(&format!(
        "SELECT t.resource_id FROM search_tokens t WHERE t.resource_type = '{resource_type}' AND t.param = '{param}' AND "
    ));
    token_match(p, values);
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn date_condition(p: &mut SqlPlan, col: &str, c: &DateCondition) {
    match *c {
        DateCondition::Within { lower, upper } => {
            p.sql.push('(');
            match (lower, upper) {
                (Some(lo), Some(hi)) => {
                    p.sql.push_str(&format!("{col} >= "));
                    p.int(lo);
                    p.sql.push_str(&format!(" AND {col} < "));
                    p.int(hi);
                }
                (Some(lo), None) => {
                    p.sql.push_str(&format!("{col} >= "));
                    p.int(lo);
                }
                (None, Some(hi)) => {
                    p.sql.push_str(&format!("{col} < "));
                    p.int(hi);
                }
                (None, None) => p.sql.push_str("1 = 1"),
            }
            p.sql.push(')');
        }
        DateCondition::Outside { start, end } => {
            p.sql.push_str(&format!("({col} < "));
            p.int(start);
            p.sql.push_str(&format!(" OR {col} >= "));
            p.int(end);
            p.sql.push(')');
        }
    }
}

fn observation_code(p: &mut SqlPlan, values: &[TokenValue]) {
    let ty = CapacityCode::Type.system();
    let st = CapacityCode::Status.system();
    let term = |p: &mut SqlPlan, v: &TokenValue| match (v.system.as_deref(), &v.code) {
        (None, Some(code)) => {
            p.sql.push_str("(r.capacity_type = ");
            p.text(code.as_str());
            p.sql.push_str(" OR r.capacity_status = ");
            p.text(code.as_str());
            p.sql.push(')');
        }
        (Some(s), Some(code)) if s == ty => {
            p.sql.push_str("r.capacity_type = ");
            p.text(code.as_str());
        }
        (Some(s), Some(code)) if s == st => {
            p.sql.push_str("r.capacity_status = ");
            p.text(code.as_str());
        }
        (Some(s), None) if s == ty || s == st => p.sql.push_str("1 = 1"),
        _ => p.sql.push_str("1 = 0"),
    };
    p.sql.push('(');
    any_of(p, values, &term);
    p.sql.push(')');
}

/// The codes of the token values that can match a code of `system` (no system given, or that one).
fn codes_in(values: &[TokenValue], system: &str) -> Vec<String> {
    values.iter().filter(|v| v.system.as_deref().is_none_or(|s| s == system)).filter_map(|v| v.code.clone()).collect()
}

/// One condition; a semi-join on the id is written `id IN (<its subquery>)` (see [`subquery`]).
fn condition(p: &mut SqlPlan, rt: ResourceType, c: &Condition, scope: &Scope, drive: Drive) {
    let t = table(rt);
    let id = format!("r.{}", t.id);
    if let Some(sub) = subquery(rt, c, scope, drive) {
        p.sql.push_str(&format!("{id} IN ("));
        p.append(sub);
        p.sql.push(')');
        return;
    }
    match c {
        Condition::Ids(ids) => {
            p.sql.push_str(&format!("{id} IN "));
            p.text_list(ids);
        }
        Condition::LocationStatus(values) => {
            let codes = codes_in(values, LOCATION_STATUS_SYSTEM);
            if codes.is_empty() {
                p.sql.push_str("1 = 0");
            } else {
                p.sql.push_str("r.status IN ");
                p.text_list(&codes);
            }
        }
        Condition::Strings { field, mode, values } => {
            let col = match (field, mode) {
                (StringField::LocationName, StringMode::Exact) => "r.name",
                (StringField::LocationName, _) => "r.name_norm",
                (StringField::PostalCode, _) => "r.postal_code",
            };
            let term = |p: &mut SqlPlan, v: &String| match mode {
                StringMode::Exact => {
                    p.sql.push_str(&format!("{col} = "));
                    p.text(v.as_str());
                }
                StringMode::StartsWith => {
                    p.sql.push_str(&format!("{col} LIKE "));
                    p.text(format!("{}%", escape_like(v)));
                    p.sql.push_str(" ESCAPE '\\'");
                }
                StringMode::Contains => {
                    p.sql.push_str(&format!("{col} LIKE "));
                    p.text(format!("%{}%", escape_like(v)));
                    p.sql.push_str(" ESCAPE '\\'");
                }
            };
            p.sql.push('(');
            any_of(p, values, &term);
            p.sql.push(')');
        }
        Condition::LastUpdated(conds) => {
            // Places walked in the order of their view's instant (`Drive::View`): a range of that
            // index (otherwise a subquery).
            p.sql.push('(');
            any_of(p, conds, &|p, d| date_condition(p, "lv.last_updated", d));
            p.sql.push(')');
        }
        Condition::ServiceOrganization(ids) => {
            p.sql.push_str("r.provided_by_id IN ");
            p.text_list(ids);
        }
        Condition::ObservationSubject(ids) => {
            p.sql.push_str("r.location_id IN ");
            p.text_list(ids);
        }
        Condition::ObservationCode(values) => observation_code(p, values),
        // No code of the parameter's system: nothing matches (otherwise a subquery).
        Condition::Capacity { .. } => p.sql.push_str("1 = 0"),
        Condition::Tokens { .. }
        | Condition::HasServiceIdentifier(_)
        | Condition::HasServiceId(_)
        | Condition::ServiceLocation(_) => {}
    }
}

/// The `SELECT <id> …` of a condition that is a semi-join on the id (`id IN (SELECT …)`), or
/// `None` for the other conditions.
fn subquery(rt: ResourceType, c: &Condition, scope: &Scope, drive: Drive) -> Option<SqlPlan> {
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
                p.sql.push_str("SELECT lu.location_id FROM location_views lu WHERE lu.view = ");
                p.text(scope.capacity.view_key());
                p.sql.push_str(" AND ");
            } else {
                p.sql.push_str(&format!("SELECT lu.{} FROM {} lu WHERE ", t.id, t.name));
            }
            any_of(&mut p, conds, &|p, d| date_condition(p, "lu.last_updated", d));
        }
        Condition::HasServiceIdentifier(values) => {
            p.sql.push_str("SELECT hl.location_id FROM healthcare_service_locations hl WHERE hl.service_id IN (");
            token_subquery(&mut p, "HealthcareService", "identifier", values);
            p.sql.push(')');
            visible_offers(&mut p, scope);
        }
        Condition::HasServiceId(ids) => {
            p.sql.push_str("SELECT hl.location_id FROM healthcare_service_locations hl WHERE hl.service_id IN ");
            p.text_list(ids);
            visible_offers(&mut p, scope);
        }
        Condition::ServiceLocation(ids) => {
            p.sql.push_str("SELECT hl.service_id FROM healthcare_service_locations hl WHERE hl.location_id IN ");
            p.text_list(ids);
        }
        Condition::Capacity { field, values } => {
            // Only the figures the consumer may see can make a place match.
            let (col, system) = match field {
                CapacityField::Status => ("capacity_status", CapacityCode::Status.system()),
                CapacityField::Type => ("capacity_type", CapacityCode::Type.system()),
                CapacityField::Temporality => ("temporality", CapacityCode::Temporality.system()),
            };
            let codes = codes_in(values, system);
            if codes.is_empty() {
                return None;
            }
            p.sql.push_str(&format!("SELECT c.location_id FROM capacities c WHERE c.{col} IN "));
            p.text_list(&codes);
            p.sql.push_str(" AND ");
            capacity_visible(&mut p, "c", &scope.capacity);
        }
        _ => return None,
    }
    Some(p)
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
    /// `id IN (<subquery> INTERSECT <subquery> …)`.
    Intersect(&'a [SqlPlan]),
}

/// The conditions, ANDed. When a search has more than [`MAX_SEMI_JOINS`] semi-joins on the id
/// (repeated `identifier`, `_lastUpdated`, `_has`, `location`…), they are written as one
/// `id IN (… INTERSECT …)`: PostgreSQL plans each semi-join as a join, and its planning time
/// explodes with their number (100 repeated `_lastUpdated` took a minute to plan, 100 `location`
/// 8 s; intersected, 20 ms).
fn where_clause(p: &mut SqlPlan, req: &SearchRequest, scope: &Scope, drive: Drive) {
    p.sql.push_str(" WHERE ");
    let rt = req.resource;
    let mut subqueries = Vec::new();
    let mut others = Vec::new();
    for c in &req.conditions {
        match subquery(rt, c, scope, drive) {
            Some(s) => subqueries.push(s),
            None => others.push(Term::One(c)),
        }
    }
    let terms: Vec<Term<'_>> = if subqueries.len() <= MAX_SEMI_JOINS {
        req.conditions.iter().map(Term::One).collect()
    } else {
        others.into_iter().chain(subqueries.chunks(MAX_INTERSECTED).map(Term::Intersect)).collect()
    };
    let terms: Vec<&Term<'_>> = terms.iter().collect();
    let id = format!("r.{}", table(rt).id);
    balanced(p, &terms, Junction::And, &|p, term| match term {
        Term::One(c) => condition(p, rt, c, scope, drive),
        Term::Intersect(subs) => {
            p.sql.push_str(&format!("{id} IN ("));
            for (i, s) in subs.iter().enumerate() {
                if i > 0 {
                    p.sql.push_str(" INTERSECT ");
                }
                p.append(s.clone());
            }
            p.sql.push(')');
        }
    });
    region_filter(p, rt, scope);
    observation_filter(p, rt, scope);
}

/// `SELECT COUNT(*) AS n` of the matches.
pub fn count(req: &SearchRequest, scope: &Scope) -> SqlPlan {
    let t = table(req.resource);
    let mut p = SqlPlan { sql: format!("SELECT COUNT(*) AS n FROM {} r", t.name), binds: Vec::new() };
    where_clause(&mut p, req, scope, Drive::Table);
    p
}

/// Rows a page of `wanted` rows asks for: the next of a few fixed sizes, so that `_count` values
/// do not multiply statement texts (a consumer cycling through `_count=1…200` would otherwise
/// prepare 200 statements per connection). The extra rows are read and dropped.
pub fn limit_bucket(wanted: usize) -> usize {
    const SIZES: [usize; 12] = [1, 2, 3, 5, 11, 21, 51, 101, 201, 501, 1001, 2001];
    SIZES.iter().copied().find(|s| *s >= wanted).unwrap_or_else(|| wanted.next_power_of_two() + 1)
}

/// `LIMIT n`, written as a literal: the server computes `n` (never text from the request), and
/// SQLite re-prepares a statement whenever a bound LIMIT changes value, which would defeat the
/// statement cache. `n` is rounded up to [`limit_bucket`].
fn limit_clause(p: &mut SqlPlan, limit: usize) {
    p.sql.push_str(&format!(" LIMIT {}", limit_bucket(limit)));
}

/// One page: rows after `after` in the requested order, at most `limit` of them.
pub fn page(req: &SearchRequest, scope: &Scope, after: Option<&CursorKey>, limit: usize) -> SqlPlan {
    let drive = Drive::of(req);
    let (lu_col, id) = drive.columns(req.resource);
    let mut p = SqlPlan::default();
    select_list(&mut p, req.resource, scope, drive);
    where_clause(&mut p, req, scope, drive);
    let (cmp, dir) = if req.sort.descending { ("<", "DESC") } else { (">", "ASC") };
    if let Some(after) = after {
        match (req.sort.key, after.last_updated) {
            (SortKey::LastUpdated, Some(lu)) => {
                p.sql.push_str(&format!(" AND ({lu_col} {cmp} "));
                p.int(lu);
                p.sql.push_str(&format!(" OR ({lu_col} = "));
                p.int(lu);
                p.sql.push_str(&format!(" AND {id} {cmp} "));
                p.text(after.id.as_str());
                p.sql.push_str("))");
            }
            _ => {
                p.sql.push_str(&format!(" AND {id} {cmp} "));
                p.text(after.id.as_str());
            }
        }
    }
    match req.sort.key {
        SortKey::LastUpdated => p.sql.push_str(&format!(" ORDER BY {lu_col} {dir}, {id} {dir}")),
        SortKey::Id => p.sql.push_str(&format!(" ORDER BY {id} {dir}")),
    }
    limit_clause(&mut p, limit);
    p
}

/// The resources of `target` linked through HealthcareService.location to any of `ids` (the other
/// side of the link): offers of places for `_revinclude`, places of offers for `_include`.
fn linked(target: ResourceType, ids: &[String], scope: &Scope, limit: usize) -> SqlPlan {
    let (wanted, given) = match target {
        ResourceType::Location => ("location_id", "service_id"),
        _ => ("service_id", "location_id"),
    };
    let mut p = SqlPlan::default();
    select_list(&mut p, target, scope, Drive::Table);
    p.sql.push_str(&format!(
        " WHERE r.id IN (SELECT hl.{wanted} FROM healthcare_service_locations hl WHERE hl.{given} IN "
    ));
    p.text_list(ids);
    p.sql.push(')');
    region_filter(&mut p, target, scope);
    p.sql.push_str(" ORDER BY r.id");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SearchLimits;
    use crate::search::parse::parse;

    fn req(rt: ResourceType, q: &str) -> SearchRequest {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
        parse(rt, &pairs, false, &SearchLimits::default()).unwrap()
    }

    #[test]
    fn in_lists_take_few_shapes() {
        assert_eq!((0..=9).map(list_bucket).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4, 8, 8, 8, 8, 16]);
        let ids: Vec<String> = (0..5).map(|i| format!("l{i}")).collect();
        let plan = visible_figures(&ids, &Scope::everything());
        assert_eq!(plan.binds.len(), 8);
        assert_eq!(plan.binds[7], Bind::Text("l4".into()));
        let plan = visible_figures(&ids[..4], &Scope::everything());
        assert_eq!(plan.binds.len(), 4);
        let empty = visible_figures(&[], &Scope::everything());
        assert!(empty.sql.contains("IN (SELECT NULL WHERE 1 = 0)"), "{}", empty.sql);
    }

    #[test]
    fn statement_texts_do_not_multiply_with_values() {
        // _count=1…200 and 1…1,000 identifiers: a handful of shapes each, not one per value.
        let mut texts = std::collections::HashSet::new();
        for n in 1..=200 {
            let r = req(ResourceType::Location, &format!("_count={n}"));
            texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql);
        }
        assert!(texts.len() <= 12, "{} shapes for _count", texts.len());
        texts.clear();
        for n in 1..=1000 {
            let ids = (0..n).map(|i| format!("27/{i}")).collect::<Vec<_>>().join(",");
            let r = req(ResourceType::Location, &format!("identifier={ids}"));
            texts.insert(page(&r, &Scope::everything(), None, r.count + 1).sql);
        }
        assert!(texts.len() <= 14, "{} shapes for 1..1000 identifiers", texts.len());
    }

    #[test]
    fn values_are_always_bound() {
        let r = req(ResourceType::Location, "identifier=x'; DROP TABLE locations;--&name=O'Brien%");
        let plan = page(&r, &Scope::everything(), None, 10);
        assert!(!plan.sql.contains("DROP"));
        assert!(!plan.sql.contains("O'Brien"));
        assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
    }

    #[test]
    fn repeated_semi_joins_are_one_intersection() {
        let one = req(ResourceType::Location, "_lastUpdated=ge2020&name=a&_has:HealthcareService:location:_id=x");
        let plan = count(&one, &Scope::everything());
        assert!(!plan.sql.contains("INTERSECT"), "{}", plan.sql);
        let q: Vec<String> = (0..90).map(|i| format!("_lastUpdated=ge20{:02}", i % 30)).collect();
        let many = req(ResourceType::Location, &format!("{}&identifier=x&name=a&_id=b", q.join("&")));
        let plan = page(&many, &Scope::everything(), None, 10);
        // 91 subqueries: two groups (64 + 27), so 89 INTERSECTs and two `IN`s.
        assert_eq!(plan.sql.matches(" INTERSECT ").count(), 89, "{}", plan.sql);
        assert_eq!(plan.sql.matches("r.id IN (SELECT").count(), 2, "{}", plan.sql);
        assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
    }

    #[test]
    fn has_is_a_semi_join_and_keyset_follows_the_sort() {
        let r = req(ResourceType::Location, "_has:HealthcareService:location:identifier=11/1,11/2&_sort=-_lastUpdated");
        let after = CursorKey { last_updated: Some(5), id: "9".into(), total: None };
        let plan = page(&r, &Scope::everything(), Some(&after), 3);
        assert!(plan.sql.contains("IN (SELECT hl.location_id FROM healthcare_service_locations"), "{}", plan.sql);
        assert!(plan.sql.contains("lv.last_updated < ?"), "{}", plan.sql);
        assert!(plan.sql.ends_with("ORDER BY lv.last_updated DESC, lv.location_id DESC LIMIT 3"), "{}", plan.sql);
        assert_eq!(plan.sql.matches('?').count(), plan.binds.len());
    }
}
