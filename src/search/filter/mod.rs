//! The FHIR `_filter` search parameter: its expression tree and a parser for it.
//!
//! It is pure: `std` only, no actix, no diesel, no I/O. It never panics, and its work is bounded
//! whatever the input: the input length is capped ([`MAX_FILTER_CHARS`]), nesting is checked
//! against [`FilterLimits::max_depth`] before descending (and never goes past
//! [`MAX_DEPTH_CEILING`]), and the number of tests against [`FilterLimits::max_tests`].
//!
//! The syntax is FHIR R4's (<http://hl7.org/fhir/R4/search_filter.html>):
//!
//! ```text
//! filter        = paramExp / logExp / ("not") "(" filter ")"
//! logExp        = filter ("and" / "or" filter)+
//! paramExp      = paramPath SP compareOp SP compValue
//! compValue     = string / numberOrDate / token
//! string        = json string
//! token         = any sequence of non-whitespace characters (by Unicode rules) except "]" and ")"
//! paramPath     = paramName (("[" filter "]") "." paramPath)
//! paramName     = nameCharStart (nameChar)*
//! nameCharStart = "_" / ALPHA
//! nameChar      = "_" / "-" / DIGIT / ALPHA
//! ```
//!
//! How this parser reads it:
//!
//! - **No precedence between `and` and `or`**: the spec says "Logical expressions are evaluated left
//!   to right, with no precedence between "and" and "or". If there is ambiguity, use parentheses to
//!   be explicit." So `a eq 1 or b eq 2 and c eq 3` is `(a eq 1 or b eq 2) and c eq 3`. `not` only
//!   applies to a parenthesised filter (`not(...)`, `not (...)`), so it binds tightest. Same-kind
//!   nodes are flattened: `a and (b and c)` is one [`FilterExpr::And`] of three.
//! - **Lower case only**: the spec writes operators and `and` / `or` / `not` in lower case and says
//!   nothing of other cases, so `EQ` is an unknown operator (the message hints at the case).
//! - **Strings are JSON strings**: escapes `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX` (surrogate
//!   pairs combined), no raw control characters. The tree holds the unescaped text; a string differs
//!   from a token only in that it "can contain spaces and ')' and ']'".
//! - **Whitespace** (any Unicode whitespace, one or more) is required between the parameter, the
//!   operator and the value, and ignored at both ends. `+` is not special: the caller URL-decodes.
//! - **Paths** are names joined by `.` for chains (`location.capacity-type`). Sub-filters
//!   (`identifier[system eq x].value`) and modifiers (`name:exact`) are refused.
//! - **ROR shorthand**: after `or` or `and` following a test, a bare value (no `param op`) takes the
//!   parameter and operator of that test, as the ROR documentation writes `(_id eq 140 or 141)` and
//!   `(address-postalcode eq "22" or "29")`. An operand is a bare value when it is a string, does not
//!   start like a parameter name, or is one word followed by the end, `)`, `and` or `or`.

use std::fmt;

mod parser;
#[cfg(test)]
mod tests;

use parser::Parser;

/// Longest `_filter` value accepted, in characters; a longer one is refused before parsing.
pub const MAX_FILTER_CHARS: usize = 4096;

/// Ceiling on nesting whatever [`FilterLimits::max_depth`] says: recursion stays far from any stack's end.
pub const MAX_DEPTH_CEILING: usize = 64;

/// How many characters of the input an error message quotes at most.
const QUOTE_LIMIT: usize = 40;

/// A parsed `_filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    /// All of the filters hold (two or more, none of them an `And`).
    And(Vec<FilterExpr>),
    /// One of the filters holds (two or more, none of them an `Or`).
    Or(Vec<FilterExpr>),
    /// The filter does not hold (`not(...)`).
    Not(Box<FilterExpr>),
    /// `param op value`
    Test {
        /// The parameter path, chains joined by `.` (`location.capacity-type`).
        param: String,
        /// The comparison.
        op: FilterOp,
        /// The value: a string's unescaped content, or the token as written.
        value: String,
    },
}

/// The comparison operators of `_filter` (the R4 table). All are parsed; the caller decides which
/// it supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    /// `eq`: an item in the set has an equal value.
    Eq,
    /// `ne`: an item in the set has an unequal value.
    Ne,
    /// `co`: an item in the set contains this value.
    Co,
    /// `sw`: an item in the set starts with this value.
    Sw,
    /// `ew`: an item in the set ends with this value.
    Ew,
    /// `gt`: a value in the set is greater than the given value.
    Gt,
    /// `lt`: a value in the set is less than the given value.
    Lt,
    /// `ge`: a value in the set is greater than or equal to the given value.
    Ge,
    /// `le`: a value in the set is less than or equal to the given value.
    Le,
    /// `ap`: a value in the set is approximately the same as this value.
    Ap,
    /// `sa`: the value starts after the specified value.
    Sa,
    /// `eb`: the value ends before the specified value.
    Eb,
    /// `pr`: the set is empty or not (value is `false` or `true`).
    Pr,
    /// `po`: a (implied) date period in the set overlaps with the implied period in the value.
    Po,
    /// `ss`: the value subsumes a concept in the set.
    Ss,
    /// `sb`: the value is subsumed by a concept in the set.
    Sb,
    /// `in`: one of the concepts is in the value set named by the value.
    In,
    /// `ni`: none of the concepts is in the value set named by the value.
    Ni,
    /// `re`: one of the references in the set points to the given URL.
    Re,
}

impl FilterOp {
    /// Every operator, in the order of the spec's table.
    pub const ALL: [FilterOp; 19] = {
        use FilterOp::*;
        [Eq, Ne, Co, Sw, Ew, Gt, Lt, Ge, Le, Ap, Sa, Eb, Pr, Po, Ss, Sb, In, Ni, Re]
    };

    /// The operator as written in a filter (lower case).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        // In the order of the variants (and of `ALL`), so the discriminant indexes it.
        const NAMES: [&str; 19] = [
            "eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "ap", "sa", "eb", "pr", "po", "ss", "sb", "in", "ni",
            "re",
        ];
        NAMES[self as usize]
    }

    /// The operator written `s`, lower case only (the spec gives no other case): `parse("eq")` is
    /// `Some(Eq)`, `parse("EQ")` is `None`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == s)
    }
}

/// Limits on one filter (bounding the work of a request).
#[derive(Debug, Clone, Copy)]
pub struct FilterLimits {
    /// Deepest nesting of parentheses (a `not(...)` counts as one level); 0 allows none. Values
    /// above [`MAX_DEPTH_CEILING`] act as that ceiling.
    pub max_depth: usize,
    /// Most tests (`param op value`, shorthand values included) in one filter.
    pub max_tests: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self { max_depth: 8, max_tests: 32 }
    }
}

/// Why a `_filter` value was refused: a short English sentence, fit to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// What is wrong; quotes at most about 40 characters of the input.
    pub message: String,
    /// Where, as a character (not byte) offset in the input.
    pub position: usize,
    /// Whether the filter is refused for its size (length, nesting, number of tests) rather than
    /// its syntax.
    pub too_costly: bool,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.position)
    }
}

impl std::error::Error for FilterError {}

/// Parses a `_filter` value (already URL-decoded) into its tree, within `limits`.
///
/// # Errors
///
/// A [`FilterError`] for any syntax error (see the module documentation), a sub-filter or
/// modifier, nesting deeper than `limits.max_depth`, or more than `limits.max_tests` tests.
pub fn parse_filter(input: &str, limits: FilterLimits) -> Result<FilterExpr, FilterError> {
    if input.chars().nth(MAX_FILTER_CHARS).is_some() {
        return Err(too_costly(MAX_FILTER_CHARS, format!("filter is longer than {MAX_FILTER_CHARS} characters")));
    }
    let limits = FilterLimits { max_depth: limits.max_depth.min(MAX_DEPTH_CEILING), ..limits };
    let mut parser = Parser { chars: input.chars().collect(), pos: 0, limits, tests: 0 };
    parser.skip_ws();
    if parser.peek().is_none() {
        return Err(error(0, "empty filter"));
    }
    let expr = parser.parse_chain(0)?;
    // parse_chain stops only at the end or at a `)`.
    match parser.peek() {
        None => Ok(expr),
        Some(_) => Err(error(parser.pos, "unbalanced parentheses: unexpected \")\"")),
    }
}

fn error(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { message: message.into(), position, too_costly: false }
}

/// A refusal for size.
fn too_costly(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { too_costly: true, ..error(position, message) }
}
