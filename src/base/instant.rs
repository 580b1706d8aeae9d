//! FHIR instants: one format and one grammar for the whole server.
//!
//! All instants are `i64` microseconds since 1970-01-01T00:00:00Z, the precision that both
//! database backends keep; fractions finer than a microsecond are truncated. This module reads the
//! fields of a FHIR `date`/`dateTime` (and the search grammar's variant, for `search::date`),
//! computes the range a value's precision stands for, and writes instants back. Pure: `std` and
//! `chrono` only; never panics, whatever the input.

use chrono::{Datelike, NaiveDate};

pub(crate) const US_PER_SECOND: i64 = 1_000_000;
pub(crate) const US_PER_MINUTE: i64 = 60 * US_PER_SECOND;
pub(crate) const US_PER_HOUR: i64 = 60 * US_PER_MINUTE;
pub(crate) const US_PER_DAY: i64 = 24 * US_PER_HOUR;

/// `NaiveDate::num_days_from_ce()` of 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163; // chrono counts 0001-01-01 as day 1

/// Longest well-formed input: `"ge"` + `"YYYY-MM-DDThh:mm:ss.fffffffff+hh:mm"`.
/// Anything longer is refused before it is scanned.
pub(crate) const MAX_INPUT_LEN: usize = 2 + 35;

/// Half-open instant range `[start_us, end_us)` in microseconds since the Unix epoch
/// (UTC) implied by the value's precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First instant of the range (inclusive).
    pub start_us: i64,
    /// First instant after the range (exclusive).
    pub end_us: i64,
}

/// Format microseconds since epoch as a FHIR instant `YYYY-MM-DDThh:mm:ss[.ffffff]Z`:
/// exactly six fraction digits when the sub-second part is non-zero, none when it is
/// zero.
///
/// Never panics. Instants outside years 0000-9999 cannot be written as FHIR instants;
/// they are still printed, with a longer year and a leading `-` before year 0.
#[must_use]
pub fn format_instant(us: i64) -> String {
    let days = us.div_euclid(US_PER_DAY);
    let of_day = us.rem_euclid(US_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let seconds = of_day / US_PER_SECOND;
    let fraction = of_day % US_PER_SECOND;
    let (hour, minute, second) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    // One is written per place served, and `format!` took a sixth of the instructions of
    // composing a place (BENCHMARKS.md): the digits are written in place.
    let mut out = String::with_capacity(27);
    if year < 0 {
        out.push('-');
    }
    let year = year.unsigned_abs();
    let year_width = year.checked_ilog10().map_or(1, |d| d + 1).max(4);
    let fields = [
        (year, year_width, ""),
        (month.into(), 2, "-"),
        (day.into(), 2, "-"),
        (hour.unsigned_abs(), 2, "T"),
        (minute.unsigned_abs(), 2, ":"),
        (second.unsigned_abs(), 2, ":"),
    ];
    for (value, width, before) in fields {
        out.push_str(before);
        push_digits(&mut out, value, width);
    }
    if fraction != 0 {
        out.push('.');
        push_digits(&mut out, fraction.unsigned_abs(), 6);
    }
    out.push('Z');
    out
}

/// Writes the last `width` decimal digits of `value`, with leading zeros.
fn push_digits(out: &mut String, value: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u64.pow(place) % 10;
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

/// First instant a stored date may hold: 0001-01-01T00:00:00Z.
pub const MIN_SERVABLE_US: i64 = -(UNIX_EPOCH_DAYS_FROM_CE - 1) * US_PER_DAY;
/// Last instant a stored date may hold: 9999-12-31T23:59:59.999999Z. A later one has no FHIR
/// `instant` or HTTP-date form (`9999-12-31T23:59:59-14:00` is in year 10000 once in UTC).
pub const MAX_SERVABLE_US: i64 = 253_402_300_800 * US_PER_SECOND - 1;

/// [`parse_instant_us`], refusing instants that cannot be served back ([`MIN_SERVABLE_US`] ..=
/// [`MAX_SERVABLE_US`]): what import stores.
#[must_use]
pub fn parse_servable_instant_us(s: &str) -> Option<i64> {
    parse_instant_us(s).filter(|us| (MIN_SERVABLE_US..=MAX_SERVABLE_US).contains(us))
}

/// Parse a FHIR instant/dateTime with full time and zone (e.g.
/// `"2023-12-20T10:00:00+01:00"`, `"2022-01-01T00:00:00Z"`,
/// `"2024-05-01T08:30:00.123Z"`) into microseconds UTC. Also accepts a dateTime of
/// lower precision (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) as its start (UTC).
///
/// A time must have seconds and a zone, as FHIR `dateTime` requires; fractions of
/// 1-9 digits are accepted and truncated to microseconds. No prefix is allowed.
/// Returns `None` if the text is not such a value.
#[must_use]
pub fn parse_instant_us(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    if bytes.len() > MAX_INPUT_LEN {
        return None;
    }
    parse_fields(bytes, Syntax::DateTime).and_then(Fields::range).ok().map(|range| range.start_us)
}

/// Which of the two accepted grammars to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Search values: minutes may end a time, and the zone is optional.
    Search,
    /// FHIR `dateTime`: a time has seconds and a zone.
    DateTime,
}

/// Why the fields could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Malformed,
    OutOfRange,
}

/// The smallest unit the value was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Year,
    Month,
    Day,
    Minute,
    Second,
    /// A fraction of a second, whose last digit is worth `unit_us` microseconds.
    Fraction {
        unit_us: i64,
    },
}

/// The fields of a well-formed value, not yet checked against the calendar.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    fraction_us: i64,
    /// Signed zone offset `(sign, hours, minutes)`, `None` for no zone or `Z`.
    offset: Option<(i64, u32, u32)>,
    precision: Precision,
}

/// A forward-only reader over the bytes of a value.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Consume `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Read exactly `count` ASCII digits (count is at most 4 here, so no overflow).
    fn digits(&mut self, count: usize) -> Result<u32, Fault> {
        let mut value = 0;
        for _ in 0..count {
            match self.peek() {
                Some(byte @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(byte - b'0');
                    self.pos += 1;
                }
                _ => return Err(Fault::Malformed),
            }
        }
        Ok(value)
    }

    /// Read `sep` then exactly two digits.
    fn sep_two(&mut self, sep: u8) -> Result<u32, Fault> {
        if self.eat(sep) { self.digits(2) } else { Err(Fault::Malformed) }
    }
}

/// Read the fields of a dateTime (without prefix) according to `syntax`. Only the
/// shape is checked here; [`Fields::range`] checks the calendar.
pub(crate) fn parse_fields(bytes: &[u8], syntax: Syntax) -> Result<Fields, Fault> {
    let mut cur = Cursor { bytes, pos: 0 };
    let mut fields = Fields {
        year: cur.digits(4)?,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        fraction_us: 0,
        offset: None,
        precision: Precision::Year,
    };
    if cur.at_end() {
        return Ok(fields);
    }
    fields.month = cur.sep_two(b'-')?;
    fields.precision = Precision::Month;
    if cur.at_end() {
        return Ok(fields);
    }
    fields.day = cur.sep_two(b'-')?;
    fields.precision = Precision::Day;
    if cur.at_end() {
        return Ok(fields);
    }
    fields.hour = cur.sep_two(b'T')?;
    fields.minute = cur.sep_two(b':')?;
    fields.precision = Precision::Minute;
    if cur.peek() == Some(b':') {
        fields.second = cur.sep_two(b':')?;
        fields.precision = Precision::Second;
        if cur.eat(b'.') {
            let (fraction_us, unit_us) = read_fraction(&mut cur)?;
            fields.fraction_us = fraction_us;
            fields.precision = Precision::Fraction { unit_us };
        }
    } else if syntax == Syntax::DateTime {
        // A FHIR dateTime with a time always has seconds.
        return Err(Fault::Malformed);
    }
    match cur.peek() {
        Some(b'Z') => cur.pos += 1,
        Some(sign @ (b'+' | b'-')) => {
            cur.pos += 1;
            let hours = cur.digits(2)?;
            let minutes = cur.sep_two(b':')?;
            let sign = if sign == b'-' { -1 } else { 1 };
            fields.offset = Some((sign, hours, minutes));
        }
        // A FHIR dateTime with a time always has a zone.
        _ if syntax == Syntax::DateTime => return Err(Fault::Malformed),
        _ => {}
    }
    if cur.at_end() { Ok(fields) } else { Err(Fault::Malformed) }
}

/// Read 1-9 fraction digits after the `.`: the fraction in microseconds (extra
/// digits truncated) and the worth of the last digit kept.
fn read_fraction(cur: &mut Cursor<'_>) -> Result<(i64, i64), Fault> {
    let mut count = 0_u32;
    let mut value = 0_i64;
    while let Some(byte @ b'0'..=b'9') = cur.peek() {
        cur.pos += 1;
        count += 1;
        if count > 9 {
            return Err(Fault::Malformed);
        }
        if count <= 6 {
            value = value * 10 + i64::from(byte - b'0');
        }
    }
    if count == 0 {
        return Err(Fault::Malformed);
    }
    // Scale the kept digits (at most six) up to microseconds.
    let kept = count.min(6);
    let unit_us = 10_i64.pow(6 - kept);
    Ok((value * unit_us, unit_us))
}

impl Fields {
    /// Check the fields against the calendar and compute the implicit range in UTC.
    pub(crate) fn range(self) -> Result<DateRange, Fault> {
        if !(1..=9999).contains(&self.year) || self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err(Fault::OutOfRange);
        }
        let offset_us = match self.offset {
            None => 0,
            Some((sign, hours, minutes)) => {
                if minutes > 59 || hours > 14 || (hours == 14 && minutes > 0) {
                    return Err(Fault::OutOfRange);
                }
                sign * (i64::from(hours) * US_PER_HOUR + i64::from(minutes) * US_PER_MINUTE)
            }
        };
        let day_start = day_start_us(self.year, self.month, self.day)?;
        let start_us = day_start
            + i64::from(self.hour) * US_PER_HOUR
            + i64::from(self.minute) * US_PER_MINUTE
            + i64::from(self.second) * US_PER_SECOND
            + self.fraction_us
            - offset_us;
        // Year and month values carry no zone, so their end is a plain UTC date.
        let end_us = match self.precision {
            Precision::Year => day_start_us(self.year + 1, 1, 1)?,
            Precision::Month if self.month == 12 => day_start_us(self.year + 1, 1, 1)?,
            Precision::Month => day_start_us(self.year, self.month + 1, 1)?,
            Precision::Day => start_us + US_PER_DAY,
            Precision::Minute => start_us + US_PER_MINUTE,
            Precision::Second => start_us + US_PER_SECOND,
            Precision::Fraction { unit_us } => start_us + unit_us,
        };
        Ok(DateRange { start_us, end_us })
    }
}

/// Microseconds since the epoch of 00:00 UTC on the given day, if that day exists.
fn day_start_us(year: u32, month: u32, day: u32) -> Result<i64, Fault> {
    let year = i32::try_from(year).map_err(|_| Fault::OutOfRange)?;
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or(Fault::OutOfRange)?;
    Ok((i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE) * US_PER_DAY)
}

/// Proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
///
/// Written without chrono so that it covers every `i64` microsecond value (chrono
/// stops at year 262143). It counts in 400-year cycles of 146097 days, with years
/// starting on March 1st so that the leap day falls at the end of a year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Days from 0000-03-01 (a cycle start) to 1970-01-01.
    const SHIFT: i64 = 719_468;
    const DAYS_PER_CYCLE: i64 = 146_097;
    let shifted = days + SHIFT;
    let cycle = shifted.div_euclid(DAYS_PER_CYCLE);
    let day_of_cycle = shifted.rem_euclid(DAYS_PER_CYCLE); // 0..=146096
    // Year within the cycle: remove the leap days seen so far, then divide.
    let year_of_cycle = (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365; // 0..=399
    let day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100); // 0..=365
    // Months from March: 31 30 31 30 31 31 30 31 30 31 31 28/29, in 5-month groups of 153 days.
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // 1..=31
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = cycle * 400 + year_of_cycle + i64::from(month <= 2);
    // Both are in small ranges (1..=31, 1..=12), so the conversions cannot fail.
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}
