//! What a consumer sees of a place: its `meta.lastUpdated` as of the consumer's view (the instant
//! the figures it may see last changed), and the capacity figures its profile admits (none on a
//! place linked to a sensitive unit for the profiles that hide them), composed into the place's
//! stored JSON.

use std::collections::HashMap;

use crate::auth::views;
use crate::db::in_place::RowRef;
use crate::db::rows::ResourceRow;
use crate::db::sql::Scope;
use crate::db::{DbConn, DbError, read};
use crate::fhir::figures::{self, Facts};
use crate::fhir::{ResourceType, render};
use crate::search::date::format_instant;

/// A comma-separated code list of a row (empty when absent).
fn codes(list: Option<&str>) -> impl Iterator<Item = &str> + Clone {
    list.unwrap_or_default().split(',').filter(|c| !c.is_empty())
}

/// Where the figures a consumer sees of one place come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// None is visible (no capacity for this consumer, or a place linked to a sensitive unit).
    Hidden,
    /// All are visible: the place's stored piece (empty when it has none).
    Stored,
    /// Some may be hidden: the database says which, and they are taken from the piece.
    Filtered,
}

fn source(r: &RowRef<'_>, scope: &Scope) -> Source {
    let cap = &scope.capacity;
    if cap.none || (cap.hide_sensitive && r.sensitive) {
        Source::Hidden
    } else if r.figures.is_some() && cap.admits_all(codes(r.statuses), codes(r.assignments)) {
        Source::Stored
    } else {
        Source::Filtered
    }
}

/// Whether [`compose_locations`] reads the database for `rows` (a place with a figure the consumer
/// may not see, whose visible figures are read again).
pub fn composing_reads(rows: &[ResourceRow], scope: &Scope) -> bool {
    rows.iter().any(|r| source(&RowRef::of(r), scope) == Source::Filtered)
}

/// Completes the JSON of Locations with the capacity figures the consumer may see, and their
/// `meta.lastUpdated` with the consumer's view of them.
///
/// A place whose figures are all visible to the consumer is completed with its stored figures in
/// one piece; only the others have their figures filtered, in one statement for the page.
pub fn compose_locations(conn: &mut DbConn, rows: &mut [ResourceRow], scope: &Scope) -> Result<(), DbError> {
    let mut composed = Vec::with_capacity(rows.len());
    each_location(conn, rows, scope, |pieces| {
        composed.push(pieces.concat());
        Ok::<_, DbError>(())
    })?;
    for (row, json) in rows.iter_mut().zip(composed) {
        row.json = json;
        row.tail = String::new();
    }
    Ok(())
}

/// What [`compose_locations`] makes of each place of `rows`, handed to `emit` in order as the
/// pieces of its JSON instead of joined: a writer takes them
/// one after the other (an export's file) without a copy of each place. The rows keep their
/// stored parts; their `last_updated` becomes the consumer's view of the place.
pub fn each_location<E: From<DbError>>(
    conn: &mut DbConn,
    rows: &mut [ResourceRow],
    scope: &Scope,
    mut emit: impl FnMut(&[&str]) -> Result<(), E>,
) -> Result<(), E> {
    if rows.is_empty() {
        return Ok(());
    }
    let cap = &scope.capacity;
    let view = cap.view_key();
    for row in rows.iter_mut() {
        row.last_updated = seen_at(row.views.take().as_deref(), &view, row.last_updated);
    }
    let sources: Vec<Source> = rows.iter().map(|r| source(&RowRef::of(r), scope)).collect();
    let filtered: Vec<String> =
        rows.iter().zip(&sources).filter(|(_, s)| **s == Source::Filtered).map(|(r, _)| r.id.clone()).collect();
    let figures = if filtered.is_empty() { Vec::new() } else { read::visible_figures(conn, &filtered, scope)? };
    let mut by_place: HashMap<&str, Vec<i64>> = HashMap::new();
    for f in &figures {
        by_place.entry(f.location_id.as_str()).or_default().push(f.seq);
    }
    // One buffer for the page's pieces, unpacked one place at a time.
    let mut unpacker = figures::Unpacker::default();
    for (row, source) in rows.iter().zip(&sources) {
        // The row's instant is the consumer's view of the place (see `sql::select_list`).
        let instant = format_instant(row.last_updated);
        let seqs = match source {
            Source::Filtered => by_place.get(row.id.as_str()).map_or(&[][..], Vec::as_slice),
            _ => &[],
        };
        let mut pieces = Vec::with_capacity(16);
        place_pieces(&RowRef::of(row), *source, seqs, &mut unpacker, &instant, &mut pieces)?;
        emit(&pieces)?;
    }
    Ok(())
}

/// When the place whose views' instants are `instants` last changed as `view` sees it (`own`, its
/// own instant, when they are not given or do not name that view).
fn seen_at(instants: Option<&str>, view: &str, own: i64) -> i64 {
    instants.and_then(|i| views::instant_of(i, view)).unwrap_or(own)
}

/// The pieces of one place's JSON as a consumer sees it, from `source`, with `instant` as its
/// `meta.lastUpdated`; `seqs`: the figures it may see when they are [`Source::Filtered`].
fn place_pieces<'a>(
    row: &RowRef<'a>,
    source: Source,
    seqs: &[i64],
    unpacker: &'a mut figures::Unpacker,
    instant: &'a str,
    pieces: &mut Vec<&'a str>,
) -> Result<(), DbError> {
    let piece = match (row.figures, source == Source::Hidden) {
        (Some(packed), false) => {
            unpacker.unpack(packed).map_err(|e| DbError::Unreadable(format!("Location/{}: {e}", row.id)))?
        }
        _ => "",
    };
    let visible: Vec<&str> = match source {
        Source::Hidden => Vec::new(),
        Source::Stored => std::iter::once(piece).filter(|p| !p.is_empty()).collect(),
        Source::Filtered => pick(piece, seqs),
    };
    let parts = render::StoredParts {
        head: row.json,
        tail: row.tail,
        empty_head_len: usize::try_from(row.cut_head).unwrap_or(0),
        empty_tail_skip: usize::try_from(row.cut_tail).unwrap_or(0),
        last_updated_at: row.lu_at.and_then(|a| usize::try_from(a).ok()),
    };
    render::location_pieces(&parts, instant, visible, pieces);
    Ok(())
}

/// Composes places read in place ([`crate::db::in_place`]), one at a time, for a scope that sees
/// all of a place's figures or none ([`crate::auth::policy::CapacityScope::all_or_nothing`]): no
/// place then needs its figures read again, and each is composed from its row alone, exactly as
/// [`each_location`] composes it.
pub struct PlaceComposer {
    view: String,
    unpacker: figures::Unpacker,
}

impl PlaceComposer {
    /// A composer for `scope`, if it sees all of a place's figures or none.
    pub fn for_scope(scope: &Scope) -> Option<Self> {
        scope
            .capacity
            .all_or_nothing()
            .then(|| Self { view: scope.capacity.view_key(), unpacker: figures::Unpacker::default() })
    }

    /// Hands the pieces of `row` as `scope` (the composer's) sees it to `emit`.
    pub fn compose<E: From<DbError>>(
        &mut self,
        row: &RowRef<'_>,
        scope: &Scope,
        emit: impl FnOnce(&[&str]) -> Result<(), E>,
    ) -> Result<(), E> {
        let seen = seen_at(row.views, &self.view, row.last_updated);
        self.compose_seen(row, scope, seen, emit)
    }

    /// `row` as `scope` (the composer's) sees it, as an owned row such as [`compose_locations`]
    /// leaves one: its JSON composed, its `last_updated` the consumer's view of the place.
    pub fn compose_row(&mut self, row: &RowRef<'_>, scope: &Scope) -> Result<ResourceRow, DbError> {
        let seen = seen_at(row.views, &self.view, row.last_updated);
        let mut json = String::new();
        self.compose_seen(row, scope, seen, |pieces| {
            json = pieces.concat();
            Ok::<_, DbError>(())
        })?;
        Ok(ResourceRow { sensitive: row.sensitive, ..ResourceRow::served(row.id.to_owned(), seen, json) })
    }

    /// [`Self::compose`] of a place the consumer last saw change at `seen` (µs).
    fn compose_seen<E: From<DbError>>(
        &mut self,
        row: &RowRef<'_>,
        scope: &Scope,
        seen: i64,
        emit: impl FnOnce(&[&str]) -> Result<(), E>,
    ) -> Result<(), E> {
        let instant = format_instant(seen);
        let source = source(row, scope);
        if source == Source::Filtered && row.figures.is_some() {
            // Only a scope that hides some figures filters a place that has them (one without
            // them shows none, as `each_location` would show).
            return Err(DbError::Unreadable(format!("Location/{}: its figures need the database", row.id)).into());
        }
        let mut pieces = Vec::with_capacity(16);
        place_pieces(row, source, &[], &mut self.unpacker, &instant, &mut pieces)?;
        emit(&pieces)
    }
}

/// The extensions of `piece` at positions `seqs` (from 1, as `capacities.seq`).
fn pick<'a>(piece: &'a str, seqs: &[i64]) -> Vec<&'a str> {
    let all = figures::split(piece);
    seqs.iter().filter_map(|s| usize::try_from(*s).ok()?.checked_sub(1).and_then(|i| all.get(i).copied())).collect()
}

/// Completes rows of `rt` as served: places with what the consumer may see of them
/// ([`compose_locations`]), Observations rendered from their figure's facts.
pub fn compose(conn: &mut DbConn, rt: ResourceType, rows: &mut [ResourceRow], scope: &Scope) -> Result<(), DbError> {
    match rt {
        ResourceType::Location => compose_locations(conn, rows, scope),
        ResourceType::Observation => render_observations(rows),
        _ => Ok(()),
    }
}

/// Renders the Observations of `rows`, read with their figure's facts in `json`.
fn render_observations(rows: &mut [ResourceRow]) -> Result<(), DbError> {
    for row in rows {
        let facts = Facts::decode(&row.json)
            .ok_or_else(|| DbError::Unreadable(format!("Observation/{}: stored facts", row.id)))?;
        let json = render::observation(&row.id, &facts, row.last_updated);
        row.json = json;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_visible_extensions_of_a_piece() {
        let piece = r#"{"a":1},{"b":[1,2]},{"c":"x,y"}"#;
        assert_eq!(pick(piece, &[1, 3]), [r#"{"a":1}"#, r#"{"c":"x,y"}"#]);
        assert_eq!(pick(piece, &[2]), [r#"{"b":[1,2]}"#]);
        assert!(pick(piece, &[0, 4, -1]).is_empty());
        assert!(pick("", &[1]).is_empty());
    }
}
