//! Statement text with `?` placeholders and its binds, and the helpers that keep texts to few
//! shapes (padded value lists, balanced AND/OR trees, bucketed LIMITs).

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
    pub(super) fn text(&mut self, v: impl Into<String>) {
        self.sql.push('?');
        self.binds.push(Bind::Text(v.into()));
    }

    /// Appends `other` (its text and, in order, its values).
    pub(super) fn append(&mut self, other: SqlPlan) {
        self.sql.push_str(&other.sql);
        self.binds.extend(other.binds);
    }

    pub(super) fn int(&mut self, v: i64) {
        self.sql.push('?');
        self.binds.push(Bind::BigInt(v));
    }

    /// `(?, ?, …)` of `vals`, padded by repeating the last value to the next size of
    /// [`list_bucket`], so that the statement text takes few shapes and can be prepared once.
    pub(super) fn text_list<'a>(&mut self, vals: impl IntoIterator<Item = &'a String>) {
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
pub(super) fn padded<T>(items: &[T]) -> Vec<&T> {
    let Some(last) = items.last() else { return Vec::new() };
    (0..list_bucket(items.len())).map(|i| items.get(i).unwrap_or(last)).collect()
}

/// `a OP b OP …` as a balanced tree of parenthesised pairs, so that its depth grows with the
/// logarithm of the number of terms: a left-deep chain of a thousand ORs exceeds SQLite's
/// expression-depth limit (1,000). An empty list is the neutral element of `op`.
pub(super) fn balanced<T>(p: &mut SqlPlan, items: &[&T], op: Junction, term: &dyn Fn(&mut SqlPlan, &T)) {
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
pub(super) enum Junction {
    And,
    Or,
}

impl Junction {
    pub(super) fn sql(self) -> &'static str {
        match self {
            Self::And => " AND ",
            Self::Or => " OR ",
        }
    }

    pub(super) fn neutral(self) -> &'static str {
        match self {
            Self::And => "1 = 1",
            Self::Or => "1 = 0",
        }
    }
}

/// The values of several ORed terms, padded (see [`padded`]) and joined as a balanced tree.
pub(super) fn any_of<T>(p: &mut SqlPlan, items: &[T], term: &dyn Fn(&mut SqlPlan, &T)) {
    balanced(p, &padded(items), Junction::Or, term);
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
pub(super) fn limit_clause(p: &mut SqlPlan, limit: usize) {
    p.sql.push_str(&format!(" LIMIT {}", limit_bucket(limit)));
}
