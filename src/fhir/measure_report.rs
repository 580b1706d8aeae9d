//! Capacity aggregates as FHIR `MeasureReport`s in the shape of the HL7 SANER IG's
//! `PublicHealthMeasureReport` (type `summary`, a Location subject standing for an area with its
//! code as identifier), under our `Measure` (`measure.json`, which documents the mapping of the
//! ROR statuses). Pure: the totals come in, JSON goes out.
//!
//! A report has one `group` per capacity type (TRE_R329). Its `population`s, one per status
//! (TRE_R330) the consumer may see, count the **current** figures (temporality 01 "Courant"):
//! adding a forecast to the present would mean nothing. Its one `stratifier`, by temporality
//! (TRE_R331), gives every temporality the area has figures of, each with the populations that are
//! not zero.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::codes::{CapacityCode, REGION_SYSTEM, region_display};
use super::territory::{Departement, departement};

/// The canonical URL of our Measure.
pub const MEASURE_URL: &str = "https://ror-capacity.github.io/fhir/Measure/ror-capacity-totals";
/// Its id on this server.
pub const MEASURE_ID: &str = "ror-capacity-totals";
/// Its business version (`Measure.version`).
pub const MEASURE_VERSION: &str = "1";
/// Its publication status (`Measure.status`).
pub const MEASURE_STATUS: &str = "active";
/// The publication statuses' code system.
pub const PUBLICATION_STATUS_SYSTEM: &str = "http://hl7.org/fhir/publication-status";
/// The Measure itself.
pub const MEASURE_JSON: &str = include_str!("measure.json");
/// The SANER profile the reports follow.
pub const SANER_PROFILE: &str = "http://hl7.org/fhir/uv/saner/StructureDefinition/PublicHealthMeasureReport";
/// The identifier system of France (ISO 3166).
pub const COUNTRY_SYSTEM: &str = "urn:iso:std:iso:3166";
/// The identifier system of départements (INSEE COG).
pub const DEPARTEMENT_SYSTEM: &str = "https://www.insee.fr/fr/metadonnees/cog/departement";
/// The current temporality (TRE_R331 01 "Courant"), which the groups' populations count.
pub const CURRENT: &str = "01";

/// The area a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// All of France.
    France,
    /// The places of one regional ROR (their region tag, TRE_R30).
    Region(&'static str),
    /// The places whose commune is in one département.
    Departement(&'static Departement),
}

impl Area {
    /// The report's id: `fr`, `region-52`, `departement-44`.
    pub fn id(&self) -> String {
        match self {
            Self::France => "fr".to_owned(),
            Self::Region(code) => format!("region-{code}"),
            Self::Departement(d) => format!("departement-{}", d.code),
        }
    }

    /// The area of a report id (`None` for any other text).
    pub fn of_id(id: &str) -> Option<Self> {
        if id == "fr" {
            return Some(Self::France);
        }
        if let Some(code) = id.strip_prefix("region-") {
            let (code, _) = super::codes::REGIONS.iter().find(|(c, _)| *c == code)?;
            return Some(Self::Region(code));
        }
        id.strip_prefix("departement-").and_then(departement).map(Self::Departement)
    }

    /// The subject's identifier: system and value.
    pub fn identifier(&self) -> (&'static str, &'static str) {
        match self {
            Self::France => (COUNTRY_SYSTEM, "FR"),
            Self::Region(code) => (REGION_SYSTEM, code),
            Self::Departement(d) => (DEPARTEMENT_SYSTEM, d.code),
        }
    }

    /// The area's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::France => "France",
            Self::Region(code) => region_display(code).unwrap_or(code),
            Self::Departement(d) => d.name,
        }
    }
}

/// Summed `nbCapacity` by (capacity type, status, temporality).
pub type Counts = BTreeMap<(String, String, String), i64>;

/// One report to render.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// Its area.
    pub area: Area,
    /// The visible figures' totals.
    pub counts: &'a Counts,
    /// The statuses the consumer may see (each group lists them all, zeros included).
    pub statuses: &'a [&'static str],
    /// The latest change of what the consumer sees of the area's places (µs since the epoch).
    pub last_updated_us: i64,
}

fn coding(field: CapacityCode, code: &str) -> Value {
    match field.display(code) {
        Some(display) => json!({"coding": [{"system": field.system(), "code": code, "display": display}]}),
        None => json!({"coding": [{"system": field.system(), "code": code}]}),
    }
}

fn population(status: &str, count: i64) -> Value {
    json!({"code": coding(CapacityCode::Status, status), "count": count})
}

/// The report as FHIR JSON.
pub fn render(report: &Report<'_>) -> Value {
    let instant = crate::base::instant::format_instant(report.last_updated_us);
    let (system, value) = report.area.identifier();
    let groups: Vec<Value> = CapacityCode::Type.codes().iter().map(|(kind, _)| group(report, kind)).collect();
    json!({
        "resourceType": "MeasureReport",
        "id": report.area.id(),
        "meta": {"lastUpdated": instant, "profile": [SANER_PROFILE]},
        "status": "complete",
        "type": "summary",
        "measure": MEASURE_URL,
        "subject": {"identifier": {"system": system, "value": value}, "display": report.area.name()},
        "date": instant,
        "reporter": {"display": "ror-capacity"},
        "period": {"start": instant, "end": instant},
        "group": groups,
    })
}

fn group(report: &Report<'_>, kind: &str) -> Value {
    let count = |status: &str, temporality: &str| {
        report.counts.get(&(kind.to_owned(), status.to_owned(), temporality.to_owned())).copied().unwrap_or(0)
    };
    let populations: Vec<Value> = report.statuses.iter().map(|s| population(s, count(s, CURRENT))).collect();
    let temporalities: std::collections::BTreeSet<&str> =
        report.counts.keys().filter(|(k, _, _)| k == kind).map(|(_, _, t)| t.as_str()).collect();
    // A temporality whose counts are all zero has no stratum (FHIR allows no empty array).
    let strata: Vec<Value> = temporalities
        .iter()
        .filter_map(|t| {
            let populations: Vec<Value> = report
                .counts
                .iter()
                .filter(|((k, _, tt), n)| k == kind && tt == t && **n != 0)
                .map(|((_, s, _), n)| population(s, *n))
                .collect();
            (!populations.is_empty())
                .then(|| json!({"value": coding(CapacityCode::Temporality, t), "population": populations}))
        })
        .collect();
    let mut g = json!({"code": coding(CapacityCode::Type, kind), "population": populations});
    if !strata.is_empty() {
        g["stratifier"] = json!([{"code": [{"text": "temporality"}], "stratum": strata}]);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_have_stable_ids_and_identifiers() {
        for id in ["fr", "region-52", "departement-44", "departement-2A", "departement-974"] {
            assert_eq!(Area::of_id(id).map(|a| a.id()).as_deref(), Some(id));
        }
        for id in ["", "FR", "region-99", "region-", "departement-20", "departement-44/x", "location-1"] {
            assert_eq!(Area::of_id(id), None, "{id}");
        }
        assert_eq!(Area::of_id("departement-2B").map(|a| a.identifier()), Some((DEPARTEMENT_SYSTEM, "2B")));
        assert_eq!(Area::Region("52").name(), "Pays de la Loire");
    }

    #[test]
    fn the_measure_is_ours_and_covers_every_type_and_status() {
        let m: Value = serde_json::from_str(MEASURE_JSON).expect("JSON");
        assert_eq!((m["resourceType"].as_str(), m["id"].as_str()), (Some("Measure"), Some(MEASURE_ID)));
        assert_eq!(m["url"], MEASURE_URL);
        assert_eq!((m["version"].as_str(), m["status"].as_str()), (Some(MEASURE_VERSION), Some(MEASURE_STATUS)));
        let groups = m["group"].as_array().expect("groups");
        assert_eq!(groups.len(), CapacityCode::Type.codes().len());
        for g in groups {
            for p in g["population"].as_array().expect("populations") {
                assert!(p["criteria"]["language"].is_string() && p["criteria"]["expression"].is_string(), "{p}");
                let status = p["code"]["coding"][0]["code"].as_str().expect("a status");
                assert!(CapacityCode::Status.display(status).is_some(), "{status}");
            }
        }
    }

    #[test]
    fn groups_count_the_current_figures_and_strata_each_temporality() {
        let key = |k: &str, s: &str, t: &str| (k.to_owned(), s.to_owned(), t.to_owned());
        let counts: Counts = [
            (key("01", "01", "01"), 40),
            (key("01", "02", "01"), 7),
            (key("01", "02", "03"), 9),
            (key("01", "02", "05"), 0),
        ]
        .into_iter()
        .collect();
        let statuses = ["01", "02", "03"];
        let report = Report { area: Area::France, counts: &counts, statuses: &statuses, last_updated_us: 0 };
        let v = render(&report);
        assert_eq!(v["meta"]["lastUpdated"], "1970-01-01T00:00:00Z");
        assert_eq!(v["subject"]["identifier"]["value"], "FR");
        let beds = &v["group"][0];
        assert_eq!(beds["code"]["coding"][0]["code"], "01");
        let counted: Vec<(String, i64)> = beds["population"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["code"]["coding"][0]["code"].as_str().unwrap().to_owned(), p["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(counted, [("01".to_owned(), 40), ("02".to_owned(), 7), ("03".to_owned(), 0)]);
        let strata = beds["stratifier"][0]["stratum"].as_array().unwrap();
        assert_eq!(strata.len(), 2, "no stratum for a temporality of zeros only");
        assert_eq!(strata[1]["value"]["coding"][0]["code"], "03");
        assert_eq!(strata[1]["population"][0]["count"], 9);
        // Places: no figure, zeros, no stratifier.
        let places = &v["group"][1];
        assert!(places["population"].as_array().unwrap().iter().all(|p| p["count"] == 0));
        assert!(places.get("stratifier").is_none());
    }
}
