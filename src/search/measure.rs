//! The parameters of a `Measure` search. The server has one Measure, ours (the capacity
//! aggregates' `ror-capacity-totals`): a client that meets its canonical URL in a report's
//! `measure` resolves it as FHIR resolves canonicals, `Measure?url=…`. Matched here, in memory.
//!
//! Supported: `_id`, `version` and `status` (tokens; `status` also as
//! `http://hl7.org/fhir/publication-status|active`), `url` (the canonical URL, exactly;
//! `url|version` also names the version); commas for OR, repeated parameters ANDed. `_count`
//! (0 to 500; 0 asks for the total alone) and `_format`.

use super::measure_report::{DEFAULT_COUNT, MAX_COUNT, number};
use crate::fhir::measure_report::{
    MEASURE_ID, MEASURE_STATUS, MEASURE_URL, MEASURE_VERSION, PUBLICATION_STATUS_SYSTEM,
};

/// A parsed search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasureQuery {
    /// Whether our Measure passes every condition.
    pub matches: bool,
    /// Page size.
    pub count: usize,
}

/// Whether one `url` value names our Measure (and, with `|version`, its version).
fn is_our_url(raw: &str) -> bool {
    match raw.split_once('|') {
        Some((url, version)) => url == MEASURE_URL && version == MEASURE_VERSION,
        None => raw == MEASURE_URL,
    }
}

/// Whether one `status` value is our Measure's: the code, with its system or without one.
fn is_our_status(raw: &str) -> bool {
    match raw.split_once('|') {
        Some((system, code)) => (system.is_empty() || system == PUBLICATION_STATUS_SYSTEM) && code == MEASURE_STATUS,
        None => raw == MEASURE_STATUS,
    }
}

/// Parses the query's pairs (already percent-decoded). Errors are fit for an OperationOutcome.
pub fn parse(pairs: &[(String, String)]) -> Result<MeasureQuery, String> {
    let mut q = MeasureQuery { matches: true, count: DEFAULT_COUNT };
    for (name, value) in pairs {
        let any = |ours: fn(&str) -> bool| value.split(',').any(ours);
        match name.as_str() {
            "_id" => q.matches &= any(|v| v == MEASURE_ID),
            "url" => q.matches &= any(is_our_url),
            "version" => q.matches &= any(|v| v == MEASURE_VERSION),
            "status" => q.matches &= any(is_our_status),
            "_count" => q.count = number("_count", value, MAX_COUNT)?,
            "_format" => {}
            other => {
                return Err(format!(
                    "parameter {other:?} is not supported on Measure (_id, url, version, status, _count are)"
                ));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(query: &str) -> Result<MeasureQuery, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("pairs");
        parse(&pairs)
    }

    fn matches(query: &str) -> bool {
        q(query).unwrap_or_else(|e| panic!("{query}: {e}")).matches
    }

    #[test]
    fn our_measure_is_found_by_its_canonical_url_id_version_and_status() {
        let url = serde_urlencoded::to_string([("url", MEASURE_URL)]).expect("encoded");
        for query in [
            "",
            url.as_str(),
            &format!("{url}%7C1"),
            &format!("url=x,{}", &url[4..]),
            "_id=ror-capacity-totals",
            "_id=other,ror-capacity-totals",
            "version=1",
            "status=active",
            "status=http://hl7.org/fhir/publication-status%7Cactive",
            "status=%7Cactive",
            &format!("{url}&_id=ror-capacity-totals&status=active&_format=json"),
        ] {
            assert!(matches(query), "{query}");
        }
    }

    #[test]
    fn any_other_value_matches_nothing() {
        let url = serde_urlencoded::to_string([("url", MEASURE_URL)]).expect("encoded");
        for query in [
            "url=http://hl7.org/fhir/uv/saner/Measure/Beds",
            &format!("{url}%7C2"),
            &format!("{url}/"),
            "url=",
            "_id=other",
            "_id=",
            "version=2",
            "status=draft",
            "status=http://example.org%7Cactive",
            // Repeated parameters are ANDed.
            &format!("{url}&_id=other"),
            "_id=ror-capacity-totals&_id=other",
        ] {
            assert!(!matches(query), "{query}");
        }
    }

    #[test]
    fn pages_and_refusals() {
        assert_eq!(q("_count=0"), Ok(MeasureQuery { matches: true, count: 0 }));
        assert_eq!(q("").map(|q| q.count), Ok(DEFAULT_COUNT));
        for query in
            ["_count=501", "_count=-1", "_count=x", "name=RorCapacityTotals", "url:below=https://x", "_sort=url"]
        {
            assert!(q(query).is_err(), "{query}");
        }
        let unknown = q("title=x").expect_err("refused");
        assert!(unknown.contains("\"title\"") && unknown.contains("url"), "{unknown}");
    }
}
