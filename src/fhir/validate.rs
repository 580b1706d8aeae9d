//! Structural validation of incoming resources with the fhir-sdk (R4B) models.
//!
//! fhir-sdk silently drops unknown elements and invalid choice values when it parses. So a
//! resource is accepted only if parsing it and serialising it back gives the same JSON: any
//! element the model did not keep is reported with its path. The models themselves are used only
//! by the `ror-fhir-model` crate of this workspace, through its `round_trip`.

use ror_fhir_model::{RoundTripError, round_trip};
use serde_json::Value;

use crate::base::instant::parse_instant_us;

/// Why a resource was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The FHIR model refused the JSON.
    #[error("not a valid FHIR resource: {0}")]
    Invalid(String),
    /// The model parsed the JSON but did not keep this element.
    #[error("{path}: {reason}")]
    Dropped {
        /// Path of the element.
        path: String,
        /// What happened to it.
        reason: String,
    },
}

/// Checks `resource` (a JSON object: a Location, HealthcareService or Organization) against the
/// FHIR model.
pub fn check(resource: &Value) -> Result<(), ValidationError> {
    let root = resource.get("resourceType").and_then(Value::as_str).unwrap_or_default().to_owned();
    let back = round_trip(resource).map_err(|e| match e {
        RoundTripError::Refused { path: Some(path), message } => {
            ValidationError::Invalid(format!("{root}.{path}: {message}"))
        }
        other => ValidationError::Invalid(other.to_string()),
    })?;
    let mut path = root;
    match first_difference(resource, &back, &mut path) {
        None => Ok(()),
        Some((path, reason)) => Err(ValidationError::Dropped { path, reason }),
    }
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The first element of `input` that `output` does not carry with the same meaning. `path` is
/// the element's path; it grows and shrinks back as the walk goes, so that equal elements (all
/// of them, in an accepted resource) cost no allocation.
fn first_difference(input: &Value, output: &Value, path: &mut String) -> Option<(String, String)> {
    use std::fmt::Write;
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, va)| {
            let len = path.len();
            path.push('.');
            path.push_str(k);
            let found = match b.get(k) {
                None => {
                    let reason = if va.is_null() {
                        "null is not allowed here".to_owned()
                    } else {
                        format!("element {k:?} is unknown here, or its value is invalid ({})", preview(va))
                    };
                    Some((path.clone(), reason))
                }
                Some(vb) => first_difference(va, vb, path),
            };
            path.truncate(len);
            found
        }),
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some((path.clone(), format!("{} item(s) given, {} kept", a.len(), b.len())));
            }
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                let found = first_difference(x, y, path);
                path.truncate(len);
                found
            })
        }
        (Value::Number(_), Value::Number(_)) if numbers_equal(input, output) => None,
        (Value::String(a), Value::String(b)) => {
            if a == b {
                return None;
            }
            // The model rewrites instants canonically ("…00.000Z" → "…00Z"): same instant, same meaning.
            match (parse_instant_us(a), parse_instant_us(b)) {
                (Some(x), Some(y)) if x == y && a.contains('T') => None,
                _ => Some((path.clone(), format!("value {a:?} was read as {b:?}"))),
            }
        }
        (a, b) if a == b => None,
        (a, b) => Some((path.clone(), format!("value {} was read as {}", preview(a), preview(b)))),
    }
}

fn preview(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_the_ig_location_example() {
        let text = include_str!("../../tests/fixtures/Location-ror-location-exemple.json");
        let v: Value = serde_json::from_str(text).unwrap();
        check(&v).unwrap();
    }

    #[test]
    fn reports_unknown_elements_and_dropped_values() {
        let v = json!({"resourceType": "Location", "id": "a", "fooBar": 1});
        let e = check(&v).unwrap_err();
        assert!(e.to_string().contains("Location.fooBar"), "{e}");
        let v = json!({"resourceType": "Location", "id": "a", "extension": [{"url": "x", "valueInteger": "7"}]});
        let e = check(&v).unwrap_err();
        assert!(e.to_string().contains("Location.extension[0].valueInteger"), "{e}");
        let v = json!({"resourceType": "Location", "id": "a", "status": "open"});
        assert!(matches!(check(&v), Err(ValidationError::Invalid(_))));
    }

    #[test]
    fn accepts_normalised_instants_and_integral_decimals() {
        let v = json!({"resourceType": "Location", "id": "a", "meta": {"lastUpdated": "2024-01-01T00:00:00.000Z"},
            "position": {"latitude": 47, "longitude": -1.5}});
        check(&v).unwrap();
    }
}
