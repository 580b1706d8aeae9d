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

/// `parts` joined, as one JSON string (quoted, escaped as JSON requires). Written here rather
/// than by serde_json, which needs an owned `String` of the joined text for each entry's `fullUrl`.
fn json_str_of(out: &mut String, parts: &[&str]) {
    out.push('"');
    for part in parts {
        push_escaped(out, part);
    }
    out.push('"');
}

/// `s` as the inside of a JSON string.
fn push_escaped(out: &mut String, s: &str) {
    let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
    if s.bytes().all(plain) {
        out.push_str(s);
        return;
    }
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if plain(b) {
            continue;
        }
        // `b` is ASCII: `i` and `i + 1` are character boundaries.
        out.push_str(&s[from..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
}

fn json_str(out: &mut String, s: &str) {
    json_str_of(out, &[s]);
}

/// A Bundle's text as it is sent: the resources' JSON moved in as they are, between pieces of one
/// envelope string (the Bundle's own fields, each entry's `fullUrl` and `search`). Joined, the
/// parts are the Bundle's JSON; sent part by part, the resources are never copied into one body.
#[derive(Debug, Default)]
pub struct Pieces {
    /// The Bundle's own text, which [`Part::Envelope`] ranges cut.
    pub envelope: String,
    /// The parts, in order.
    pub parts: Vec<Part>,
}

/// One part of [`Pieces`].
#[derive(Debug)]
pub enum Part {
    /// A range of [`Pieces::envelope`].
    Envelope(std::ops::Range<usize>),
    /// A resource's JSON.
    Resource(String),
}

impl Pieces {
    /// Length in bytes of the joined text.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| self.part(p).len()).sum()
    }

    /// Whether the joined text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text of `part`.
    pub fn part<'a>(&'a self, part: &'a Part) -> &'a str {
        match part {
            Part::Envelope(r) => &self.envelope[r.clone()],
            Part::Resource(json) => json,
        }
    }

    /// The parts joined.
    pub fn join(&self) -> String {
        let mut out = String::with_capacity(self.len());
        for p in &self.parts {
            out.push_str(self.part(p));
        }
        out
    }

    /// Ends the envelope's current part: the text written since the last part becomes one.
    fn cut(&mut self, from: &mut usize) {
        if self.envelope.len() > *from {
            self.parts.push(Part::Envelope(*from..self.envelope.len()));
            *from = self.envelope.len();
        }
    }
}

impl Searchset {
    /// Serialises the Bundle; `base` is the FHIR base URL (no trailing slash) used for `fullUrl`.
    pub fn to_json(self, base: &str) -> String {
        self.into_pieces(base).join()
    }

    /// The Bundle's text as [`Pieces`]: the entries' JSON moved in, not copied.
    pub fn into_pieces(self, base: &str) -> Pieces {
        let mut p = Pieces {
            envelope: String::with_capacity(512 + self.entries.len() * 160),
            parts: Vec::with_capacity(2 * self.entries.len() + 1),
        };
        let mut from = 0;
        let out = &mut p.envelope;
        out.push_str("{\"resourceType\":\"Bundle\",\"id\":");
        json_str(out, &self.id);
        out.push_str(",\"meta\":{\"lastUpdated\":");
        json_str(out, &self.last_updated);
        out.push_str("},\"type\":\"searchset\"");
        if let Some(total) = self.total {
            let _ = write!(out, ",\"total\":{total}");
        }
        out.push_str(",\"link\":[{\"relation\":\"self\",\"url\":");
        json_str(out, &self.self_url);
        out.push('}');
        if let Some(next) = &self.next_url {
            out.push_str(",{\"relation\":\"next\",\"url\":");
            json_str(out, next);
            out.push('}');
        }
        out.push(']');
        if !self.entries.is_empty() {
            out.push_str(",\"entry\":[");
            for (i, e) in self.entries.into_iter().enumerate() {
                entry_head(&mut p.envelope, base, &e, i > 0);
                p.cut(&mut from);
                p.parts.push(Part::Resource(e.json));
                entry_tail(&mut p.envelope, e.mode, e.distance_km);
            }
            p.envelope.push(']');
        }
        p.envelope.push('}');
        p.cut(&mut from);
        p
    }
}

/// An entry up to its resource: `{"fullUrl":…,"resource":`, after a comma when `comma`.
fn entry_head(out: &mut String, base: &str, e: &Entry, comma: bool) {
    if comma {
        out.push(',');
    }
    out.push_str("{\"fullUrl\":");
    if e.mode == SearchMode::Outcome {
        json_str_of(out, &["urn:uuid:", &e.id]);
    } else {
        json_str_of(out, &[base, "/", e.resource_type, "/", &e.id]);
    }
    out.push_str(",\"resource\":");
}

/// An entry after its resource: its `search`, and the entry's end.
fn entry_tail(out: &mut String, mode: SearchMode, distance_km: Option<f64>) {
    out.push_str(",\"search\":{");
    if let Some(km) = distance_km {
        // Metres, to the metre: the precision of the test.
        let _ = write!(
            out,
            "\"extension\":[{{\"url\":\"{LOCATION_DISTANCE}\",\"valueDistance\":{{\"value\":{},\
             \"unit\":\"m\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"m\"}}}}],",
            (km * 1000.0).round()
        );
    }
    out.push_str("\"mode\":\"");
    out.push_str(mode.as_str());
    out.push_str("\"}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_reads_them() {
        for s in ["plain", "a\"b\\c", "tab\tline\nret\r", "\u{1}\u{1f}é€", "", "\"", "x\u{7f}"] {
            let mut out = String::new();
            json_str_of(&mut out, &[s, "/", s]);
            let back: String = serde_json::from_str(&out).expect("a JSON string");
            assert_eq!(back, format!("{s}/{s}"), "{out}");
        }
    }

    #[test]
    fn the_pieces_join_to_the_bundle_with_the_resources_moved_in() {
        let entry = |id: &str| Entry {
            resource_type: "Location",
            id: id.into(),
            json: format!(r#"{{"resourceType":"Location","id":"{id}"}}"#),
            mode: SearchMode::Include,
            distance_km: None,
        };
        let set = Searchset { id: "b".into(), entries: vec![entry("1"), entry("2")], ..Searchset::default() };
        let pieces = set.clone().into_pieces("https://h/fhir");
        let resources: Vec<&str> = pieces
            .parts
            .iter()
            .filter_map(|p| if let Part::Resource(j) = p { Some(j.as_str()) } else { None })
            .collect();
        assert_eq!(resources, [set.entries[0].json.as_str(), set.entries[1].json.as_str()]);
        let v: serde_json::Value = serde_json::from_str(&pieces.join()).expect("JSON");
        assert_eq!(v["entry"][1]["fullUrl"], "https://h/fhir/Location/2");
        assert_eq!(pieces.len(), set.to_json("https://h/fhir").len());
    }

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
