//! Searches walked along the token index. A search with one token condition of one value (a
//! région's `_tag`, one `identifier`, one `specialty`) reads its rows from `search_tokens` in the
//! order of that value's rows, keyed (type, param, code, resource, system): in resource id order,
//! the order of the page, so the page stops after its last row. Written as `id IN (SELECT …)`
//! instead, the database first gathers every id of the value (SQLite into a temporary b-tree,
//! PostgreSQL into a hash), 6,000 to 22,000 ids for a région of the France set, whatever the page.

use super::conditions::token_rows;
use super::plan::SqlPlan;
use super::{Drive, table};
use crate::config::database::Backend;
use crate::db::ident::{search_tokens as st, search_tokens_shared as shared};
use crate::fhir::ResourceType;
use crate::search::{Condition, SearchRequest, SortKey, TokenValue};

/// The token condition a search is walked along.
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenWalk<'a> {
    /// Its position in the request's conditions (the walk replaces it).
    pub(super) at: usize,
    param: &'static str,
    value: &'a TokenValue,
}

impl<'a> TokenWalk<'a> {
    /// The walked parameter.
    pub(super) fn param(&self) -> &'static str {
        self.param
    }

    /// The walked value.
    pub(super) fn value(&self) -> &'a TokenValue {
        self.value
    }
}

/// The condition a page of `req` read through `drive` is walked along: the first token condition
/// of one value with a code, when the page is sorted by id. `None`: the page reads its own table.
pub(super) fn token_walk(req: &SearchRequest, drive: Drive) -> Option<TokenWalk<'_>> {
    if drive != Drive::Table || req.sort.key != SortKey::Id {
        return None;
    }
    req.conditions.iter().enumerate().find_map(|(at, c)| match c {
        Condition::Tokens { param, values } => match values.as_slice() {
            [value] if value.code.is_some() => Some(TokenWalk { at, param, value }),
            _ => None,
        },
        _ => None,
    })
}

/// ` FROM search_tokens t JOIN <table> r ON r.<id> = t.resource_id`.
pub(super) fn from_tokens(p: &mut SqlPlan, rt: ResourceType) {
    let t = table(rt);
    p.push(" FROM search_tokens t JOIN ");
    p.ident(t.name);
    p.push(" r ON ");
    p.col("r", t.id);
    p.push(" = ");
    p.col("t", st::RESOURCE_ID);
}

/// The walked token's rows: its type, parameter, code and, when given, system.
pub(super) fn walked_rows(p: &mut SqlPlan, rt: ResourceType, walk: &TokenWalk<'_>) {
    token_rows(p, rt.as_str(), walk.param);
    p.push(" AND t.code = ");
    p.text(walk.value.code.clone().unwrap_or_default());
    if let Some(system) = &walk.value.system {
        p.push(" AND t.system = ");
        p.text(system.as_str());
    }
}

/// Without a system, a resource may hold the walked code in several systems: only its row of the
/// smallest one is kept, so that each resource comes once. Written last, on `r`'s id.
///
/// On SQLite the probe for a smaller system runs only for a code that some resource holds in
/// several systems (`search_tokens_shared`, kept by the import; the check does not depend on the
/// row, so SQLite makes it once). For a région's `_tag` with capacity criteria (2,800 candidates
/// for a page of 200 places of type 02 on the France set) the probe made 40% of the page's time.
/// PostgreSQL plans that `OR` badly (a merge join along the whole `locations` key for a large
/// région, 14 ms against 10): it gets the plain `NOT EXISTS`, an anti-join that probes only the
/// rows that passed every other condition (201 probes for that page).
pub(super) fn walked_once(p: &mut SqlPlan, rt: ResourceType, walk: &TokenWalk<'_>, backend: Backend) {
    if walk.value.system.is_some() {
        return;
    }
    p.push(" AND ");
    if backend == Backend::Sqlite {
        p.push("(NOT EXISTS (SELECT 1 FROM ");
        p.ident(shared::TABLE);
        p.push(" s WHERE ");
        p.col("s", shared::RESOURCE_TYPE);
        p.push(" = ");
        p.text(rt.as_str());
        p.push(" AND ");
        p.col("s", shared::PARAM);
        p.push(" = ");
        p.text(walk.param);
        p.push(" AND ");
        p.col("s", shared::CODE);
        p.push(" = ");
        p.text(walk.value.code.clone().unwrap_or_default());
        p.push(") OR ");
    }
    p.push(
        "NOT EXISTS (SELECT 1 FROM search_tokens d WHERE d.resource_type = t.resource_type \
         AND d.param = t.param AND d.code = t.code AND d.resource_id = ",
    );
    p.col("r", table(rt).id);
    p.push(" AND d.system < t.system)");
    if backend == Backend::Sqlite {
        p.push(")");
    }
}
