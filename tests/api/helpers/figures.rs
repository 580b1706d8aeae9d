//! The capacity figures of the dataset, read from its JSON: the oracle of the capacity searches
//! (what a consumer of each profile may see, independently of the server's SQL).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Dataset;

/// One capacity figure of a place, as imported.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Coded sub-extensions by url (`capacityType` → `01`).
    pub codes: BTreeMap<String, String>,
    /// `nbCapacity`.
    pub nb: i64,
    /// `capacityUpdateDate`, as written.
    pub updated: String,
}

impl Figure {
    /// The code of sub-extension `url`, if the figure has it.
    pub fn code(&self, url: &str) -> Option<&str> {
        self.codes.get(url).map(String::as_str)
    }

    /// `capacityUpdateDate` in microseconds.
    pub fn updated_us(&self) -> i64 {
        ror_capacity::search::date::parse_instant_us(&self.updated).unwrap()
    }
}

/// The figures of `place`, in document order.
pub fn figures_of(place: &Value) -> Vec<Figure> {
    place["extension"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|e| e["url"].as_str().is_some_and(|u| u.ends_with("ror-location-supported-capacity")))
        .map(|e| {
            let mut f = Figure { codes: BTreeMap::new(), nb: 0, updated: String::new() };
            for sub in e["extension"].as_array().unwrap() {
                let url = sub["url"].as_str().unwrap().to_owned();
                if let Some(code) = sub["valueCodeableConcept"]["coding"][0]["code"].as_str() {
                    f.codes.insert(url, code.to_owned());
                } else if let Some(n) = sub["valueInteger"].as_i64() {
                    f.nb = n;
                } else if let Some(d) = sub["valueDateTime"].as_str() {
                    f.updated = d.to_owned();
                }
            }
            f
        })
        .collect()
}

/// Whether a consumer of `profile` sees `f` (sensitive places aside).
pub fn profile_sees(profile: u8, f: &Figure) -> bool {
    match profile {
        5 => false,
        0 => f.code("capacityStatus") == Some("01") && f.code("temporaryAssignement") == Some("01"),
        2 | 3 => f.code("capacityStatus") != Some("06"),
        _ => true,
    }
}

impl Dataset {
    /// The places where one figure that a consumer of `profile` sees passes `test`.
    pub fn places_with_figure(&self, profile: u8, test: impl Fn(&Figure) -> bool) -> BTreeSet<String> {
        let sensitive = self.sensitive_locations();
        self.locations
            .iter()
            .filter(|(id, _)| !sensitive.contains(*id))
            .filter(|(_, l)| figures_of(l).iter().any(|f| profile_sees(profile, f) && test(f)))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Imports the place `id` of the app's dataset again with its first figure's count set to `nb`,
/// updated now (to the millisecond).
pub fn change_figure(app: &super::TestApp, id: &str, nb: i64) {
    let mut place = app.data.locations[id].clone();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let figure = place["extension"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x["url"].as_str().unwrap().ends_with("ror-location-supported-capacity"))
        .unwrap();
    for sub in figure["extension"].as_array_mut().unwrap() {
        match sub["url"].as_str().unwrap() {
            "nbCapacity" => sub["valueInteger"] = serde_json::json!(nb),
            "capacityUpdateDate" => sub["valueDateTime"] = serde_json::json!(now),
            _ => {}
        }
    }
    place["meta"]["lastUpdated"] = serde_json::json!(now);
    let file = super::scratch_dir("figure-change").join("changed.ndjson");
    std::fs::write(&file, format!("{place}\n")).unwrap();
    app.db.import(&[&file]).unwrap();
}
