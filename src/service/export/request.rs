//! The kick-off of a Bulk Data export as parameters (Bulk Data Access 2.0.0): which types, since
//! when, which filters, whether the offers' places and organisations come along. Pure: no actix,
//! no diesel. What a consumer may export of it is [`super::plan`]'s.

use serde::{Deserialize, Serialize};

use crate::base::instant::parse_servable_instant_us;
use crate::fhir::ResourceType;
use crate::fhir::outcome::Issue;

/// The `includeAssociatedData` value of the ROR: with the offers, the places and organisations
/// they reference.
pub const COMPLETE_EXTRACT: &str = "_myCompleteExtract";

/// The `_outputFormat` values accepted: all mean NDJSON of FHIR resources.
const NDJSON: [&str; 3] = ["application/fhir+ndjson", "application/ndjson", "ndjson"];

/// Most `_typeFilter` queries in one kick-off (each is one walk of its type).
const MAX_TYPE_FILTERS: usize = 20;

/// A checked kick-off, as stored with its job and run (again, after a restart) later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSpec {
    /// `_type` (or the type of a type-level kick-off); `None`: every type the consumer may search.
    pub types: Option<Vec<ResourceType>>,
    /// `_since`, as sent (a FHIR instant).
    pub since: Option<String>,
    /// `_typeFilter` queries, `Type?criteria` each (one type's queries are ORed).
    pub type_filters: Vec<String>,
    /// `includeAssociatedData=_myCompleteExtract`.
    pub complete_extract: bool,
    /// What was ignored under `Prefer: handling=lenient` (written to the manifest's `error` file).
    pub ignored: Vec<String>,
}

/// The type a `Type?criteria` query is about, and its criteria (still URL-encoded).
pub fn split_filter(query: &str) -> Option<(ResourceType, &str)> {
    let (name, criteria) = query.split_once('?')?;
    Some((ResourceType::parse(name)?, criteria))
}

/// Splits one `_typeFilter` value into its queries: at each comma that starts a new `Type?` (a
/// comma inside a query's own values is part of that query).
fn filter_queries(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in value.match_indices(',') {
        let rest = &value[i + 1..];
        let starts_query = rest.split_once('?').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()) && name.as_bytes()[0].is_ascii_uppercase()
        });
        if starts_query {
            out.push(&value[start..i]);
            start = i + 1;
        }
    }
    out.push(&value[start..]);
    out.into_iter().filter(|q| !q.is_empty()).collect()
}

/// Reads the kick-off parameters `pairs` (query or `Parameters` body). `level` is the type of a
/// type-level kick-off (`Location/$export`). Under `lenient`, parameters this server does not
/// support are ignored and listed rather than refused.
pub fn parse_kickoff(
    pairs: &[(String, String)],
    level: Option<ResourceType>,
    lenient: bool,
) -> Result<ExportSpec, Vec<Issue>> {
    let mut spec = ExportSpec {
        types: level.map(|t| vec![t]),
        since: None,
        type_filters: Vec::new(),
        complete_extract: false,
        ignored: Vec::new(),
    };
    let mut issues = Vec::new();
    let mut named: Vec<ResourceType> = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "_type" => types(value, &mut named, &mut issues),
            "_since" => match parse_servable_instant_us(value) {
                Some(_) if value.contains('T') && spec.since.is_none() => spec.since = Some(value.clone()),
                Some(_) if value.contains('T') => issues.push(Issue::error("invalid", "_since may be given once")),
                _ => issues.push(Issue::error(
                    "invalid",
                    format!("_since {value:?} is not a FHIR instant (e.g. 2026-12-01T00:00:00Z)"),
                )),
            },
            "_typeFilter" => {
                for q in filter_queries(value) {
                    match split_filter(q) {
                        Some(_) => spec.type_filters.push(q.to_owned()),
                        None => issues.push(Issue::error(
                            "invalid",
                            format!("_typeFilter {q:?} is not a query `Type?criteria` on an exported type"),
                        )),
                    }
                }
            }
            "includeAssociatedData" => {
                for v in value.split(',').map(str::trim) {
                    if v == COMPLETE_EXTRACT {
                        spec.complete_extract = true;
                    } else {
                        refuse_or_ignore(&mut spec, &mut issues, lenient, &format!("includeAssociatedData={v}"));
                    }
                }
            }
            "_outputFormat" if NDJSON.contains(&value.as_str()) => {}
            "_format" => {}
            // `_elements`, `patient`, `_until`, `organizeOutputBy`, `allowPartialManifests`, any other.
            other => refuse_or_ignore(&mut spec, &mut issues, lenient, &format!("{other}={value}")),
        }
    }
    if !named.is_empty() {
        match (level, &spec.types) {
            (Some(t), _) if named != [t] => issues.push(Issue::error(
                "invalid",
                format!("a {}/$export exports {} only: _type may only name it", t.as_str(), t.as_str()),
            )),
            _ => spec.types = Some(named),
        }
    }
    check_filters(&spec, &mut issues);
    if issues.is_empty() { Ok(spec) } else { Err(issues) }
}

/// The types of one `_type` value, added to `named` once each.
fn types(value: &str, named: &mut Vec<ResourceType>, issues: &mut Vec<Issue>) {
    for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match ResourceType::parse(t) {
            Some(rt) if !named.contains(&rt) => named.push(rt),
            Some(_) => {}
            None => issues.push(Issue::error(
                "not-supported",
                format!(
                    "_type {t:?} is not exported here (Location, HealthcareService, Organization, Observation are)"
                ),
            )),
        }
    }
}

/// Refuses too many `_typeFilter` queries, and queries on types the export leaves out.
fn check_filters(spec: &ExportSpec, issues: &mut Vec<Issue>) {
    if spec.type_filters.len() > MAX_TYPE_FILTERS {
        issues.push(Issue::error("too-costly", format!("at most {MAX_TYPE_FILTERS} _typeFilter queries")));
    }
    if let Some(types) = &spec.types {
        for q in &spec.type_filters {
            if let Some((rt, _)) = split_filter(q).filter(|(rt, _)| !types.contains(rt)) {
                issues.push(Issue::error(
                    "invalid",
                    format!("_typeFilter {q:?} filters {}, which this export leaves out (_type)", rt.as_str()),
                ));
            }
        }
    }
}

fn refuse_or_ignore(spec: &mut ExportSpec, issues: &mut Vec<Issue>, lenient: bool, what: &str) {
    if lenient {
        spec.ignored.push(what.to_owned());
    } else {
        issues.push(Issue::error(
            "not-supported",
            format!(
                "{what} is not supported by this export (supported: _outputFormat=application/fhir+ndjson, _since, \
                 _type, _typeFilter, includeAssociatedData={COMPLETE_EXTRACT}); send Prefer: handling=lenient to have \
                 it ignored"
            ),
        ));
    }
}

/// The kick-off parameters of a `Parameters` resource (POST): each `parameter`'s name and its
/// string-like value.
pub fn parameters_body(body: &serde_json::Value) -> Result<Vec<(String, String)>, Issue> {
    if body["resourceType"] != "Parameters" {
        return Err(Issue::error("invalid", "a POST $export takes a Parameters resource"));
    }
    let Some(list) = body["parameter"].as_array() else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for p in list {
        let Some(name) = p["name"].as_str() else {
            return Err(Issue::error("invalid", "every Parameters.parameter needs a name"));
        };
        let value = ["valueString", "valueCode", "valueInstant", "valueDateTime", "valueUri", "valueUrl"]
            .iter()
            .find_map(|k| p[*k].as_str());
        let Some(value) = value else {
            return Err(Issue::error(
                "invalid",
                format!("parameter {name:?} needs a string, code, uri or instant value"),
            ));
        };
        out.push((name.to_owned(), value.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_ror_national_and_regional_extracts_are_understood() {
        let spec = parse_kickoff(
            &pairs(&[
                ("_outputFormat", "application/fhir+ndjson"),
                ("_type", "HealthcareService"),
                ("includeAssociatedData", "_myCompleteExtract"),
                (
                    "_typeFilter",
                    "HealthcareService?_tag=https://mos.esante.gouv.fr/NOS/TRE_R30-RegionOM/FHIR/TRE-R30-RegionOM|11",
                ),
            ]),
            None,
            false,
        )
        .unwrap();
        assert_eq!(spec.types, Some(vec![ResourceType::HealthcareService]));
        assert!(spec.complete_extract);
        assert_eq!(spec.type_filters.len(), 1);
    }

    #[test]
    fn filters_split_at_queries_not_at_their_own_commas() {
        assert_eq!(
            filter_queries("Location?_tag=52,53,HealthcareService?name=a,b,Location?status=active"),
            vec!["Location?_tag=52,53", "HealthcareService?name=a,b", "Location?status=active"]
        );
    }

    #[test]
    fn what_is_not_supported_is_refused_unless_lenient() {
        let bad = pairs(&[("_outputFormat", "text/csv"), ("_elements", "id"), ("foo", "1")]);
        assert_eq!(parse_kickoff(&bad, None, false).unwrap_err().len(), 3);
        let spec = parse_kickoff(&bad, None, true).unwrap();
        assert_eq!(spec.ignored.len(), 3);
        assert!(parse_kickoff(&pairs(&[("_since", "2026-01-01")]), None, false).is_err());
        assert!(parse_kickoff(&pairs(&[("_since", "2026-01-01T00:00:00Z")]), None, false).is_ok());
        assert!(parse_kickoff(&pairs(&[("_type", "Patient")]), None, true).is_err());
    }

    #[test]
    fn filters_must_name_exported_types() {
        let p = pairs(&[("_type", "Location"), ("_typeFilter", "HealthcareService?name=a")]);
        assert!(parse_kickoff(&p, None, false).is_err());
        let p = pairs(&[("_type", "HealthcareService")]);
        assert!(parse_kickoff(&p, Some(ResourceType::Location), false).is_err());
        let p = pairs(&[("_typeFilter", "Location?name=a")]);
        assert_eq!(parse_kickoff(&p, Some(ResourceType::Location), false).unwrap().type_filters.len(), 1);
    }
}
