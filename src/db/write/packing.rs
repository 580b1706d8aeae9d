//! Packs the pieces stored before they were compressed (`locations.figures_json`, migration
//! `2026-12-06-000004_figures_packed`) into `locations.figures_lz4`, emptying the old column as
//! it goes. Run by the start-up after the migrations, in one transaction; what consumers read
//! does not change.

use diesel::prelude::*;

use crate::db::schema::locations;
use crate::db::{DbConn, DbError};
use crate::fhir::figures;

/// Places packed per statement that reads them: bounds the memory of a national database's
/// first start (a piece is ~7 kB).
const BATCH: i64 = 1000;

/// Packs every piece still stored as text. Returns the number of places packed.
pub fn pack_stored_pieces(conn: &mut DbConn) -> Result<usize, DbError> {
    let (mut packed, mut after) = (0, String::new());
    loop {
        // In id order from the last one seen: each place is read once.
        let batch: Vec<(String, Option<String>)> = locations::table
            .filter(locations::id.gt(&after))
            .filter(locations::figures_json.is_not_null())
            .select((locations::id, locations::figures_json))
            .order(locations::id)
            .limit(BATCH)
            .load(conn)?;
        if batch.is_empty() {
            return Ok(packed);
        }
        for (id, piece) in &batch {
            let bytes = figures::pack(piece.as_deref().unwrap_or_default());
            diesel::update(locations::table.find(id))
                .set((locations::figures_lz4.eq(Some(bytes)), locations::figures_json.eq(None::<String>)))
                .execute(conn)?;
        }
        packed += batch.len();
        after.clone_from(&batch[batch.len() - 1].0);
    }
}
