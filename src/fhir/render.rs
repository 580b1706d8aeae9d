//! Write-time rendering: the JSON served for each stored resource is produced once, when the
//! data is imported, so a request only copies bytes.

use serde_json::{Map, Value, json};

use super::codes::{self, CapacityCode};
use super::extract::CapacityRecord;
use super::figures::Facts;
use crate::base::instant::format_instant;

/// Sets `meta.lastUpdated` to `stamp` (creating `meta` if needed, keeping `resourceType`/`id` first).
fn with_last_updated(base: &Map<String, Value>, stamp: &str) -> Map<String, Value> {
    let mut out = Map::with_capacity(base.len() + 1);
    let mut meta_done = false;
    let stamp = Value::String(stamp.to_owned());
    for (k, v) in base {
        if k == "meta" {
            let mut meta = Map::new();
            meta.insert("lastUpdated".to_owned(), stamp.clone());
            if let Value::Object(m) = v {
                for (mk, mv) in m {
                    if mk != "lastUpdated" && mk != "versionId" {
                        meta.insert(mk.clone(), mv.clone());
                    }
                }
            }
            out.insert(k.clone(), Value::Object(meta));
            meta_done = true;
        } else {
            out.insert(k.clone(), v.clone());
        }
        if !meta_done && k == "id" && !base.contains_key("meta") {
            out.insert("meta".to_owned(), json!({ "lastUpdated": stamp }));
            meta_done = true;
        }
    }
    if !meta_done {
        out.insert("meta".to_owned(), json!({ "lastUpdated": stamp }));
    }
    out
}

/// The JSON of a resource without capacity (HealthcareService, Organization).
pub fn resource(base: &Map<String, Value>, last_updated_us: i64) -> String {
    Value::Object(with_last_updated(base, &format_instant(last_updated_us))).to_string()
}

/// The JSON of a Location: its base plus the given capacity extensions (appended to `extension`).
pub fn location<'a>(
    base: &Map<String, Value>,
    capacity_extensions: impl IntoIterator<Item = &'a str>,
    last_updated_us: i64,
) -> String {
    location_stamped(base, capacity_extensions, &format_instant(last_updated_us))
}

fn location_stamped<'a>(
    base: &Map<String, Value>,
    capacity_extensions: impl IntoIterator<Item = &'a str>,
    stamp: &str,
) -> String {
    let mut out = with_last_updated(base, stamp);
    let caps: Vec<Value> =
        capacity_extensions.into_iter().filter_map(|s| serde_json::from_str::<Value>(s).ok()).collect();
    if !caps.is_empty() {
        match out.get_mut("extension") {
            Some(Value::Array(exts)) => exts.extend(caps),
            _ => {
                // Keep the FHIR element order: extension comes right after text/contained/meta.
                let mut ordered = Map::with_capacity(out.len() + 1);
                let mut inserted = false;
                for (k, v) in out {
                    let before_extension = matches!(
                        k.as_str(),
                        "resourceType" | "id" | "meta" | "implicitRules" | "language" | "text" | "contained"
                    );
                    if !inserted && !before_extension {
                        ordered.insert("extension".to_owned(), Value::Array(caps.clone()));
                        inserted = true;
                    }
                    ordered.insert(k, v);
                }
                if !inserted {
                    ordered.insert("extension".to_owned(), Value::Array(caps));
                }
                out = ordered;
            }
        }
    }
    Value::Object(out).to_string()
}

/// A Location's JSON split around the place of its capacity figures, without its
/// `meta.lastUpdated` value: what a consumer sees of both depends on its access profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationParts {
    /// Everything before the first figure.
    pub head: String,
    /// Everything after the last figure.
    pub tail: String,
    /// With no figure: keep this many bytes of `head`…
    pub empty_head_len: usize,
    /// …and drop this many bytes from the start of `tail`.
    pub empty_tail_skip: usize,
    /// Where the `meta.lastUpdated` value goes, as an offset into `head` followed by `tail`.
    pub last_updated_at: usize,
}

const FIGURES_MARK: &str = "\"__ror_capacity_figures__\"";
const LAST_UPDATED_MARK: &str = "__ror_last_updated_9f3c__";

/// Splits a Location around its capacity figures and its `meta.lastUpdated` value (render once,
/// compose per consumer).
pub fn location_parts(base: &Map<String, Value>) -> LocationParts {
    // The value's place is where a marker stands; should the resource itself hold that marker, it
    // is where two renderings that differ only by the value part ways.
    let marked = location_stamped(base, [FIGURES_MARK], LAST_UPDATED_MARK);
    let (text, lu_at) = match (marked.find(LAST_UPDATED_MARK), marked.matches(LAST_UPDATED_MARK).count()) {
        (Some(at), 1) => (marked.replacen(LAST_UPDATED_MARK, "", 1), at),
        _ => {
            let text = location_stamped(base, [FIGURES_MARK], "");
            let probe = location_stamped(base, [FIGURES_MARK], "x");
            let at = text.bytes().zip(probe.bytes()).position(|(a, b)| a != b).unwrap_or(0);
            (text, at)
        }
    };
    let at = text.rfind(FIGURES_MARK).unwrap_or(text.len());
    let head = text.get(..at).unwrap_or_default().to_owned();
    let tail = text.get(at + FIGURES_MARK.len()..).unwrap_or_default().to_owned();
    let last_updated_at = if lu_at < at { lu_at } else { lu_at.saturating_sub(FIGURES_MARK.len()) };
    // Other extensions before the figures: drop the comma. The figures alone in the array: drop
    // the whole `,"extension":[` … `]`.
    let (empty_head_len, empty_tail_skip) = if head.ends_with(',') {
        (head.len() - 1, 0)
    } else {
        (head.rfind(",\"extension\":[").unwrap_or(head.len()), 1)
    };
    LocationParts { head, tail, empty_head_len, empty_tail_skip, last_updated_at }
}

impl LocationParts {
    /// The parts as [`compose_location`] takes them.
    pub fn stored(&self) -> StoredParts<'_> {
        StoredParts {
            head: &self.head,
            tail: &self.tail,
            empty_head_len: self.empty_head_len,
            empty_tail_skip: self.empty_tail_skip,
            last_updated_at: Some(self.last_updated_at),
        }
    }
}

/// The stored parts of a Location, as read back (see [`LocationParts`]).
#[derive(Debug, Clone, Copy)]
pub struct StoredParts<'a> {
    /// Everything before the first figure.
    pub head: &'a str,
    /// Everything after the last figure.
    pub tail: &'a str,
    /// With no figure: bytes of `head` kept…
    pub empty_head_len: usize,
    /// …and bytes of `tail` dropped.
    pub empty_tail_skip: usize,
    /// Where `meta.lastUpdated` goes in `head` + `tail` (`None`: already in `head`, as rows
    /// written before per-view dates were).
    pub last_updated_at: Option<usize>,
}

/// Adds `text[range]` to `out`, with `stamp` inserted at offset `at` of `text` when it falls
/// inside the range.
fn push_part<'a>(
    out: &mut Vec<&'a str>,
    text: &'a str,
    range: std::ops::Range<usize>,
    at: Option<usize>,
    stamp: &'a str,
) {
    match at.filter(|a| range.contains(a)) {
        Some(a) => {
            out.push(text.get(range.start..a).unwrap_or_default());
            out.push(stamp);
            out.push(text.get(a..range.end).unwrap_or_default());
        }
        None => out.push(text.get(range).unwrap_or_default()),
    }
}

/// The pieces of the Location JSON with `figures` (capacity extension JSON objects) in place and
/// `last_updated` as its `meta.lastUpdated`, in order, added to `out`: their concatenation is the
/// JSON ([`compose_location`]), and a writer can take them one after the other without it.
pub fn location_pieces<'a, 'p: 'a, 'f: 'a>(
    parts: &StoredParts<'p>,
    last_updated: &'a str,
    figures: impl IntoIterator<Item = &'f str>,
    out: &mut Vec<&'a str>,
) {
    let StoredParts { head, tail, empty_head_len, empty_tail_skip, last_updated_at } = *parts;
    let in_tail = last_updated_at.and_then(|a| a.checked_sub(head.len()));
    let in_head = last_updated_at.filter(|a| *a < head.len());
    let mut any = false;
    for f in figures {
        if any {
            out.push(",");
        } else {
            push_part(out, head, 0..head.len(), in_head, last_updated);
            any = true;
        }
        out.push(f);
    }
    if any {
        push_part(out, tail, 0..tail.len(), in_tail, last_updated);
    } else {
        push_part(out, head, 0..empty_head_len.min(head.len()), in_head, last_updated);
        push_part(out, tail, empty_tail_skip.min(tail.len())..tail.len(), in_tail, last_updated);
    }
}

/// The Location JSON with `figures` in place and `last_updated` as its `meta.lastUpdated`
/// ([`location_pieces`], joined).
pub fn compose_location<'f>(
    parts: &StoredParts<'_>,
    last_updated: &str,
    figures: impl IntoIterator<Item = &'f str>,
) -> String {
    let mut pieces = Vec::with_capacity(16);
    location_pieces(parts, last_updated, figures, &mut pieces);
    pieces.concat()
}

/// The identity of a capacity figure within its place: every coded element but the count, its
/// date and comment (so a figure whose count changes keeps its Observation id), hashed.
/// It says nothing of the place's other figures.
pub fn figure_key(cap: &CapacityRecord) -> String {
    let fields = [
        cap.capacity_type.as_str(),
        cap.capacity_status.as_str(),
        cap.temporality.as_str(),
        cap.temporary_assignment.as_str(),
        cap.source_type.as_str(),
        cap.gender.as_deref().unwrap_or(""),
        cap.closing_type.as_deref().unwrap_or(""),
        cap.additional_bed_type.as_deref().unwrap_or(""),
        cap.crisis_type.as_deref().unwrap_or(""),
    ];
    let digest = openssl::sha::sha256(fields.join("\u{1f}").as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Ids of the Observations of a place's figures (`{place}-cap-{figure key}`, then `-2`, `-3`… for
/// figures with the same key, in document order). An id longer than FHIR's 64 characters becomes
/// `cap-` and a hash of the place id and the figure key.
pub fn observation_ids<'a>(location_id: &str, caps: impl IntoIterator<Item = &'a CapacityRecord>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cap in caps {
        let key = figure_key(cap);
        let mut id = format!("{location_id}-cap-{key}");
        if id.len() > 64 {
            let digest = openssl::sha::sha256(format!("{location_id}\u{1f}{key}").as_bytes());
            id = format!("cap-{}", digest.iter().take(20).map(|b| format!("{b:02x}")).collect::<String>());
        }
        let base = id.clone();
        let mut n = 1;
        while out.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        out.push(id);
    }
    out
}

/// The Observation view of one capacity figure, `id`, as of `last_updated_us`: written straight
/// into its text (rendered on every read, so without building a JSON tree first).
pub fn observation(id: &str, f: &Facts<'_>, last_updated_us: i64) -> String {
    let mut o = String::with_capacity(1024);
    o.push_str(r#"{"resourceType":"Observation","id":"#);
    quoted(&mut o, id);
    o.push_str(r#","meta":{"lastUpdated":"#);
    quoted(&mut o, &format_instant(last_updated_us));
    if let Some(region) = f.region {
        o.push_str(r#","tag":[{"system":"#);
        quoted(&mut o, codes::REGION_SYSTEM);
        o.push_str(r#","code":"#);
        quoted(&mut o, region);
        if let Some(d) = codes::region_display(region) {
            o.push_str(r#","display":"#);
            quoted(&mut o, d);
        }
        o.push_str("}]");
    }
    o.push_str(r#"},"status":"final","code":{"coding":["#);
    coding_text(&mut o, CapacityCode::Type, f.capacity_type);
    o.push(',');
    coding_text(&mut o, CapacityCode::Status, f.capacity_status);
    let type_display = CapacityCode::Type.display(f.capacity_type).unwrap_or(f.capacity_type);
    let status_display = CapacityCode::Status.display(f.capacity_status).unwrap_or(f.capacity_status);
    o.push_str(r#"],"text":"#);
    quoted(&mut o, &format!("{type_display} - {status_display}"));
    o.push_str(r#"},"subject":{"reference":"#);
    quoted(&mut o, &format!("Location/{}", f.location_id));
    o.push_str(r#"},"effectiveDateTime":"#);
    quoted(&mut o, f.update_date);
    o.push_str(&format!(r#","valueInteger":{},"component":["#, f.nb_capacity));
    component(&mut o, "temporalityCapacity", CapacityCode::Temporality, f.temporality);
    if let Some(g) = f.gender {
        o.push(',');
        component(&mut o, "genderCapacityAvailable", CapacityCode::Gender, g);
    }
    o.push_str("]}");
    o
}

/// `s` as a JSON string, escaped as serde_json escapes it (which changes only quotes, backslashes
/// and control characters: most strings here, URLs, codes and displays, are copied as they are).
fn quoted(out: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&Value::from(s).to_string());
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// A coding of `kind` as text, with its display when the code has one.
fn coding_text(out: &mut String, kind: CapacityCode, code: &str) {
    out.push_str(r#"{"system":"#);
    quoted(out, kind.system());
    out.push_str(r#","code":"#);
    quoted(out, code);
    if let Some(display) = kind.display(code) {
        out.push_str(r#","display":"#);
        quoted(out, display);
    }
    out.push('}');
}

/// An Observation component: its code's text and one coding of `kind`.
fn component(out: &mut String, text: &str, kind: CapacityCode, code: &str) {
    out.push_str(r#"{"code":{"text":"#);
    quoted(out, text);
    out.push_str(r#"},"valueCodeableConcept":{"coding":["#);
    coding_text(out, kind, code);
    out.push_str("]}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_are_written_as_their_tree_would_print() {
        let coding = |kind: CapacityCode, code: &str| {
            let mut c = json!({ "system": kind.system(), "code": code });
            if let Some(d) = kind.display(code) {
                c["display"] = json!(d);
            }
            c
        };
        let full = Facts {
            location_id: "p-1",
            capacity_type: "01",
            capacity_status: "02",
            temporality: "01",
            gender: Some("1"),
            nb_capacity: 7,
            update_date: "2025-01-02T03:04:05Z",
            region: Some("27"),
        };
        let bare = Facts { gender: None, region: None, capacity_type: "x\"y", ..full };
        let odd_region = Facts { region: Some("a\"\n\u{1}é"), ..full };
        for f in [full, bare, odd_region] {
            let mut meta = json!({ "lastUpdated": format_instant(5_000_000) });
            if let Some(r) = f.region {
                let mut tag = json!({ "system": codes::REGION_SYSTEM, "code": r });
                if let Some(d) = codes::region_display(r) {
                    tag["display"] = json!(d);
                }
                meta["tag"] = json!([tag]);
            }
            let mut components = vec![json!({ "code": { "text": "temporalityCapacity" },
                "valueCodeableConcept": { "coding": [coding(CapacityCode::Temporality, f.temporality)] } })];
            if let Some(g) = f.gender {
                components.push(json!({ "code": { "text": "genderCapacityAvailable" },
                    "valueCodeableConcept": { "coding": [coding(CapacityCode::Gender, g)] } }));
            }
            let t = CapacityCode::Type.display(f.capacity_type).unwrap_or(f.capacity_type);
            let s = CapacityCode::Status.display(f.capacity_status).unwrap_or(f.capacity_status);
            let tree = json!({
                "resourceType": "Observation", "id": "o-1", "meta": meta, "status": "final",
                "code": { "coding": [coding(CapacityCode::Type, f.capacity_type),
                                     coding(CapacityCode::Status, f.capacity_status)], "text": format!("{t} - {s}") },
                "subject": { "reference": format!("Location/{}", f.location_id) },
                "effectiveDateTime": f.update_date, "valueInteger": f.nb_capacity, "component": components
            });
            assert_eq!(observation("o-1", &f, 5_000_000), tree.to_string());
        }
    }

    fn same(a: &str, b: &str) {
        let a: Value = serde_json::from_str(a).unwrap();
        let b: Value = serde_json::from_str(b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn parts_compose_to_the_rendered_location() {
        let figs = [r#"{"url":"f1"}"#, r#"{"url":"f2"}"#];
        for base in [
            json!({"resourceType": "Location", "id": "a", "extension": [{"url": "x", "valueString": "y"}], "name": "n"}),
            json!({"resourceType": "Location", "id": "a", "name": "n"}),
            json!({"resourceType": "Location", "id": "a"}),
        ] {
            let Value::Object(m) = base else { panic!() };
            let p = location_parts(&m);
            let stored = p.stored();
            let lu = 1_700_000_000_000_000;
            let c = |f: &[&str]| compose_location(&stored, &format_instant(lu), f.iter().copied());
            same(&c(&figs), &location(&m, figs, lu));
            same(&c(&figs[..1]), &location(&m, figs[..1].iter().copied(), lu));
            same(&c(&[]), &resource(&m, lu));
        }
    }

    #[test]
    fn last_updated_goes_where_meta_is() {
        // meta after the figures (in the tail), and a narrative that mentions lastUpdated first.
        let base = json!({"resourceType": "Location", "id": "a", "text": {"div": "\"lastUpdated\":\"\""},
            "extension": [{"url": "x"}], "name": "n", "meta": {"profile": ["p"]}});
        let Value::Object(m) = base else { panic!() };
        let p = location_parts(&m);
        assert!(p.last_updated_at > p.head.len(), "{p:?}");
        let stored = p.stored();
        for figs in [vec![], vec![r#"{"url":"f"}"#]] {
            same(&compose_location(&stored, &format_instant(0), figs.iter().copied()), &location(&m, figs.clone(), 0));
        }
    }

    #[test]
    fn a_resource_holding_the_marker_still_splits_right() {
        let base = json!({"resourceType": "Location", "id": "a", "name": LAST_UPDATED_MARK,
            "extension": [{"url": "x"}]});
        let Value::Object(m) = base else { panic!() };
        let p = location_parts(&m);
        same(&compose_location(&p.stored(), &format_instant(7), []), &resource(&m, 7));
    }

    fn cap(status: &str, nb: i32) -> CapacityRecord {
        CapacityRecord {
            capacity_type: "01".into(),
            capacity_status: status.into(),
            temporality: "1".into(),
            nb_capacity: nb,
            source_type: "1".into(),
            gender: None,
            update_date: String::new(),
            update_date_us: nb.into(),
            closing_type: None,
            additional_bed_type: None,
            crisis_type: None,
            temporary_assignment: "01".into(),
            comment: None,
            extension_json: format!("{status}{nb}"),
        }
    }

    #[test]
    fn observation_ids_follow_the_figure_not_its_position() {
        let (a, b, c) = (cap("01", 3), cap("06", 1), cap("02", 7));
        let all = observation_ids("L1", [&a, &b, &c]);
        let without_b = observation_ids("L1", [&a, &c]);
        assert_eq!(without_b, vec![all[0].clone(), all[2].clone()]);
        // A new count keeps the id; a same-key figure gets a suffix.
        assert_eq!(observation_ids("L1", [&cap("01", 9)]), vec![all[0].clone()]);
        let twice = observation_ids("L1", [&a, &cap("01", 4)]);
        assert_eq!(twice, vec![all[0].clone(), format!("{}-2", all[0])]);
        assert!(all[0].starts_with("L1-cap-") && all[0].len() == "L1-cap-".len() + 12);
        let long = observation_ids(&"x".repeat(60), [&a]);
        assert!(long[0].starts_with("cap-") && long[0].len() <= 64, "{long:?}");
    }
}
