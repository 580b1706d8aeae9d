//! `_elements`: subsetting resources to the requested top-level elements.

use serde_json::{Map, Value, json};

use super::ResourceType;
use super::codes::SUBSETTED_SYSTEM;

/// Elements every DomainResource has.
const DOMAIN_RESOURCE: [&str; 8] =
    ["id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"];

/// Top-level elements of each served type (FHIR R4) besides the DomainResource ones.
fn own_elements(rt: ResourceType) -> &'static [&'static str] {
    match rt {
        ResourceType::Location => &[
            "identifier",
            "status",
            "operationalStatus",
            "name",
            "alias",
            "description",
            "mode",
            "type",
            "telecom",
            "address",
            "physicalType",
            "position",
            "managingOrganization",
            "partOf",
            "hoursOfOperation",
            "availabilityExceptions",
            "endpoint",
        ],
        ResourceType::HealthcareService => &[
            "identifier",
            "active",
            "providedBy",
            "category",
            "type",
            "specialty",
            "location",
            "name",
            "comment",
            "extraDetails",
            "photo",
            "telecom",
            "coverageArea",
            "serviceProvisionCode",
            "eligibility",
            "program",
            "characteristic",
            "communication",
            "referralMethod",
            "appointmentRequired",
            "availableTime",
            "notAvailable",
            "availabilityExceptions",
            "endpoint",
        ],
        ResourceType::Organization => {
            &["identifier", "active", "type", "name", "alias", "telecom", "address", "partOf", "contact", "endpoint"]
        }
        ResourceType::Observation => &[
            "identifier",
            "basedOn",
            "partOf",
            "status",
            "category",
            "code",
            "subject",
            "focus",
            "encounter",
            "effective",
            "issued",
            "performer",
            "value",
            "dataAbsentReason",
            "interpretation",
            "note",
            "bodySite",
            "method",
            "specimen",
            "device",
            "referenceRange",
            "hasMember",
            "derivedFrom",
            "component",
        ],
    }
}

/// Whether `name` is a top-level element of `rt` that `_elements` accepts.
pub fn is_known_element(rt: ResourceType, name: &str) -> bool {
    DOMAIN_RESOURCE.contains(&name) || own_elements(rt).contains(&name)
}

/// Keeps `resourceType`, `id`, `meta` and the listed elements (choice elements such as `value`
/// keep every `value[x]`), and tags the result SUBSETTED. Returns the input unchanged if it is
/// not a JSON object.
pub fn subset(resource_json: &str, elements: &[String]) -> String {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(resource_json) else {
        return resource_json.to_owned();
    };
    let keep = |k: &str| {
        matches!(k, "resourceType" | "id" | "meta")
            || elements.iter().any(|e| {
                let base = k.strip_prefix('_').unwrap_or(k);
                base == e
                    || (base.starts_with(e.as_str())
                        && base[e.len()..].starts_with(|c: char| c.is_ascii_uppercase())
                        && matches!(e.as_str(), "value" | "effective"))
            })
    };
    let mut out = Map::new();
    for (k, v) in map {
        if keep(&k) {
            out.insert(k, v);
        }
    }
    let tag = json!({ "system": SUBSETTED_SYSTEM, "code": "SUBSETTED", "display": "subsetted" });
    match out.get_mut("meta") {
        Some(Value::Object(meta)) => match meta.get_mut("tag") {
            Some(Value::Array(tags)) => tags.push(tag),
            _ => {
                meta.insert("tag".to_owned(), Value::Array(vec![tag]));
            }
        },
        _ => {
            out.insert("meta".to_owned(), json!({ "tag": [tag] }));
        }
    }
    Value::Object(out).to_string()
}
