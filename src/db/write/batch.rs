//! Multi-row inserts: the rows of one resource (its figures, its search tokens, its links) in a
//! few statements instead of one per row. Row counts are split into power-of-two chunks so the
//! statement texts take few shapes (and stay prepared), whatever the counts.

use crate::db::ident::Ident;
use crate::db::read;
use crate::db::sql::{Bind, SqlPlan};
use crate::db::{DbConn, DbError};

/// Most rows in one statement (SQLite and PostgreSQL both take far more binds than this needs).
const MAX_CHUNK: usize = 32;

/// Rows of `N` columns for one table.
pub(super) struct Rows<const N: usize> {
    table: Ident,
    columns: [Ident; N],
    rows: usize,
    binds: Vec<Bind>,
}

impl<const N: usize> Rows<N> {
    pub(super) fn new(table: Ident, columns: [Ident; N]) -> Self {
        Self { table, columns, rows: 0, binds: Vec::new() }
    }

    /// Adds one row, its values in column order.
    pub(super) fn push(&mut self, values: [Bind; N]) {
        self.binds.extend(values);
        self.rows += 1;
    }

    /// Inserts every row pushed.
    pub(super) fn insert(self, conn: &mut DbConn) -> Result<(), DbError> {
        let mut left = self.rows;
        let mut binds = self.binds.into_iter();
        while left > 0 {
            let chunk = chunk_size(left);
            // SQLite keeps a statement journal for a statement that writes several rows and may
            // stop half-way with its default conflict resolution (ABORT undoes the statement's
            // own rows): every page the statement first changes is copied into it, 16 KiB in
            // 1 KiB allocations. FAIL leaves the rows before the conflict, needing no journal; a
            // conflict fails the resource's import, whose transaction is then rolled back whole.
            // The France import: 120.8 -> 111.0 s (BENCHMARKS.md).
            let mut plan = SqlPlan::new(match conn {
                DbConn::Sqlite(_) => "INSERT OR FAIL INTO ",
                DbConn::Postgresql(_) => "INSERT INTO ",
            });
            plan.ident(self.table);
            plan.push(" (");
            for (i, c) in self.columns.iter().enumerate() {
                if i > 0 {
                    plan.push(", ");
                }
                plan.ident(*c);
            }
            plan.push(") VALUES ");
            for (i, value) in binds.by_ref().take(chunk * N).enumerate() {
                plan.push(match (i % N, i) {
                    (_, 0) => "(",
                    (0, _) => "), (",
                    _ => ", ",
                });
                plan.value(value);
            }
            plan.push(")");
            read::execute(conn, &plan)?;
            left -= chunk;
        }
        Ok(())
    }
}

/// The largest power of two not above `left`, at most [`MAX_CHUNK`].
fn chunk_size(left: usize) -> usize {
    let mut size = 1;
    while size * 2 <= left && size * 2 <= MAX_CHUNK {
        size *= 2;
    }
    size
}

/// A text value, or NULL.
pub(super) fn opt_text(v: Option<&str>) -> Bind {
    v.map_or(Bind::Null, |s| Bind::Text(s.to_owned()))
}

/// A text value.
pub(super) fn text(v: &str) -> Bind {
    Bind::Text(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::chunk_size;

    #[test]
    fn chunks_are_powers_of_two_that_add_up() {
        for n in 1..200 {
            let (mut left, mut parts) = (n, Vec::new());
            while left > 0 {
                let c = chunk_size(left);
                assert!(c.is_power_of_two() && c <= 32);
                parts.push(c);
                left -= c;
            }
            assert_eq!(parts.iter().sum::<usize>(), n);
            assert!(parts.len() <= n / 32 + 6, "{n}: {parts:?}");
        }
    }
}
