//! FHIR `date` search values, as used by `_lastUpdated`.
//!
//! This module owns the grammar of one date search value (`[prefix]dateTime`), the
//! implicit range that the value's precision stands for, and the condition that a
//! resource instant must meet for each prefix (FHIR R4 search rules for `date`
//! parameters). FHIR instants themselves (their grammar and format) are `base::instant`'s,
//! re-exported here.
//!
//! It is pure: it depends on `std` and `chrono` only. No actix, no diesel, no I/O.
//! It never panics, whatever the input (empty, huge, non-ASCII).
//!
//! Accepted search value grammar (strict digit counts):
//!
//! ```text
//! value  = [prefix] date [ "T" time [zone] ]
//! prefix = "eq" | "ne" | "gt" | "lt" | "ge" | "le" | "sa" | "eb"    (no prefix = eq; "ap" is refused)
//! date   = YYYY | YYYY "-" MM | YYYY "-" MM "-" DD
//! time   = hh ":" mm [ ":" ss [ "." 1*9DIGIT ] ]                  (time needs a full date)
//! zone   = "Z" | "+" hh ":" mm | "-" hh ":" mm                    (at most 14:00)
//! ```
//!
//! A time without a zone is read as UTC: FHIR says such a value is in the server's
//! local zone, and this server's zone is UTC. Year, month and day values carry no zone
//! (FHIR forbids one there) and also stand for UTC calendar periods.
//!
//! All instants are `i64` microseconds since 1970-01-01T00:00:00Z, the precision that
//! both database backends keep. Fractions finer than a microsecond are truncated.

use std::fmt;

pub use crate::base::instant::{
    DateRange, MAX_SERVABLE_US, MIN_SERVABLE_US, format_instant, parse_instant_us, parse_servable_instant_us,
};
use crate::base::instant::{Fault, Fields, MAX_INPUT_LEN, Syntax, parse_fields};

/// How many characters of an offending value an error message quotes.
const QUOTE_LIMIT: usize = 64;

/// FHIR search prefixes. `ap` is recognised but not supported (parse returns
/// [`DateError::UnsupportedPrefix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// `eq`: the resource instant lies within the value's range (the default).
    Eq,
    /// `ne`: the resource instant lies outside the value's range.
    Ne,
    /// `gt`: the resource instant is at or after the end of the range.
    Gt,
    /// `lt`: the resource instant is before the start of the range.
    Lt,
    /// `ge`: the resource instant is at or after the start of the range.
    Ge,
    /// `le`: the resource instant is before the end of the range.
    Le,
    /// `sa` (starts after): for a point instant, the same as `gt`.
    Sa,
    /// `eb` (ends before): for a point instant, the same as `lt`.
    Eb,
}

impl Prefix {
    /// The two-letter code of the prefix, as written in a query string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
        }
    }

    fn from_code(code: [u8; 2]) -> Option<Prefix> {
        Some(match &code {
            b"eq" => Prefix::Eq,
            b"ne" => Prefix::Ne,
            b"gt" => Prefix::Gt,
            b"lt" => Prefix::Lt,
            b"ge" => Prefix::Ge,
            b"le" => Prefix::Le,
            b"sa" => Prefix::Sa,
            b"eb" => Prefix::Eb,
            _ => return None,
        })
    }
}

/// One parsed date search value: its prefix and the range its precision implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParam {
    /// The comparison asked for (`eq` when the value had no prefix).
    pub prefix: Prefix,
    /// The implicit range of the value.
    pub range: DateRange,
}

/// What a resource instant `t` (a point, microseconds) must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCondition {
    /// lower <= t (if Some) AND t < upper (if Some)
    Within {
        /// Inclusive lower bound, if any.
        lower: Option<i64>,
        /// Exclusive upper bound, if any.
        upper: Option<i64>,
    },
    /// t < start OR t >= end
    Outside {
        /// Start of the excluded range (inclusive).
        start: i64,
        /// End of the excluded range (exclusive).
        end: i64,
    },
}

impl DateCondition {
    /// Whether the resource instant `t` (microseconds since the epoch) meets the
    /// condition. Handy for in-memory filtering and for tests; SQL builders should
    /// translate the variants instead.
    #[must_use]
    pub fn matches(&self, t: i64) -> bool {
        match *self {
            DateCondition::Within { lower, upper } => lower.is_none_or(|l| l <= t) && upper.is_none_or(|u| t < u),
            DateCondition::Outside { start, end } => t < start || t >= end,
        }
    }
}

/// Why a date search value was refused. Each message quotes the offending value
/// (cut to 64 characters) and is fit to show to the client in an `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The value was empty.
    Empty,
    /// The value used a known FHIR prefix that this server does not support (`ap`);
    /// holds the prefix.
    UnsupportedPrefix(String),
    /// The value does not follow the grammar; holds the value.
    Malformed(String),
    /// The value is well formed but names no real instant (month 13, February 30,
    /// hour 24, year 0000, zone beyond 14:00...); holds the value.
    OutOfRange(String),
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Empty => write!(
                f,
                "empty date search value: expected a date such as '2024-01-31' or \
                 'ge2024-01-31T08:30:00+01:00'"
            ),
            DateError::UnsupportedPrefix(prefix) => write!(
                f,
                "date search prefix '{}' is not supported: use one of eq, ne, gt, lt, ge, le, \
                 sa, eb (or no prefix for eq)",
                prefix.escape_debug()
            ),
            DateError::Malformed(value) => {
                write!(
                    f,
                    "invalid date search value '{}': expected an optional prefix (eq, ne, gt, lt, \
                     ge, le, sa, eb) followed by YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm, \
                     YYYY-MM-DDThh:mm:ss or YYYY-MM-DDThh:mm:ss.fff, a time optionally followed \
                     by Z, +hh:mm or -hh:mm",
                    value.escape_debug()
                )?;
                if value.contains(' ') {
                    // The usual cause: an unencoded '+hh:mm' zone, which a query string
                    // decodes into a space.
                    write!(f, " (a '+' in a URL query string is read as a space: send it as %2B)")?;
                }
                Ok(())
            }
            DateError::OutOfRange(value) => write!(
                f,
                "date search value '{}' is not a valid date/time: the year must be 0001-9999, \
                 the month 01-12, the day within the month, the hour 00-23, minutes and seconds \
                 00-59, and a zone offset at most 14:00",
                value.escape_debug()
            ),
        }
    }
}

impl std::error::Error for DateError {}

/// Parse one `date` search value (`[prefix]dateTime`, see the module docs) into its
/// prefix and implicit range.
///
/// # Errors
/// [`DateError::Empty`] for `""`, [`DateError::UnsupportedPrefix`] for `ap`,
/// [`DateError::Malformed`] when the grammar is not followed, and
/// [`DateError::OutOfRange`] when a field names no real date or time.
pub fn parse_date_param(raw: &str) -> Result<DateParam, DateError> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() {
        return Err(DateError::Empty);
    }
    if bytes.len() > MAX_INPUT_LEN {
        return Err(DateError::Malformed(quote(raw)));
    }
    let (prefix, rest) = match bytes {
        [a, b, rest @ ..] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            if [*a, *b] == *b"ap" {
                return Err(DateError::UnsupportedPrefix("ap".to_owned()));
            }
            match Prefix::from_code([*a, *b]) {
                Some(prefix) => (prefix, rest),
                None => return Err(DateError::Malformed(quote(raw))),
            }
        }
        _ => (Prefix::Eq, bytes),
    };
    let range = parse_fields(rest, Syntax::Search).and_then(Fields::range).map_err(|fault| match fault {
        Fault::Malformed => DateError::Malformed(quote(raw)),
        Fault::OutOfRange => DateError::OutOfRange(quote(raw)),
    })?;
    Ok(DateParam { prefix, range })
}

impl DateParam {
    /// The condition a resource instant must meet for this value (FHIR R4 search
    /// rules for a point target against the value's range `[s, e)`).
    #[must_use]
    pub fn condition(&self) -> DateCondition {
        let DateRange { start_us: s, end_us: e } = self.range;
        match self.prefix {
            Prefix::Eq => DateCondition::Within { lower: Some(s), upper: Some(e) },
            Prefix::Ne => DateCondition::Outside { start: s, end: e },
            Prefix::Gt | Prefix::Sa => DateCondition::Within { lower: Some(e), upper: None },
            Prefix::Ge => DateCondition::Within { lower: Some(s), upper: None },
            Prefix::Lt | Prefix::Eb => DateCondition::Within { lower: None, upper: Some(s) },
            Prefix::Le => DateCondition::Within { lower: None, upper: Some(e) },
        }
    }
}

/// The value as an error quotes it: at most [`QUOTE_LIMIT`] characters.
fn quote(raw: &str) -> String {
    match raw.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}...", raw.get(..cut).unwrap_or_default()),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests;
