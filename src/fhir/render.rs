//! Write-time rendering: the JSON served for each stored resource is produced once, when the
//! data is imported, so a request only copies bytes.

use serde_json::{Map, Value, json};

use super::codes::{self, CapacityCode};
use super::extract::CapacityRecord;
use crate::search::date::format_instant;

/// Sets `meta.lastUpdated` (creating `meta` if needed, keeping `resourceType`/`id` first).
fn with_last_updated(base: &Map<String, Value>, last_updated_us: i64) -> Map<String, Value> {
    let mut out = Map::with_capacity(base.len() + 1);
    let mut meta_done = false;
    let stamp = Value::String(format_instant(last_updated_us));
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
    Value::Object(with_last_updated(base, last_updated_us)).to_string()
}

/// The JSON of a Location: its base plus the given capacity extensions (appended to `extension`).
pub fn location<'a>(
    base: &Map<String, Value>,
    capacity_extensions: impl IntoIterator<Item = &'a str>,
    last_updated_us: i64,
) -> String {
    let mut out = with_last_updated(base, last_updated_us);
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

/// A Location's JSON split around the place of its capacity figures.
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
}

const FIGURES_MARK: &str = "\"__ror_capacity_figures__\"";

/// Splits a Location around its capacity figures (render once, compose per consumer).
pub fn location_parts(base: &Map<String, Value>, last_updated_us: i64) -> LocationParts {
    let text = location(base, [FIGURES_MARK], last_updated_us);
    let at = text.rfind(FIGURES_MARK).unwrap_or(text.len());
    let head = text.get(..at).unwrap_or_default().to_owned();
    let tail = text.get(at + FIGURES_MARK.len()..).unwrap_or_default().to_owned();
    // Other extensions before the figures: drop the comma. The figures alone in the array: drop
    // the whole `,"extension":[` … `]`.
    let (empty_head_len, empty_tail_skip) = if head.ends_with(',') {
        (head.len() - 1, 0)
    } else {
        (head.rfind(",\"extension\":[").unwrap_or(head.len()), 1)
    };
    LocationParts { head, tail, empty_head_len, empty_tail_skip }
}

/// The Location JSON with `figures` (capacity extension JSON objects) in place.
pub fn compose_location<'a>(
    head: &str,
    tail: &str,
    empty_head_len: usize,
    empty_tail_skip: usize,
    figures: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut out = String::with_capacity(head.len() + tail.len() + 6 * 1200);
    let mut any = false;
    for f in figures {
        if any {
            out.push(',');
        } else {
            out.push_str(head);
            any = true;
        }
        out.push_str(f);
    }
    if any {
        out.push_str(tail);
    } else {
        out.push_str(head.get(..empty_head_len).unwrap_or(head));
        out.push_str(tail.get(empty_tail_skip..).unwrap_or(tail));
    }
    out
}

fn coding(kind: CapacityCode, code: &str) -> Value {
    match kind.display(code) {
        Some(display) => json!({ "system": kind.system(), "code": code, "display": display }),
        None => json!({ "system": kind.system(), "code": code }),
    }
}

/// Id of the Observation of figure `seq` of Location `location_id`.
pub fn observation_id(location_id: &str, seq: usize) -> String {
    format!("{location_id}-cap-{seq}")
}

/// The Observation view of one capacity figure.
pub fn observation(
    id: &str,
    location_id: &str,
    region: Option<&str>,
    cap: &CapacityRecord,
    last_updated_us: i64,
) -> String {
    let mut meta = Map::new();
    meta.insert("lastUpdated".to_owned(), Value::String(format_instant(last_updated_us)));
    if let Some(region) = region {
        let mut tag = json!({ "system": codes::REGION_SYSTEM, "code": region });
        if let (Some(d), Value::Object(t)) = (codes::region_display(region), &mut tag) {
            t.insert("display".to_owned(), Value::String(d.to_owned()));
        }
        meta.insert("tag".to_owned(), Value::Array(vec![tag]));
    }
    let type_display = CapacityCode::Type.display(&cap.capacity_type).unwrap_or(&cap.capacity_type);
    let status_display = CapacityCode::Status.display(&cap.capacity_status).unwrap_or(&cap.capacity_status);
    let mut components = vec![json!({
        "code": { "text": "temporalityCapacity" },
        "valueCodeableConcept": { "coding": [coding(CapacityCode::Temporality, &cap.temporality)] }
    })];
    if let Some(g) = &cap.gender {
        components.push(json!({
            "code": { "text": "genderCapacityAvailable" },
            "valueCodeableConcept": { "coding": [coding(CapacityCode::Gender, g)] }
        }));
    }
    json!({
        "resourceType": "Observation",
        "id": id,
        "meta": meta,
        "status": "final",
        "code": {
            "coding": [coding(CapacityCode::Type, &cap.capacity_type), coding(CapacityCode::Status, &cap.capacity_status)],
            "text": format!("{type_display} - {status_display}")
        },
        "subject": { "reference": format!("Location/{location_id}") },
        "effectiveDateTime": cap.update_date,
        "valueInteger": cap.nb_capacity,
        "component": components
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let p = location_parts(&m, 0);
            let c =
                |f: &[&str]| compose_location(&p.head, &p.tail, p.empty_head_len, p.empty_tail_skip, f.iter().copied());
            same(&c(&figs), &location(&m, figs, 0));
            same(&c(&figs[..1]), &location(&m, figs[..1].iter().copied(), 0));
            same(&c(&[]), &resource(&m, 0));
        }
    }
}
