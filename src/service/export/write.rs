//! Writing an export: every search of its plan walked in id order, page after page, inside one
//! read transaction, so that every file comes from one snapshot of the data; the places composed
//! with the figures the consumer may see, exactly as a search composes them.

use std::collections::{HashMap, HashSet};

use super::plan::{ExportPlan, Part};
use crate::base::clock::now_us;
use crate::db::in_place;
use crate::db::rows::ResourceRow;
use crate::db::sql::Scope;
use crate::db::{DbConn, DbError, read};
use crate::fhir::ResourceType;
use crate::search::SearchRequest;
use crate::search::cursor::CursorKey;
use crate::service::visibility::{PlaceComposer, compose, each_location};

/// Most resources brought along by one page of an export (`_myCompleteExtract`).
const MAX_BROUGHT_PER_PAGE: usize = 1 << 20;

/// Where exported resources go: one NDJSON line per resource, one file per type.
pub trait Sink {
    /// Writes one resource's JSON (one line) to the file of `rt`: the concatenation of `pieces`.
    fn put(&mut self, rt: ResourceType, pieces: &[&str]) -> std::io::Result<()>;
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the data failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Writing the files failed.
    #[error("writing the export's files failed: {0}")]
    Io(#[from] std::io::Error),
    /// The job was cancelled (or the server is stopping).
    #[error("cancelled")]
    Cancelled,
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// What writing a page found: its number of rows, the last one's id (none when it had no row),
/// and the ids of the resources whose associated data it brings along.
type Page = (usize, Option<String>, Vec<String>);

/// The state of one export's walk.
struct Walker<'a> {
    plan: &'a ExportPlan,
    sink: &'a mut dyn Sink,
    page: usize,
    /// Ids written, for the types that may repeat.
    written: HashMap<ResourceType, HashSet<String>>,
    /// Resources written so far.
    count: u64,
    /// Called after each page with the count; `false` stops the export.
    on_page: &'a mut dyn FnMut(u64) -> bool,
}

/// Runs `plan`: writes its resources to `sink` in pages of `page` rows, calling `on_page` after
/// each page with the number of resources written (it returns `false` to stop the export).
/// Returns the export's `transactionTime`, in µs: the instant the snapshot was taken at. Every
/// change committed before it is in the files; none committed after.
pub fn export(
    conn: &mut DbConn,
    plan: &ExportPlan,
    page: usize,
    sink: &mut dyn Sink,
    on_page: &mut dyn FnMut(u64) -> bool,
) -> Result<i64, ExportError> {
    // Taken before the snapshot: what commits between the two is in the files and also after
    // `transactionTime` (sent again by the next `_since`, never missed).
    let transaction_us = now_us();
    let mut w = Walker { plan, sink, page: page.max(1), written: HashMap::new(), count: 0, on_page };
    read::in_snapshot(conn, plan.has_ranges(), |c| {
        read::generation(c)?;
        for part in &plan.parts {
            for search in &part.searches {
                w.walk(c, part, search)?;
            }
        }
        Ok::<_, ExportError>(())
    })?;
    Ok(transaction_us)
}

impl Walker<'_> {
    /// Every match of `search`, page by page in id order.
    fn walk(&mut self, c: &mut DbConn, part: &Part, search: &SearchRequest) -> Result<(), ExportError> {
        let mut req = search.clone();
        req.count = self.page;
        req.total = false;
        // Places whose figures need no second statement, offers and organisations are written as
        // they are read, from SQLite's rows in place; the others through owned rows.
        let mut in_place = match part.rt {
            ResourceType::Location => PlaceComposer::for_scope(&part.scope).map(Some),
            ResourceType::HealthcareService | ResourceType::Organization => Some(None),
            _ => None,
        };
        let mut after: Option<CursorKey> = None;
        loop {
            let (n, last, ids) = match in_place.as_mut() {
                Some(places) => self.page_in_place(c, part, &req, after.as_ref(), places.as_mut())?,
                None => self.page_of_rows(c, part, &req, after.as_ref())?,
            };
            let Some(last) = last else { break };
            after = Some(CursorKey { last_updated: None, id: last, total: None, score_bits: None });
            self.bring_along(c, part.rt, &ids)?;
            if !(self.on_page)(self.count) {
                return Err(ExportError::Cancelled);
            }
            if n < self.page {
                break;
            }
        }
        Ok(())
    }

    /// One page of `req` read as owned rows and written: its number of rows, the last one's id,
    /// and the ids of what it may bring along.
    fn page_of_rows(
        &mut self,
        c: &mut DbConn,
        part: &Part,
        req: &SearchRequest,
        after: Option<&CursorKey>,
    ) -> Result<Page, ExportError> {
        let rows = read::page(c, req, &part.scope, after, self.page)?;
        let (n, last) = (rows.len(), rows.last().map(|r| r.id.clone()));
        // The ids are kept only for what the page brings along.
        let ids: Vec<String> =
            if self.plan.associated.is_empty() { Vec::new() } else { rows.iter().map(|r| r.id.clone()).collect() };
        self.emit(c, part.rt, &part.scope, rows)?;
        Ok((n, last, ids))
    }

    /// One page of `req` written as its rows are read ([`in_place`]), places composed by
    /// `places`: as [`Self::page_of_rows`], without an owned copy of each row.
    fn page_in_place(
        &mut self,
        c: &mut DbConn,
        part: &Part,
        req: &SearchRequest,
        after: Option<&CursorKey>,
        mut places: Option<&mut PlaceComposer>,
    ) -> Result<Page, ExportError> {
        let (rt, scope) = (part.rt, &part.scope);
        let keep_ids = !self.plan.associated.is_empty();
        let mut seen = if self.plan.may_repeat(rt) { Some(self.written.entry(rt).or_default()) } else { None };
        let sink = &mut *self.sink;
        let (mut n, mut last, mut ids, mut written) = (0, String::new(), Vec::new(), 0u64);
        in_place::each_of_page(c, req, scope, after, self.page, |row| {
            n += 1;
            last.clear();
            last.push_str(row.id);
            if keep_ids {
                ids.push(row.id.to_owned());
            }
            if let Some(seen) = seen.as_mut()
                && !seen.insert(row.id.to_owned())
            {
                return Ok(());
            }
            written += 1;
            match places.as_deref_mut() {
                Some(p) => p.compose(&row, scope, |pieces| sink.put(rt, pieces).map_err(ExportError::Io)),
                None => sink.put(rt, &[row.json]).map_err(ExportError::Io),
            }
        })?;
        self.count += written;
        Ok((n, (n > 0).then_some(last), ids))
    }

    /// Writes `rows` of `rt` (places composed for `scope`), each once.
    fn emit(
        &mut self,
        c: &mut DbConn,
        rt: ResourceType,
        scope: &Scope,
        mut rows: Vec<ResourceRow>,
    ) -> Result<(), ExportError> {
        if self.plan.may_repeat(rt) {
            let seen = self.written.entry(rt).or_default();
            rows.retain(|r| seen.insert(r.id.clone()));
        }
        if rt == ResourceType::Location {
            // Each place goes to the file in pieces, as composed: no copy of it is made.
            let sink = &mut *self.sink;
            each_location(c, &mut rows, scope, |pieces| sink.put(rt, pieces).map_err(ExportError::Io))?;
        } else {
            compose(c, rt, &mut rows, scope)?;
            for r in &rows {
                self.sink.put(rt, &[&r.json])?;
            }
        }
        self.count += rows.len() as u64;
        Ok(())
    }

    /// `_myCompleteExtract`: what the resources `ids` of `rt` reference. Offers bring the places
    /// they name (`location`), the organisations managing those places and the organisations
    /// providing the offers (`providedBy`); places bring their managing organisations.
    fn bring_along(&mut self, c: &mut DbConn, rt: ResourceType, ids: &[String]) -> Result<(), ExportError> {
        if ids.is_empty() || self.plan.associated.is_empty() {
            return Ok(());
        }
        let plan = self.plan;
        if rt == ResourceType::HealthcareService
            && let Some(scope) = plan.associated_scope(ResourceType::Location)
        {
            let rows = read::locations_of_services(c, ids, scope, MAX_BROUGHT_PER_PAGE)?;
            let places: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            self.emit(c, ResourceType::Location, scope, rows)?;
            if let Some(orgs) = plan.associated_scope(ResourceType::Organization).filter(|_| !places.is_empty()) {
                let rows = read::organizations_of(c, ResourceType::Location, &places, orgs, MAX_BROUGHT_PER_PAGE)?;
                self.emit(c, ResourceType::Organization, orgs, rows)?;
            }
        }
        if matches!(rt, ResourceType::HealthcareService | ResourceType::Location)
            && let Some(scope) = plan.associated_scope(ResourceType::Organization)
        {
            let rows = read::organizations_of(c, rt, ids, scope, MAX_BROUGHT_PER_PAGE)?;
            self.emit(c, ResourceType::Organization, scope, rows)?;
        }
        Ok(())
    }
}
