//! Statements as typed pieces ([`SqlPlan`]), and the helpers that keep their texts to few shapes
//! (padded value lists, balanced AND/OR trees, bucketed LIMITs).

use crate::db::ident::Ident;

/// A bound value.
#[derive(Debug, Clone)]
pub enum Bind {
    /// TEXT.
    Text(String),
    /// BIGINT.
    BigInt(i64),
    /// DOUBLE PRECISION (positions).
    Double(f64),
    /// A NULL TEXT.
    Null,
    /// BOOLEAN (the import's rows).
    Bool(bool),
    /// BLOB / BYTEA (the import's rows).
    Bytes(Vec<u8>),
    /// A NULL BIGINT: PostgreSQL checks the declared type of a NULL against its column.
    NullBigInt,
    /// A NULL DOUBLE PRECISION.
    NullDouble,
    /// A NULL BLOB / BYTEA.
    NullBytes,
}

/// Values compare by their bits (a plan equals another when it binds the same values).
impl PartialEq for Bind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::BigInt(a), Self::BigInt(b)) => a == b,
            (Self::Double(a), Self::Double(b)) => a.to_bits() == b.to_bits(),
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Bytes(a), Self::Bytes(b)) => a == b,
            (Self::Null, Self::Null)
            | (Self::NullBigInt, Self::NullBigInt)
            | (Self::NullDouble, Self::NullDouble)
            | (Self::NullBytes, Self::NullBytes) => true,
            _ => false,
        }
    }
}

impl Eq for Bind {}

/// A statement made of typed pieces: static text written in the code, identifiers of
/// `schema.rs` ([`Ident`]), numbers the server computed, and bound values. Nothing else can be
/// added, so no value from a request ever becomes statement text.
///
/// Each bound value stands at a known offset of the text (shown as `?` where the text is printed
/// or used as the statement's cache key); `db::read` sends the text between them and binds the
/// values, as the backend writes its placeholders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlPlan {
    sql: String,
    holes: Vec<usize>,
    binds: Vec<Bind>,
}

impl SqlPlan {
    /// A statement starting with `text`.
    pub fn new(text: &'static str) -> Self {
        Self { sql: text.to_owned(), holes: Vec::new(), binds: Vec::new() }
    }

    /// The statement's text, `?` for each value (for printing, and its cache key).
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The bound values, in order.
    pub fn binds(&self) -> &[Bind] {
        &self.binds
    }

    /// The text before each value, with that value; then the text after the last one.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, Option<&Bind>)> {
        let mut start = 0;
        let ends = self.holes.iter().map(Some).chain(std::iter::once(None));
        ends.zip(self.binds.iter().map(Some).chain(std::iter::once(None))).map(move |(hole, bind)| {
            let end = hole.copied().unwrap_or(self.sql.len());
            let piece = self.sql.get(start..end).unwrap_or_default();
            start = end + 1;
            (piece, bind)
        })
    }

    /// `prefix` then this statement (`EXPLAIN …`).
    pub fn prefixed(&self, prefix: &'static str) -> Self {
        let mut p = Self::new(prefix);
        p.append(self.clone());
        p
    }

    /// Appends static text.
    pub fn push(&mut self, text: &'static str) {
        self.sql.push_str(text);
    }

    /// Appends a table or column name.
    pub fn ident(&mut self, name: Ident) {
        self.sql.push_str(name.as_str());
    }

    /// Appends `alias.column`.
    pub fn col(&mut self, alias: &'static str, column: Ident) {
        self.sql.push_str(alias);
        self.sql.push('.');
        self.sql.push_str(column.as_str());
    }

    /// Appends a string literal written in the code (a name the planner should see); one holding
    /// a quote is written as an empty literal, which matches nothing.
    pub fn literal(&mut self, text: &'static str) {
        self.sql.push('\'');
        if !text.contains('\'') {
            self.sql.push_str(text);
        }
        self.sql.push('\'');
    }

    /// Appends a number the server computed, as text (a `LIMIT`).
    pub fn number(&mut self, n: usize) {
        self.sql.push_str(&n.to_string());
    }

    fn bind(&mut self, value: Bind) {
        self.holes.push(self.sql.len());
        self.sql.push('?');
        self.binds.push(value);
    }

    /// Binds a text value.
    pub fn text(&mut self, v: impl Into<String>) {
        self.bind(Bind::Text(v.into()));
    }

    /// Binds a number.
    pub fn int(&mut self, v: i64) {
        self.bind(Bind::BigInt(v));
    }

    /// Binds a double.
    pub fn double(&mut self, v: f64) {
        self.bind(Bind::Double(v));
    }

    /// Binds a value as it is.
    pub fn value(&mut self, v: Bind) {
        self.bind(v);
    }

    /// Appends `other` (its text and, in order, its values).
    pub fn append(&mut self, other: SqlPlan) {
        let offset = self.sql.len();
        self.sql.push_str(&other.sql);
        self.holes.extend(other.holes.into_iter().map(|h| h + offset));
        self.binds.extend(other.binds);
    }

    /// `(?, ?, …)` of `vals`, padded by repeating the last value to the next size of
    /// [`list_bucket`], so that the statement text takes few shapes and can be prepared once.
    pub(crate) fn text_list<'a>(&mut self, vals: impl IntoIterator<Item = &'a String>) {
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
        [] => p.push(op.neutral()),
        [one] => term(p, one),
        _ => {
            let (left, right) = items.split_at(items.len() / 2);
            p.push("(");
            balanced(p, left, op, term);
            p.push(op.sql());
            balanced(p, right, op, term);
            p.push(")");
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
    p.push(" LIMIT ");
    p.number(limit_bucket(limit));
}
