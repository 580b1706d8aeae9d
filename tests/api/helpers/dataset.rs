//! The generated dataset the servers are loaded with, read back as JSON so that the tests derive
//! the expected answers independently of the server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ror_capacity::generate::{GenerateOptions, generate};
use serde_json::Value;

use super::scratch_dir;

/// Size of the shared test dataset.
pub const LOCATIONS: usize = 300;
/// Seed of the shared test dataset.
pub const SEED: u64 = 7;

/// The generated resources, as JSON, by type and id.
#[derive(Debug, Default)]
pub struct Dataset {
    pub path: PathBuf,
    pub locations: BTreeMap<String, Value>,
    pub services: BTreeMap<String, Value>,
    pub organizations: BTreeMap<String, Value>,
}

impl Dataset {
    /// The resources of an NDJSON file.
    pub fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).unwrap();
        let mut d = Dataset { path: path.to_owned(), ..Default::default() };
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let id = v["id"].as_str().unwrap().to_owned();
            match v["resourceType"].as_str().unwrap() {
                "Location" => d.locations.insert(id, v),
                "HealthcareService" => d.services.insert(id, v),
                "Organization" => d.organizations.insert(id, v),
                other => panic!("unexpected {other}"),
            };
        }
        d
    }

    /// Identifier value of `resource` with TRE_R354 type `code` (Locations) or the first one.
    pub fn identifier(resource: &Value, type_code: Option<&str>) -> Option<String> {
        resource["identifier"].as_array()?.iter().find_map(|i| {
            let ok = match type_code {
                None => true,
                Some(c) => i["type"]["coding"].as_array().is_some_and(|cs| cs.iter().any(|x| x["code"] == c)),
            };
            if ok { i["value"].as_str().map(str::to_owned) } else { None }
        })
    }

    /// Ids of the offers whose `location` references `location_id`.
    pub fn services_of(&self, location_ids: &BTreeSet<String>) -> BTreeSet<String> {
        self.services
            .iter()
            .filter(|(_, s)| {
                s["location"].as_array().is_some_and(|ls| {
                    ls.iter().any(|l| {
                        l["reference"]
                            .as_str()
                            .and_then(|r| r.strip_prefix("Location/"))
                            .is_some_and(|id| location_ids.contains(id))
                    })
                })
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Ids of the places linked to a sensitive unit (their capacity is never shown).
    pub fn sensitive_locations(&self) -> BTreeSet<String> {
        self.services
            .values()
            .filter(|s| {
                s["extension"].as_array().is_some_and(|e| {
                    e.iter().any(|x| {
                        x["url"].as_str().is_some_and(|u| u.ends_with("ror-healthcareservice-sensitive-unit"))
                            && x["valueBoolean"] == true
                    })
                })
            })
            .flat_map(|s| s["location"].as_array().cloned().unwrap_or_default())
            .filter_map(|l| l["reference"].as_str().map(|r| r.trim_start_matches("Location/").to_owned()))
            .collect()
    }

    /// The region (`meta.tag`) of the first place: the regional consumer's.
    pub fn first_region(&self) -> String {
        self.locations.values().next().unwrap()["meta"]["tag"][0]["code"].as_str().unwrap().to_owned()
    }

    /// Location ids whose `meta.lastUpdated` (UTC, seconds, `Z`) satisfies `pred` on its text.
    pub fn locations_where(&self, pred: impl Fn(&Value) -> bool) -> BTreeSet<String> {
        self.locations.iter().filter(|(_, v)| pred(v)).map(|(id, _)| id.clone()).collect()
    }
}

/// The shared generated dataset.
pub fn dataset() -> &'static Arc<Dataset> {
    static DATA: OnceLock<Arc<Dataset>> = OnceLock::new();
    DATA.get_or_init(|| Arc::new(generated("dataset", LOCATIONS, SEED)))
}

/// A dataset of `locations` places generated from `seed` into a new directory named after `name`.
pub fn generated(name: &str, locations: usize, seed: u64) -> Dataset {
    let path = scratch_dir(name).join("dataset.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let opts = GenerateOptions { locations, seed, anchor_us: GenerateOptions::DEFAULT_ANCHOR_US };
    generate(&opts, &mut f).unwrap();
    drop(f);
    Dataset::load(&path)
}
