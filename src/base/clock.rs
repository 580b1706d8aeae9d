//! The one reading of the wall clock that instants stored and served come from.

/// Microseconds since the Unix epoch, now (0 if the clock is before the epoch, `i64::MAX` past
/// year 294,247).
pub fn now_us() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_after_2026() {
        // 2026-01-01T00:00:00Z
        assert!(super::now_us() > 1_767_225_600_000_000);
    }
}
