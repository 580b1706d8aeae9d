//! The parameters of a `MeasureReport` search (the capacity aggregates), parsed and matched. The
//! reports are few (France, 18 régions, 101 départements) and computed per consumer, so they are
//! matched here, in memory, rather than in SQL.
//!
//! Supported: `_id` and `subject:identifier` (tokens: `value`, `system|value`, `|value`; commas
//! for OR), `measure` (our Measure's canonical URL, or a reference to it), `_lastUpdated` (every
//! prefix and precision, repeatable: AND), `_count` (1 to 500, default 200: every report of a
//! consumer fits one page) and `_offset` (the position of a page, in the `next` link), `_format`.

use super::date::{DateCondition, parse_date_param};
use crate::fhir::measure_report::{Area, MEASURE_ID, MEASURE_URL};

/// The largest `_count`.
pub const MAX_COUNT: usize = 500;
/// The `_count` without one.
pub const DEFAULT_COUNT: usize = 200;

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// `_id` values (any of them), if given.
    pub ids: Option<Vec<String>>,
    /// `subject:identifier` values (any of them): system (`None`: any; `Some("")`: none) and value.
    pub subjects: Option<Vec<(Option<String>, String)>>,
    /// `_lastUpdated` conditions (all of them).
    pub last_updated: Vec<DateCondition>,
    /// Whether a `measure` value names another Measure: nothing matches.
    pub other_measure: bool,
    /// Page size.
    pub count: usize,
    /// Reports skipped before the page.
    pub offset: usize,
}

fn token(raw: &str) -> (Option<String>, String) {
    match raw.split_once('|') {
        Some((system, value)) => (Some(system.to_owned()), value.to_owned()),
        None => (None, raw.to_owned()),
    }
}

pub(super) fn number(name: &str, raw: &str, max: usize) -> Result<usize, String> {
    match raw.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{name} must be a whole number from 0 to {max}, not {raw:?}")),
    }
}

/// Whether `raw` names our Measure: its canonical URL (with or without a version), or a reference
/// `Measure/<id>` (relative, or absolute on any base).
fn is_our_measure(raw: &str) -> bool {
    let url = raw.split_once('|').map_or(raw, |(u, _)| u);
    url == MEASURE_URL || url == format!("Measure/{MEASURE_ID}") || url.ends_with(&format!("/Measure/{MEASURE_ID}"))
}

/// Parses the query's pairs (already percent-decoded). Errors are fit for an OperationOutcome.
pub fn parse(pairs: &[(String, String)]) -> Result<ReportQuery, String> {
    let mut q = ReportQuery {
        ids: None,
        subjects: None,
        last_updated: Vec::new(),
        other_measure: false,
        count: DEFAULT_COUNT,
        offset: 0,
    };
    for (name, value) in pairs {
        let values = || value.split(',').map(str::to_owned);
        match name.as_str() {
            "_id" => q.ids.get_or_insert_with(Vec::new).extend(values()),
            "subject:identifier" => q.subjects.get_or_insert_with(Vec::new).extend(values().map(|v| token(&v))),
            "measure" => q.other_measure |= !value.split(',').any(is_our_measure),
            "_lastUpdated" => {
                let p = parse_date_param(value).map_err(|e| format!("_lastUpdated: {e}"))?;
                q.last_updated.push(p.condition());
            }
            "_count" => q.count = number("_count", value, MAX_COUNT)?,
            "_offset" => q.offset = number("_offset", value, 1_000_000)?,
            "_format" => {}
            other => {
                return Err(format!(
                    "parameter {other:?} is not supported on MeasureReport (_id, subject:identifier, measure, \
                     _lastUpdated, _count, _offset are)"
                ));
            }
        }
    }
    Ok(q)
}

impl ReportQuery {
    /// Whether the report of `area`, last updated at `last_updated_us`, matches.
    pub fn matches(&self, area: &Area, last_updated_us: i64) -> bool {
        let id = area.id();
        let (system, value) = area.identifier();
        !self.other_measure
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
            && self.subjects.as_ref().is_none_or(|subjects| {
                subjects.iter().any(|(s, v)| v == value && s.as_deref().is_none_or(|s| s == system))
            })
            && self.last_updated.iter().all(|c| c.matches(last_updated_us))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::measure_report::DEPARTEMENT_SYSTEM;
    use crate::fhir::territory::departement;

    fn q(query: &str) -> Result<ReportQuery, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("pairs");
        parse(&pairs)
    }

    #[test]
    fn reports_match_by_id_subject_measure_and_instant() {
        let dep44 = Area::Departement(departement("44").expect("44"));
        let at = 1_780_000_000_000_000; // 2026-05-28
        assert!(q("").unwrap().matches(&dep44, at));
        assert!(q("_id=fr,departement-44").unwrap().matches(&dep44, at));
        assert!(!q("_id=fr").unwrap().matches(&dep44, at));
        let by_code = format!("subject:identifier={DEPARTEMENT_SYSTEM}|44");
        assert!(q(&by_code).unwrap().matches(&dep44, at));
        assert!(q("subject:identifier=44").unwrap().matches(&dep44, at));
        assert!(!q("subject:identifier=|44").unwrap().matches(&dep44, at));
        assert!(!q("subject:identifier=urn:other|44").unwrap().matches(&dep44, at));
        assert!(q(&format!("measure={MEASURE_URL}")).unwrap().matches(&dep44, at));
        assert!(q("measure=https://h/fhir/Measure/ror-capacity-totals").unwrap().matches(&dep44, at));
        assert!(!q("measure=http://hl7.org/fhir/uv/saner/Measure/Beds").unwrap().matches(&dep44, at));
        assert!(q("_lastUpdated=ge2026-05-01&_lastUpdated=lt2026-06").unwrap().matches(&dep44, at));
        assert!(!q("_lastUpdated=gt2026-05-29").unwrap().matches(&dep44, at));
    }

    #[test]
    fn anything_else_is_refused_with_its_name() {
        assert!(q("subject=Location/1").unwrap_err().contains("\"subject\""));
        assert!(q("_lastUpdated=yesterday").unwrap_err().starts_with("_lastUpdated"));
        assert!(q("_count=501").unwrap_err().contains("0 to 500"));
        assert!(q("_count=-1").is_err() && q("_offset=x").is_err());
        assert_eq!(q("_count=0&_offset=3").map(|q| (q.count, q.offset)), Ok((0, 3)));
    }
}
