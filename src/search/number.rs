//! FHIR `number` search values against integer targets (`nb-capacity`).
//!
//! A value is `[prefix]number`, prefixes `eq` (default), `ne`, `gt`, `ge`, `lt`, `le`. FHIR gives
//! a value the implicit precision of how it is written: `eq100` stands for [99.5, 100.5), `eq1e2`
//! for [50, 150), `eq2.0` for [1.95, 2.05); `ne` is the outside of that range. `gt`, `ge`, `lt`
//! and `le` compare with the exact value. The arithmetic is exact (decimal, not floating point):
//! each condition becomes an inclusive range of integers.
//!
//! Pure: no I/O, never panics.

/// What an integer must satisfy, as inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberCondition {
    /// `min <= v <= max` (a missing bound is open; `min > max` matches nothing).
    Within {
        /// Lowest value matched.
        min: Option<i64>,
        /// Highest value matched.
        max: Option<i64>,
    },
    /// `v < min || v > max` (`ne`).
    Outside {
        /// Lowest value not matched.
        min: i64,
        /// Highest value not matched.
        max: i64,
    },
}

/// Digits accepted in a value's mantissa, and the largest exponent: far beyond any count, small
/// enough for exact 128-bit arithmetic.
const MAX_DIGITS: usize = 18;
const MAX_EXPONENT: i32 = 18;

/// A decimal `m × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    m: i128,
    scale: i32,
}

fn pow10(n: i32) -> Option<i128> {
    10i128.checked_pow(u32::try_from(n).ok()?)
}

impl Decimal {
    fn parse(s: &str) -> Result<Self, String> {
        let (mantissa, exponent) = match s.find(['e', 'E']) {
            Some(i) => {
                let e: i32 = s[i + 1..].parse().map_err(|_| format!("{s:?} is not a number"))?;
                if e.abs() > MAX_EXPONENT {
                    return Err(format!("{s:?}: the exponent is out of the supported range"));
                }
                (&s[..i], e)
            }
            None => (s, 0),
        };
        let (negative, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) || (digits.contains('.') && frac.is_empty()) {
            return Err(format!("{s:?} is not a number"));
        }
        let significant = format!("{int}{frac}");
        let significant = significant.trim_start_matches('0');
        if significant.len() > MAX_DIGITS {
            return Err(format!("{s:?} has more than {MAX_DIGITS} significant digits"));
        }
        let m: i128 = if significant.is_empty() { 0 } else { significant.parse().map_err(|_| format!("{s:?}"))? };
        let scale = i32::try_from(frac.len()).map_err(|_| format!("{s:?}"))? - exponent;
        Ok(Self { m: if negative { -m } else { m }, scale })
    }

    /// The largest integer not above the value.
    fn floor(self) -> i128 {
        if self.scale <= 0 {
            // At most 18 digits times 10^19: within i128.
            return self.m * pow10(-self.scale).unwrap_or(1);
        }
        match pow10(self.scale) {
            Some(d) => self.m.div_euclid(d),
            // Smaller than 10^-20 in magnitude.
            None => -i128::from(self.m < 0),
        }
    }

    /// The smallest integer not below the value.
    fn ceil(self) -> i128 {
        -Self { m: -self.m, ..self }.floor()
    }

    /// The integers within the value's implicit range [v − ½ unit, v + ½ unit), the unit being
    /// its last written digit.
    fn implicit_range(self) -> (i128, i128) {
        // In tenths of the unit: v = 10m, the range [10m − 5, 10m + 5), scaled by 10^-(scale+1).
        let lo = Self { m: self.m * 10 - 5, scale: self.scale + 1 };
        let hi = Self { m: self.m * 10 + 5, scale: self.scale + 1 };
        (lo.ceil(), hi.ceil() - 1)
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Parses one value of a number parameter.
pub fn parse_number_param(value: &str) -> Result<NumberCondition, String> {
    let (prefix, rest) = match value.get(..2) {
        Some(p) if p.bytes().all(|b| b.is_ascii_lowercase()) => (p, &value[2..]),
        _ => ("eq", value),
    };
    if matches!(prefix, "sa" | "eb" | "ap") {
        return Err(format!("the prefix {prefix} is not supported on a number (eq, ne, gt, ge, lt, le are)"));
    }
    if !matches!(prefix, "eq" | "ne" | "gt" | "ge" | "lt" | "le") {
        return Err(format!("{:?} is not a number (with an optional prefix eq, ne, gt, ge, lt, le)", quote(value)));
    }
    let d = Decimal::parse(rest).map_err(|_| format!("{:?} is not a number", quote(value)))?;
    Ok(match prefix {
        "gt" => NumberCondition::Within { min: Some(clamp(d.floor() + 1)), max: None },
        "ge" => NumberCondition::Within { min: Some(clamp(d.ceil())), max: None },
        "lt" => NumberCondition::Within { min: None, max: Some(clamp(d.ceil() - 1)) },
        "le" => NumberCondition::Within { min: None, max: Some(clamp(d.floor())) },
        "ne" => {
            let (min, max) = d.implicit_range();
            NumberCondition::Outside { min: clamp(min), max: clamp(max) }
        }
        _ => {
            let (min, max) = d.implicit_range();
            NumberCondition::Within { min: Some(clamp(min)), max: Some(clamp(max)) }
        }
    })
}

fn quote(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(min: Option<i64>, max: Option<i64>) -> NumberCondition {
        NumberCondition::Within { min, max }
    }

    fn ok(v: &str) -> NumberCondition {
        parse_number_param(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    #[test]
    fn eq_has_the_implicit_precision_of_the_value() {
        assert_eq!(ok("3"), within(Some(3), Some(3)));
        assert_eq!(ok("eq100"), within(Some(100), Some(100)));
        assert_eq!(ok("2.0"), within(Some(2), Some(2)));
        assert_eq!(ok("2.5"), within(Some(3), Some(2)), "no integer in [2.45, 2.55)");
        assert_eq!(ok("1e2"), within(Some(50), Some(149)));
        assert_eq!(ok("1.0e2"), within(Some(95), Some(104)));
        assert_eq!(ok("1E1"), within(Some(5), Some(14)));
        assert_eq!(ok("0"), within(Some(0), Some(0)));
        assert_eq!(ok("-3"), within(Some(-3), Some(-3)));
        assert_eq!(ok("eq-0.5"), within(Some(0), Some(-1)));
        assert_eq!(ok("ne7"), NumberCondition::Outside { min: 7, max: 7 });
        assert_eq!(ok("ne1e1"), NumberCondition::Outside { min: 5, max: 14 });
    }

    #[test]
    fn comparisons_use_the_exact_value() {
        assert_eq!(ok("gt0"), within(Some(1), None));
        assert_eq!(ok("gt0.5"), within(Some(1), None));
        assert_eq!(ok("gt-0.5"), within(Some(0), None));
        assert_eq!(ok("ge2"), within(Some(2), None));
        assert_eq!(ok("ge2.00000000000000001"), within(Some(3), None));
        assert_eq!(ok("lt2.00000000000000001"), within(None, Some(2)));
        assert_eq!(ok("lt2"), within(None, Some(1)));
        assert_eq!(ok("le2.9"), within(None, Some(2)));
        assert_eq!(ok("le-2.1"), within(None, Some(-3)));
        assert_eq!(ok("gt1e18"), within(Some(1_000_000_000_000_000_001), None));
        assert_eq!(ok("lt-1e18"), within(None, Some(-1_000_000_000_000_000_001)));
    }

    #[test]
    fn malformed_values_are_refused() {
        for v in [
            "",
            "gt",
            "x",
            "1.",
            ".5",
            "1..2",
            "1e",
            "1e99",
            "sa1",
            "eb1",
            "ap1",
            "zz1",
            "1,5",
            "0x10",
            "１",
            "12345678901234567890",
            "+",
            "-",
            "e5",
            "1e+",
            "NaN",
            "inf",
        ] {
            assert!(parse_number_param(v).is_err(), "{v:?}");
        }
        assert!(parse_number_param("ap1").unwrap_err().contains("not supported"));
        assert!(ok("000000000000000000000001") == within(Some(1), Some(1)), "leading zeros are not significant");
        let tiny = format!("gt0.{}1", "0".repeat(500));
        assert_eq!(ok(&tiny), within(Some(1), None));
        assert_eq!(ok(&format!("lt-0.{}1", "0".repeat(500))), within(None, Some(-1)));
    }
}
