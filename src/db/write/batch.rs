//! Multi-row inserts: rows of one table in a few statements instead of one per row. Row counts
//! are split into power-of-two chunks so the statement texts take few shapes (and stay
//! prepared), whatever the counts.

use crate::db::ident::Ident;
use crate::db::read;
use crate::db::sql::{Bind, SqlPlan};
use crate::db::{DbConn, DbError};

/// Most rows in one statement.
const MAX_ROWS: usize = 256;

/// Most values bound in one statement (SQLite takes 32,766 and PostgreSQL 65,535).
const MAX_BINDS: usize = 4096;

/// Rows of `N` columns for one table.
pub(super) struct Rows<const N: usize> {
    table: Ident,
    columns: [Ident; N],
    rows: usize,
    binds: Vec<Bind>,
    /// About how many bytes the values pushed hold.
    bytes: usize,
}

impl<const N: usize> Rows<N> {
    pub(super) fn new(table: Ident, columns: [Ident; N]) -> Self {
        Self { table, columns, rows: 0, binds: Vec::new(), bytes: 0 }
    }

    /// Adds one row, its values in column order.
    pub(super) fn push(&mut self, values: [Bind; N]) {
        self.bytes += values.iter().map(size_of_value).sum::<usize>();
        self.binds.extend(values);
        self.rows += 1;
    }

    /// Rows pushed and not yet inserted.
    pub(super) const fn len(&self) -> usize {
        self.rows
    }

    /// About how many bytes the rows pushed and not yet inserted hold.
    pub(super) const fn bytes(&self) -> usize {
        self.bytes
    }

    /// Inserts every row pushed so far, and starts again with none (keeping the allocation).
    pub(super) fn flush(&mut self, conn: &mut DbConn) -> Result<(), DbError> {
        let mut left = std::mem::replace(&mut self.rows, 0);
        self.bytes = 0;
        let mut binds = self.binds.drain(..);
        while left > 0 {
            let chunk = chunk_size(left, N);
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

/// About how many bytes `value` holds.
fn size_of_value(value: &Bind) -> usize {
    std::mem::size_of::<Bind>()
        + match value {
            Bind::Text(s) => s.len(),
            Bind::Bytes(b) => b.len(),
            _ => 0,
        }
}

/// The largest power of two not above `left`, at most [`MAX_ROWS`] rows and [`MAX_BINDS`]
/// values of `width` columns.
fn chunk_size(left: usize, width: usize) -> usize {
    let most = MAX_ROWS.min(MAX_BINDS / width.max(1)).max(1);
    let mut size = 1;
    while size * 2 <= left && size * 2 <= most {
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

/// A number, or NULL.
pub(super) fn opt_int(v: Option<i64>) -> Bind {
    v.map_or(Bind::NullBigInt, Bind::BigInt)
}

/// A double, or NULL.
pub(super) fn opt_double(v: Option<f64>) -> Bind {
    v.map_or(Bind::NullDouble, Bind::Double)
}

/// Bytes, or NULL.
pub(super) fn opt_bytes(v: Option<&[u8]>) -> Bind {
    v.map_or(Bind::NullBytes, |b| Bind::Bytes(b.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::{MAX_BINDS, MAX_ROWS, Rows, chunk_size};
    use crate::db::ident::location_views as lv;
    use crate::db::sql::Bind;

    #[test]
    fn rows_count_the_bytes_they_hold() {
        let mut rows = Rows::new(lv::TABLE, [lv::LOCATION_ID, lv::VIEW, lv::LAST_UPDATED]);
        assert_eq!((rows.len(), rows.bytes()), (0, 0));
        rows.push([Bind::Text("x".repeat(5000)), Bind::Text("v".into()), Bind::BigInt(1)]);
        rows.push([Bind::Text("y".into()), Bind::Bytes(vec![0; 3000]), Bind::Null]);
        assert_eq!(rows.len(), 2);
        assert!(rows.bytes() >= 8002 && rows.bytes() < 8002 + 6 * 64, "{}", rows.bytes());
    }

    #[test]
    fn chunks_are_powers_of_two_that_add_up() {
        for width in [1, 2, 5, 18, 5000] {
            let most = MAX_ROWS.min(MAX_BINDS / width).max(1);
            // The largest chunk: the largest power of two within the limits.
            let top = 1usize << most.ilog2();
            for n in 1..2000 {
                let (mut left, mut parts) = (n, Vec::new());
                while left > 0 {
                    let c = chunk_size(left, width);
                    assert!(c.is_power_of_two() && c <= most, "{width} {n}: {c}");
                    parts.push(c);
                    left -= c;
                }
                assert_eq!(parts.iter().sum::<usize>(), n);
                // Full chunks, then at most one of each smaller size.
                assert!(parts.len() <= n / top + top.ilog2() as usize, "{width} {n}: {parts:?}");
            }
        }
    }
}
