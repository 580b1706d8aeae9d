//! Tests of the FHIR date search grammar.
use super::*;
use crate::base::instant::{US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND};
use chrono::{DateTime, Datelike, NaiveDate, Timelike};

const ALL_PREFIXES: [Prefix; 8] =
    [Prefix::Eq, Prefix::Ne, Prefix::Gt, Prefix::Lt, Prefix::Ge, Prefix::Le, Prefix::Sa, Prefix::Eb];

/// Oracle computed with chrono: microseconds of a UTC date and time.
fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    match NaiveDate::from_ymd_opt(y, mo, d).and_then(|date| date.and_hms_opt(h, mi, s)) {
        Some(dt) => dt.and_utc().timestamp_micros(),
        None => panic!("bad oracle date {y}-{mo}-{d}T{h}:{mi}:{s}"),
    }
}

fn day(y: i32, mo: u32, d: u32) -> i64 {
    at(y, mo, d, 0, 0, 0)
}

fn ok(raw: &str) -> DateParam {
    match parse_date_param(raw) {
        Ok(param) => param,
        Err(err) => panic!("{raw:?} should parse, got: {err}"),
    }
}

fn range(raw: &str) -> (i64, i64) {
    let r = ok(raw).range;
    (r.start_us, r.end_us)
}

fn expected_condition(prefix: Prefix, s: i64, e: i64) -> DateCondition {
    use DateCondition::{Outside, Within};
    match prefix {
        Prefix::Eq => Within { lower: Some(s), upper: Some(e) },
        Prefix::Ne => Outside { start: s, end: e },
        Prefix::Gt | Prefix::Sa => Within { lower: Some(e), upper: None },
        Prefix::Ge => Within { lower: Some(s), upper: None },
        Prefix::Lt | Prefix::Eb => Within { lower: None, upper: Some(s) },
        Prefix::Le => Within { lower: None, upper: Some(e) },
    }
}

/// (value, start, end) at every precision.
fn precision_cases() -> Vec<(&'static str, i64, i64)> {
    let minute = at(2023, 12, 31, 10, 15, 0);
    let second = at(2023, 12, 31, 10, 15, 30);
    vec![
        ("2023", day(2023, 1, 1), day(2024, 1, 1)),
        ("2023-12", day(2023, 12, 1), day(2024, 1, 1)),
        ("2023-12-31", day(2023, 12, 31), day(2024, 1, 1)),
        ("2023-12-31T10:15", minute, minute + US_PER_MINUTE),
        ("2023-12-31T10:15Z", minute, minute + US_PER_MINUTE),
        ("2023-12-31T10:15:30", second, second + US_PER_SECOND),
        ("2023-12-31T10:15:30Z", second, second + US_PER_SECOND),
        ("2023-12-31T10:15:30.5Z", second + 500_000, second + 600_000),
        ("2023-12-31T10:15:30.123", second + 123_000, second + 124_000),
        ("2023-12-31T10:15:30.123456Z", second + 123_456, second + 123_457),
        ("2023-12-31T10:15:30.123456789Z", second + 123_456, second + 123_457),
    ]
}

#[test]
fn every_prefix_at_every_precision() {
    for (value, s, e) in precision_cases() {
        let bare = ok(value);
        assert_eq!(bare.prefix, Prefix::Eq, "{value}");
        assert_eq!(bare.range, DateRange { start_us: s, end_us: e }, "{value}");
        assert_eq!(bare.condition(), expected_condition(Prefix::Eq, s, e));
        for prefix in ALL_PREFIXES {
            let raw = format!("{}{value}", prefix.as_str());
            let param = ok(&raw);
            assert_eq!(param.prefix, prefix, "{raw}");
            assert_eq!(param.range, DateRange { start_us: s, end_us: e }, "{raw}");
            assert_eq!(param.condition(), expected_condition(prefix, s, e), "{raw}");
        }
    }
}

#[test]
fn conditions_match_points_around_the_range() {
    let (s, e) = range("2023-12-31");
    let points = [s - 1, s, s + 1, e - 1, e, e + 1];
    for prefix in ALL_PREFIXES {
        let cond = ok(&format!("{}2023-12-31", prefix.as_str())).condition();
        for t in points {
            let inside = s <= t && t < e;
            let want = match prefix {
                Prefix::Eq => inside,
                Prefix::Ne => !inside,
                Prefix::Gt | Prefix::Sa => t >= e,
                Prefix::Ge => t >= s,
                Prefix::Lt | Prefix::Eb => t < s,
                Prefix::Le => t < e,
            };
            assert_eq!(cond.matches(t), want, "{prefix:?} at {}", format_instant(t));
        }
    }
}

#[test]
fn day_boundary_at_year_end() {
    assert_eq!(range("2023-12-31"), (at(2023, 12, 31, 0, 0, 0), at(2024, 1, 1, 0, 0, 0)));
    let (s, e) = range("2023-12-31");
    assert_eq!(format_instant(s), "2023-12-31T00:00:00Z");
    assert_eq!(format_instant(e), "2024-01-01T00:00:00Z");
}

#[test]
fn month_rollover() {
    assert_eq!(range("2023-12"), (day(2023, 12, 1), day(2024, 1, 1)));
    assert_eq!(range("2023-01"), (day(2023, 1, 1), day(2023, 2, 1)));
    assert_eq!(range("2023-02"), (day(2023, 2, 1), day(2023, 3, 1)));
    assert_eq!(range("2024-02"), (day(2024, 2, 1), day(2024, 3, 1)));
    // Lengths of February: 28 days in 2023 and 1900, 29 in 2024 and 2000.
    for (value, days) in [("2023-02", 28), ("2024-02", 29), ("1900-02", 28), ("2000-02", 29)] {
        let (s, e) = range(value);
        assert_eq!((e - s) / US_PER_DAY, days, "{value}");
    }
    for month in 1..=12_u32 {
        let (s, e) = range(&format!("2021-{month:02}"));
        assert_eq!(s, day(2021, month, 1));
        let next = if month == 12 { day(2022, 1, 1) } else { day(2021, month + 1, 1) };
        assert_eq!(e, next, "month {month}");
    }
}

#[test]
fn year_ranges_and_limits() {
    assert_eq!(range("2024"), (day(2024, 1, 1), day(2025, 1, 1)));
    assert_eq!(range("0001"), (day(1, 1, 1), day(2, 1, 1)));
    assert_eq!(range("9999"), (day(9999, 1, 1), day(10000, 1, 1)));
    assert_eq!(range("9999-12"), (day(9999, 12, 1), day(10000, 1, 1)));
    assert_eq!(range("9999-12-31"), (day(9999, 12, 31), day(10000, 1, 1)));
    assert_eq!(range("1969-12-31T23:59:59.999999Z").1, 0);
}

#[test]
fn leap_days() {
    assert!(parse_date_param("2024-02-29").is_ok());
    assert!(parse_date_param("2000-02-29").is_ok());
    assert_eq!(range("2024-02-29"), (day(2024, 2, 29), day(2024, 3, 1)));
    for bad in ["2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2023-02-30"] {
        assert_eq!(parse_date_param(bad), Err(DateError::OutOfRange(bad.to_owned())), "{bad}");
    }
}

#[test]
fn zones_shift_the_range_to_utc() {
    let utc = at(2023, 12, 20, 10, 0, 0);
    assert_eq!(range("2023-12-20T10:00:00Z"), (utc, utc + US_PER_SECOND));
    assert_eq!(range("2023-12-20T10:00:00+00:00"), (utc, utc + US_PER_SECOND));
    assert_eq!(range("2023-12-20T10:00:00-00:00"), (utc, utc + US_PER_SECOND));
    // +01:00 is one hour earlier in UTC.
    assert_eq!(range("2023-12-20T10:00:00+01:00"), (utc - US_PER_HOUR, utc - US_PER_HOUR + US_PER_SECOND));
    assert_eq!(range("2023-12-20T10:00+01:00"), (utc - US_PER_HOUR, utc - US_PER_HOUR + US_PER_MINUTE));
    // -05:30 is five and a half hours later.
    let later = utc + 5 * US_PER_HOUR + 30 * US_PER_MINUTE;
    assert_eq!(range("2023-12-20T10:00:00-05:30"), (later, later + US_PER_SECOND));
    // A zone can move the value across a day and a year.
    assert_eq!(range("2024-01-01T00:30:00+01:00").0, at(2023, 12, 31, 23, 30, 0));
    assert_eq!(range("2023-12-31T23:00:00-14:00").0, at(2024, 1, 1, 13, 0, 0));
    assert_eq!(range("2023-12-31T23:00:00+14:00").0, at(2023, 12, 31, 9, 0, 0));
    // A zone-less time is UTC.
    assert_eq!(range("2023-12-20T10:00:00"), range("2023-12-20T10:00:00Z"));
    assert_eq!(range("2023-12-20T10:00"), range("2023-12-20T10:00Z"));
}

#[test]
fn fraction_digits() {
    let s = at(2024, 5, 1, 8, 30, 0);
    for (fraction, offset, unit) in [
        ("1", 100_000, 100_000),
        ("12", 120_000, 10_000),
        ("123", 123_000, 1_000),
        ("1234", 123_400, 100),
        ("12345", 123_450, 10),
        ("123456", 123_456, 1),
        ("1234567", 123_456, 1),
        ("12345678", 123_456, 1),
        ("123456789", 123_456, 1),
        ("000", 0, 1_000),
        ("999999999", 999_999, 1),
    ] {
        let raw = format!("2024-05-01T08:30:00.{fraction}Z");
        assert_eq!(range(&raw), (s + offset, s + offset + unit), "{raw}");
    }
    assert_eq!(
        parse_date_param("2024-05-01T08:30:00.1234567890Z"),
        Err(DateError::Malformed("2024-05-01T08:30:00.1234567890Z".to_owned()))
    );
}

#[test]
fn malformed_values() {
    for bad in [
        "2023-1",
        "2023-1-01",
        "2023-01-1",
        "202",
        "20231",
        "2023-",
        "2023-12-",
        "2023-12-31T",
        "2023-12-31T10",
        "2023-12-31T10:",
        "2023-12-31T10:0",
        "2023-12-31T10:00:",
        "2023-12-31T10:00:0",
        "2023-12-31T10:00:00.",
        "2023-12-31T10:00.5",
        "2023-12-31T10:00:00+1",
        "2023-12-31T10:00:00+01",
        "2023-12-31T10:00:00+0100",
        "2023-12-31T10:00:00+01:0",
        "2023-12-31T10:00:00 01:00",
        "2023-12-31T10:00:00ZZ",
        "2023-12-31T10:00:00Z ",
        "2023-12-31t10:00:00Z",
        "2023-12-31T10:00:00z",
        "2023-12-31 10:00:00Z",
        "2023-12-31Z",
        "2023Z",
        "2023-12-31+01:00",
        " 2023",
        "2023 ",
        "+2023",
        "-2023",
        "12023",
        "xx2023",
        "GT2023",
        "Eq2023",
        "gt",
        "ge ",
        "gt-2023",
        "g2023",
        "e",
        "２０２３",
        "gt２０２３-01",
        "2023-12-31T10:00:00.１",
        "🙂",
        "é2023",
        "2023\u{0}",
        "2023/12/31",
        "31-12-2023",
    ] {
        assert_eq!(parse_date_param(bad), Err(DateError::Malformed(bad.to_owned())), "{bad:?}");
    }
}

#[test]
fn out_of_range_values() {
    for bad in [
        "0000",
        "0000-01-01",
        "2023-13",
        "2023-00",
        "2023-00-10",
        "2023-12-00",
        "2023-12-32",
        "2023-04-31",
        "2023-02-30",
        "2023-12-31T24:00",
        "2023-12-31T24:00:00Z",
        "2023-12-31T23:60",
        "2023-12-31T23:59:60Z",
        "2023-12-31T23:59:99",
        "2023-12-31T10:00:00+14:01",
        "2023-12-31T10:00:00-15:00",
        "2023-12-31T10:00:00+01:60",
        "gt2023-13",
    ] {
        assert_eq!(parse_date_param(bad), Err(DateError::OutOfRange(bad.to_owned())), "{bad:?}");
    }
    assert!(parse_date_param("2023-12-31T10:00:00+14:00").is_ok());
    assert!(parse_date_param("2023-12-31T10:00:00-14:00").is_ok());
    assert!(parse_date_param("2023-12-31T23:59:59.999999999Z").is_ok());
}

#[test]
fn empty_and_prefix_errors() {
    assert_eq!(parse_date_param(""), Err(DateError::Empty));
    assert_eq!(parse_date_param("ap2023"), Err(DateError::UnsupportedPrefix("ap".to_owned())));
    assert_eq!(parse_date_param("ap2023-12-31T10:00:00Z"), Err(DateError::UnsupportedPrefix("ap".to_owned())));
    assert_eq!(parse_date_param("ap"), Err(DateError::UnsupportedPrefix("ap".to_owned())));
    // Every other two-letter lowercase code but the eight prefixes is malformed.
    for a in b'a'..=b'z' {
        for b in b'a'..=b'z' {
            let code = format!("{}{}", char::from(a), char::from(b));
            let raw = format!("{code}2023");
            let result = parse_date_param(&raw);
            match ALL_PREFIXES.iter().find(|p| p.as_str() == code) {
                Some(prefix) => {
                    assert_eq!(result.map(|p| p.prefix), Ok(*prefix), "{raw}");
                }
                None if code == "ap" => {
                    assert_eq!(result, Err(DateError::UnsupportedPrefix(code)));
                }
                None => assert_eq!(result, Err(DateError::Malformed(raw.clone()))),
            }
        }
    }
}

#[test]
fn very_long_values_are_refused_quickly_and_quoted_short() {
    let long = "2".repeat(1_000_000);
    match parse_date_param(&long) {
        Err(DateError::Malformed(quoted)) => {
            assert_eq!(quoted.chars().count(), QUOTE_LIMIT + 3);
            assert!(quoted.ends_with("..."));
        }
        other => panic!("unexpected {other:?}"),
    }
    let long_multibyte = "é".repeat(100_000);
    match parse_date_param(&long_multibyte) {
        Err(DateError::Malformed(quoted)) => {
            assert_eq!(quoted, format!("{}...", "é".repeat(QUOTE_LIMIT)));
        }
        other => panic!("unexpected {other:?}"),
    }
    let padded = format!("2023-12-31T10:00:00.123456789+01:00{}", "0".repeat(10));
    assert!(matches!(parse_date_param(&padded), Err(DateError::Malformed(_))));
    assert_eq!(parse_instant_us(&long), None);
    // The longest valid value still fits the length cap.
    assert!(parse_date_param("ge2023-12-31T10:00:00.123456789+01:00").is_ok());
}

#[test]
fn error_messages_quote_the_value() {
    let malformed = DateError::Malformed("2023-1".to_owned()).to_string();
    assert!(malformed.contains("'2023-1'"), "{malformed}");
    assert!(!malformed.contains("%2B"), "{malformed}");
    let spaced = DateError::Malformed("2023-12-20T10:00:00 01:00".to_owned()).to_string();
    assert!(spaced.contains("%2B"), "{spaced}");
    let range = DateError::OutOfRange("2023-13".to_owned()).to_string();
    assert!(range.contains("'2023-13'"), "{range}");
    let prefix = DateError::UnsupportedPrefix("ap".to_owned()).to_string();
    assert!(prefix.contains("'ap'") && prefix.contains("not supported"), "{prefix}");
    assert!(DateError::Empty.to_string().contains("empty"));
    // Control characters are escaped, not written raw.
    let control = DateError::Malformed("20\n23".to_owned()).to_string();
    assert!(control.contains("20\\n23"), "{control}");
    let boxed: Box<dyn std::error::Error> = Box::new(DateError::Empty);
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn format_instant_examples() {
    assert_eq!(format_instant(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_instant(1), "1970-01-01T00:00:00.000001Z");
    assert_eq!(format_instant(-1), "1969-12-31T23:59:59.999999Z");
    assert_eq!(format_instant(at(2024, 5, 1, 8, 30, 0) + 123_000), "2024-05-01T08:30:00.123000Z");
    assert_eq!(format_instant(at(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59Z");
    assert_eq!(format_instant(day(1, 1, 1)), "0001-01-01T00:00:00Z");
    assert_eq!(format_instant(day(10000, 1, 1) - 1), "9999-12-31T23:59:59.999999Z");
    // Past year 9999, a longer year; before year 0, a sign.
    assert_eq!(format_instant(day(10000, 1, 1)), "10000-01-01T00:00:00Z");
    assert_eq!(format_instant(day(1, 1, 1) - 366 * 86_400 * 1_000_000 - 1), "-0001-12-31T23:59:59.999999Z");
    // Extremes do not panic.
    assert!(format_instant(i64::MIN).starts_with('-'));
    assert!(format_instant(i64::MAX).ends_with('Z'));
}

/// A small deterministic generator (xorshift64*), since no proptest is available.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }
}

#[test]
fn format_instant_agrees_with_chrono() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Span chrono's whole range (about +-262143 years) plus the edges of FHIR's.
    let span = 8_000_000_000_000_000_000_i64;
    let mut samples: Vec<i64> = (0..20_000).map(|_| i64::from_ne_bytes(rng.next().to_ne_bytes()) % span).collect();
    samples.extend([0, -1, 1, day(1, 1, 1), day(10000, 1, 1) - 1, day(2000, 2, 29)]);
    for d in -800_000..800_000_i64 {
        if d % 7 == 0 {
            samples.push(d * US_PER_DAY + (d % 86_400) * US_PER_SECOND);
        }
    }
    for us in samples {
        let Some(dt) = DateTime::from_timestamp_micros(us) else {
            panic!("chrono cannot represent {us}");
        };
        let formatted = format_instant(us);
        let year = dt.year();
        let year_text = if year < 0 { format!("-{:04}", year.unsigned_abs()) } else { format!("{year:04}") };
        let micros = dt.nanosecond() / 1_000;
        let fraction = if micros == 0 { String::new() } else { format!(".{micros:06}") };
        let want = format!(
            "{year_text}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        assert_eq!(formatted, want, "{us}");
    }
}

#[test]
fn parse_instant_examples() {
    assert_eq!(parse_instant_us("2023-12-20T10:00:00+01:00"), Some(at(2023, 12, 20, 9, 0, 0)));
    assert_eq!(parse_instant_us("2022-01-01T00:00:00Z"), Some(day(2022, 1, 1)));
    assert_eq!(parse_instant_us("2024-05-01T08:30:00.123Z"), Some(at(2024, 5, 1, 8, 30, 0) + 123_000));
    assert_eq!(parse_instant_us("2024-05-01T08:30:00.123456789-05:30"), Some(at(2024, 5, 1, 14, 0, 0) + 123_456));
    assert_eq!(parse_instant_us("2024"), Some(day(2024, 1, 1)));
    assert_eq!(parse_instant_us("2024-03"), Some(day(2024, 3, 1)));
    assert_eq!(parse_instant_us("2024-03-15"), Some(day(2024, 3, 15)));
    for bad in [
        "",
        "gt2024",
        "2024-05-01T08:30Z",
        "2024-05-01T08:30:00",
        "2024-05-01T08:30",
        "2024-05-01T24:00:00Z",
        "2023-02-29",
        "2024-13",
        "0000",
        "2024-05-01T08:30:00+15:00",
        "2024-05-01T08:30:00.Z",
        "2024-05-01Z",
        "not a date",
        "２０２４",
    ] {
        assert_eq!(parse_instant_us(bad), None, "{bad:?}");
    }
}

#[test]
fn format_and_parse_round_trip() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let low = day(1, 1, 1);
    let high = day(10000, 1, 1);
    let width = u64::try_from(high - low).unwrap_or(1);
    for i in 0..50_000_u64 {
        let mut us = low + i64::try_from(rng.next() % width).unwrap_or(0);
        // Also cover whole seconds, whose format has no fraction.
        if i % 3 == 0 {
            us -= us.rem_euclid(US_PER_SECOND);
        }
        let text = format_instant(us);
        assert_eq!(parse_instant_us(&text), Some(us), "{text}");
        // A formatted instant is also a valid search value starting at itself.
        let param = ok(&format!("eq{text}"));
        assert_eq!(param.range.start_us, us, "{text}");
        assert!(param.range.end_us > us);
    }
    // And the other way: text -> us -> text, for canonical texts.
    for text in ["2023-12-31T23:59:59Z", "2024-02-29T12:00:00.000001Z", "0001-01-01T00:00:00Z"] {
        assert_eq!(parse_instant_us(text).map(format_instant).as_deref(), Some(text));
    }
}

#[test]
fn every_day_of_several_years_parses_consistently() {
    for year in [1, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 9999] {
        let (mut expected_start, year_end) = range(&format!("{year:04}"));
        for month in 1..=12_u32 {
            for d in 1..=31_u32 {
                let raw = format!("{year:04}-{month:02}-{d:02}");
                let exists = NaiveDate::from_ymd_opt(year, month, d).is_some();
                match parse_date_param(&raw) {
                    Ok(param) => {
                        assert!(exists, "{raw}");
                        assert_eq!(param.range.start_us, expected_start, "{raw}");
                        assert_eq!(param.range.end_us, expected_start + US_PER_DAY);
                        assert_eq!(format_instant(expected_start).get(..10), Some(raw.as_str()));
                        expected_start += US_PER_DAY;
                    }
                    Err(err) => {
                        assert!(!exists, "{raw}: {err}");
                        assert_eq!(err, DateError::OutOfRange(raw.clone()));
                    }
                }
            }
        }
        assert_eq!(expected_start, year_end, "days of {year} should fill the year");
    }
}

#[test]
fn random_inputs_never_panic() {
    const ALPHABET: [char; 32] = [
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-', ':', 'T', 'Z', '+', '.', ' ', 'e', 'q', 'g', 't', 'l',
        'a', 'p', 's', 'b', 'n', 'z', 'é', '２', '🙂', '\u{0}',
    ];
    let seeds = ["2023-12-31T10:15:30.123456789+01:00", "ge2024-02-29T23:59Z", "eb2023-12", "ap2023"];
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut accepted = 0_u32;
    for round in 0..200_000_u32 {
        let input: String = if round % 2 == 0 {
            // Random strings over an alphabet rich in date syntax.
            let len = rng.below(45);
            (0..len).map(|_| ALPHABET.get(rng.below(ALPHABET.len())).copied().unwrap_or('0')).collect()
        } else {
            // Mutations of valid values: replace, insert or delete a few characters.
            let seed = seeds.get(rng.below(seeds.len())).copied().unwrap_or("2023");
            let mut chars: Vec<char> = seed.chars().collect();
            for _ in 0..=rng.below(3) {
                let pos = rng.below(chars.len() + 1);
                let c = ALPHABET.get(rng.below(ALPHABET.len())).copied().unwrap_or('0');
                match rng.below(3) {
                    0 if pos < chars.len() => {
                        if let Some(slot) = chars.get_mut(pos) {
                            *slot = c;
                        }
                    }
                    1 if pos < chars.len() => {
                        chars.remove(pos);
                    }
                    _ => chars.insert(pos, c),
                }
            }
            chars.into_iter().collect()
        };
        match parse_date_param(&input) {
            Ok(param) => {
                accepted += 1;
                assert!(param.range.start_us < param.range.end_us, "{input:?}");
                let _ = param.condition();
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
        if let Some(us) = parse_instant_us(&input) {
            let _ = format_instant(us);
        }
    }
    // The mutations keep some values valid, so both paths were exercised.
    assert!(accepted > 1_000, "only {accepted} accepted");
}

#[test]
fn all_short_byte_strings_never_panic() {
    // Every string of up to 3 bytes drawn from a small syntax alphabet, in every position.
    let alphabet = b"09-:TZ+.ge \xff";
    let mut count = 0_u32;
    for len in 0..=3_u32 {
        let total = alphabet.len().pow(len);
        for mut n in 0..total {
            let mut bytes = Vec::new();
            for _ in 0..len {
                bytes.push(alphabet.get(n % alphabet.len()).copied().unwrap_or(b'0'));
                n /= alphabet.len();
            }
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_date_param(&text);
            let _ = parse_instant_us(&text);
            count += 1;
        }
    }
    assert!(count > 1_000);
}

#[test]
fn formatting_never_panics_and_servable_bounds_hold() {
    for us in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        assert!(!format_instant(us).is_empty());
    }
    assert_eq!(format_instant(MIN_SERVABLE_US), "0001-01-01T00:00:00Z");
    assert_eq!(format_instant(MAX_SERVABLE_US), "9999-12-31T23:59:59.999999Z");
    assert_eq!(parse_servable_instant_us("9999-12-31T23:59:59-14:00"), None);
    assert_eq!(parse_servable_instant_us("9999-12-31T23:59:59Z"), Some(MAX_SERVABLE_US - 999_999));
}
