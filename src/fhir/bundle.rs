//! searchset Bundles, written as text around the stored resource JSON (no re-parsing).

use std::fmt::Write as _;

/// `Bundle.entry.search.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// Matched the search.
    Match,
    /// Added by `_include` / `_revinclude`.
    Include,
    /// An OperationOutcome about the search.
    Outcome,
}

impl SearchMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Include => "include",
            Self::Outcome => "outcome",
        }
    }
}

/// One entry: a resource as stored JSON text.
#[derive(Debug, Clone)]
pub struct Entry {
    /// FHIR type name.
    pub resource_type: &'static str,
    /// Logical id.
    pub id: String,
    /// The resource JSON (a complete object).
    pub json: String,
    /// Why it is in the Bundle.
    pub mode: SearchMode,
    /// `_sort=near`: the distance to the centre, in km (the R4 `location-distance` extension of
    /// `entry.search`).
    pub distance_km: Option<f64>,
}

/// The R4 extension that gives a Location's distance in a `near` search.
pub const LOCATION_DISTANCE: &str = "http://hl7.org/fhir/StructureDefinition/location-distance";

/// A searchset page.
#[derive(Debug, Clone, Default)]
pub struct Searchset {
    /// Bundle id.
    pub id: String,
    /// `meta.lastUpdated` of the Bundle (time of the search).
    pub last_updated: String,
    /// `total`, unless `_total=none`.
    pub total: Option<u64>,
    /// `link[self]`.
    pub self_url: String,
    /// `link[next]`.
    pub next_url: Option<String>,
    /// Entries in order.
    pub entries: Vec<Entry>,
}

fn json_str(out: &mut String, s: &str) {
    // serde_json's string escaping cannot fail for a &str.
    out.push_str(&serde_json::Value::String(s.to_owned()).to_string());
}

impl Searchset {
    /// Serialises the Bundle; `base` is the FHIR base URL (no trailing slash) used for `fullUrl`.
    pub fn to_json(&self, base: &str) -> String {
        let size: usize = self.entries.iter().map(|e| e.json.len() + 120).sum();
        let mut out = String::with_capacity(size + 512);
        out.push_str("{\"resourceType\":\"Bundle\",\"id\":");
        json_str(&mut out, &self.id);
        out.push_str(",\"meta\":{\"lastUpdated\":");
        json_str(&mut out, &self.last_updated);
        out.push_str("},\"type\":\"searchset\"");
        if let Some(total) = self.total {
            let _ = write!(out, ",\"total\":{total}");
        }
        out.push_str(",\"link\":[{\"relation\":\"self\",\"url\":");
        json_str(&mut out, &self.self_url);
        out.push('}');
        if let Some(next) = &self.next_url {
            out.push_str(",{\"relation\":\"next\",\"url\":");
            json_str(&mut out, next);
            out.push('}');
        }
        out.push(']');
        if !self.entries.is_empty() {
            out.push_str(",\"entry\":[");
            for (i, e) in self.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"fullUrl\":");
                if e.mode == SearchMode::Outcome {
                    json_str(&mut out, &format!("urn:uuid:{}", e.id));
                } else {
                    json_str(&mut out, &format!("{base}/{}/{}", e.resource_type, e.id));
                }
                out.push_str(",\"resource\":");
                out.push_str(&e.json);
                out.push_str(",\"search\":{");
                if let Some(km) = e.distance_km {
                    // Metres, to the metre: the precision of the test.
                    let _ = write!(
                        out,
                        "\"extension\":[{{\"url\":\"{LOCATION_DISTANCE}\",\"valueDistance\":{{\"value\":{},\
                         \"unit\":\"m\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"m\"}}}}],",
                        (km * 1000.0).round()
                    );
                }
                out.push_str("\"mode\":\"");
                out.push_str(e.mode.as_str());
                out.push_str("\"}}");
            }
            out.push(']');
        }
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_with_links_and_modes() {
        let b = Searchset {
            id: "b1".into(),
            last_updated: "2026-01-01T00:00:00Z".into(),
            total: Some(2),
            self_url: "http://x/fhir/Location?_count=1".into(),
            next_url: Some("http://x/fhir/Location?_cursor=\"a\"".into()),
            entries: vec![Entry {
                resource_type: "Location",
                id: "1".into(),
                json: r#"{"resourceType":"Location","id":"1"}"#.into(),
                mode: SearchMode::Match,
                distance_km: Some(1.2345),
            }],
        };
        let v: serde_json::Value = serde_json::from_str(&b.to_json("http://x/fhir")).unwrap();
        assert_eq!(v["total"], 2);
        let distance = &v["entry"][0]["search"]["extension"][0];
        assert_eq!(
            (distance["url"].as_str(), distance["valueDistance"]["value"].as_f64()),
            (Some(LOCATION_DISTANCE), Some(1235.0))
        );
        assert_eq!(v["entry"][0]["search"]["mode"], "match");
        assert_eq!(v["link"][1]["relation"], "next");
        assert_eq!(v["entry"][0]["fullUrl"], "http://x/fhir/Location/1");
        assert_eq!(v["entry"][0]["search"]["mode"], "match");
    }
}
