//! Parses a JSON resource with the fhir-sdk R4B model of its type and serialises it back.
//!
//! This crate is the only place that instantiates fhir-sdk's serde code (the bulk of the
//! project's compile time); keeping it apart means the server recompiles without it. What the
//! model dropped or rewrote is found by comparing the two JSON values, in the server crate.

use fhir_sdk::r4b::resources::{HealthcareService, Location, Organization};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why the model refused a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTripError {
    /// The resource type has no model here.
    UnsupportedType(String),
    /// The model refused the JSON; `path` is where (`None` at the root).
    Refused {
        /// Path of the element, from the resource root (`meta.lastUpdated`, `extension[0]`).
        path: Option<String>,
        /// The model's message.
        message: String,
    },
}

impl std::fmt::Display for RoundTripError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedType(t) => write!(f, "resourceType {t:?} is not validated here"),
            Self::Refused { path: Some(p), message } => write!(f, "{p}: {message}"),
            Self::Refused { path: None, message } => f.write_str(message),
        }
    }
}

impl std::error::Error for RoundTripError {}

fn round_trip_as<T: DeserializeOwned + Serialize>(resource: &Value) -> Result<Value, RoundTripError> {
    let parsed: T = serde_path_to_error::deserialize(resource).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        RoundTripError::Refused { path: (path != ".").then_some(path), message }
    })?;
    serde_json::to_value(&parsed).map_err(|e| RoundTripError::Refused { path: None, message: e.to_string() })
}

/// Parses `resource` (a Location, HealthcareService or Organization) with its model and returns
/// what the model serialises back.
pub fn round_trip(resource: &Value) -> Result<Value, RoundTripError> {
    match resource.get("resourceType").and_then(Value::as_str).unwrap_or_default() {
        "Location" => round_trip_as::<Location>(resource),
        "HealthcareService" => round_trip_as::<HealthcareService>(resource),
        "Organization" => round_trip_as::<Organization>(resource),
        other => Err(RoundTripError::UnsupportedType(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_carry_the_path() {
        let v = json!({"resourceType": "Location", "id": "a", "extension": [{"url": "x", "valueInteger": "7"}]});
        // fhir-sdk drops the invalid choice value instead of refusing it: the caller compares.
        let back = round_trip(&v).unwrap();
        assert_ne!(back, v);
        let v = json!({"resourceType": "Location", "id": "a", "status": "open"});
        match round_trip(&v) {
            Err(RoundTripError::Refused { path: Some(p), .. }) => assert_eq!(p, "status"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(round_trip(&json!({"resourceType": "Patient"})), Err(RoundTripError::UnsupportedType(_))));
    }
}
