//! Extraction of the searchable and relational fields of ROR-profiled resources from their JSON.
//!
//! Input is a resource already accepted by [`super::validate`]. The capacity extensions are taken
//! out of the Location and kept one per [`CapacityRecord`], so that each figure is a row (searchable,
//! and narrowed per access profile) while its original JSON is kept for rendering.

use serde_json::{Map, Value};

use super::codes::{self, CapacityCode};
use crate::base::instant::parse_servable_instant_us;

/// A refused element: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ExtractError {
    /// FHIRPath-like location of the element.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> ExtractError {
    ExtractError { path: path.into(), message: message.into() }
}

/// One token indexed for search (`identifier`, `_tag`, `type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Search parameter name.
    pub param: &'static str,
    /// Code system or identifier system ('' when absent).
    pub system: String,
    /// Code or identifier value.
    pub code: String,
}

/// Fields shared by every stored resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// Logical id.
    pub id: String,
    /// `meta.lastUpdated` of the source, if any.
    pub source_last_updated_us: Option<i64>,
    /// Region code from `meta.tag` (TRE_R30).
    pub region: Option<String>,
    /// `ror-meta-creation-date`.
    pub created_at_us: Option<i64>,
    /// Indexed tokens.
    pub tokens: Vec<Token>,
    /// The resource JSON (for a Location: without its capacity extensions).
    pub base: Map<String, Value>,
}

/// One capacity figure (one `ror-location-supported-capacity` extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityRecord {
    /// capacityType (TRE_R329).
    pub capacity_type: String,
    /// capacityStatus (TRE_R330).
    pub capacity_status: String,
    /// temporalityCapacity (TRE_R331).
    pub temporality: String,
    /// nbCapacity.
    pub nb_capacity: i32,
    /// capacitySourceType (TRE_R335).
    pub source_type: String,
    /// genderCapacityAvailable (TRE_R332).
    pub gender: Option<String>,
    /// capacityUpdateDate as written.
    pub update_date: String,
    /// capacityUpdateDate as an instant.
    pub update_date_us: i64,
    /// capacityClosingType (TRE_R333).
    pub closing_type: Option<String>,
    /// additionalBedType (TRE_R334).
    pub additional_bed_type: Option<String>,
    /// crisisType (TRE_R336).
    pub crisis_type: Option<String>,
    /// temporaryAssignement (TRE_R337).
    pub temporary_assignment: String,
    /// comment.
    pub comment: Option<String>,
    /// The extension JSON as received.
    pub extension_json: String,
}

/// A Location with its capacity figures.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationRecord {
    /// Shared fields.
    pub common: Common,
    /// Identifier of type 25.
    pub functional_id: Option<String>,
    /// Identifier of type 26.
    pub external_id: Option<String>,
    /// name.
    pub name: Option<String>,
    /// status (R4 location-status).
    pub status: Option<String>,
    /// operationalStatus code.
    pub operational_status: Option<String>,
    /// First type code (JDV_J198).
    pub type_code: Option<String>,
    /// First address line.
    pub address_line: Option<String>,
    /// address.postalCode.
    pub postal_code: Option<String>,
    /// address.city.
    pub city: Option<String>,
    /// ror-commune-cog code.
    pub commune_insee: Option<String>,
    /// position.latitude.
    pub latitude: Option<f64>,
    /// position.longitude.
    pub longitude: Option<f64>,
    /// managingOrganization id.
    pub managing_org_id: Option<String>,
    /// partOf id (the Location this one is part of).
    pub part_of_id: Option<String>,
    /// Capacity figures, in document order.
    pub capacities: Vec<CapacityRecord>,
}

/// An operational offer.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthcareServiceRecord {
    /// Shared fields.
    pub common: Common,
    /// First identifier value.
    pub identifier_value: Option<String>,
    /// name.
    pub name: Option<String>,
    /// First type code.
    pub type_code: Option<String>,
    /// First category code.
    pub category_code: Option<String>,
    /// First specialty code.
    pub specialty_code: Option<String>,
    /// ror-healthcareservice-sensitive-unit.
    pub sensitive_unit: bool,
    /// providedBy id.
    pub provided_by_id: Option<String>,
    /// Ids of the referenced Locations.
    pub location_ids: Vec<String>,
}

/// An EJ or EG.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRecord {
    /// Shared fields.
    pub common: Common,
    /// First FINESS identifier value.
    pub finess: Option<String>,
    /// name.
    pub name: Option<String>,
    /// partOf id.
    pub part_of_id: Option<String>,
}

/// Any importable resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Location.
    Location(LocationRecord),
    /// HealthcareService.
    HealthcareService(HealthcareServiceRecord),
    /// Organization.
    Organization(OrganizationRecord),
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn first_coding_code(cc: &Value) -> Option<String> {
    array(cc, "coding").find_map(|c| str_at(c, "code")).map(str::to_owned)
}

/// Id of a relative reference `Type/id` of the expected type.
fn reference_id(reference: &Value, expected_type: &str, path: &str) -> Result<Option<String>, ExtractError> {
    let Some(r) = str_at(reference, "reference") else { return Ok(None) };
    let tail = r.rsplit('/').take(2).collect::<Vec<_>>();
    match tail.as_slice() {
        [id, ty] if *ty == expected_type && super::is_valid_id(id) => Ok(Some((*id).to_owned())),
        _ => Err(err(path, format!("expected a reference to {expected_type}/<id>, got {r:?}"))),
    }
}

fn instant_at(v: &Value, key: &str, path: &str) -> Result<Option<i64>, ExtractError> {
    match str_at(v, key) {
        None => Ok(None),
        Some(s) => parse_servable_instant_us(s)
            .map(Some)
            .ok_or_else(|| err(path, format!("invalid instant {s:?} (or outside years 0001-9999 in UTC)"))),
    }
}

fn common(v: &Value, resource_type: &str) -> Result<Common, ExtractError> {
    let id = str_at(v, "id").ok_or_else(|| err(format!("{resource_type}.id"), "missing id"))?;
    if !super::is_valid_id(id) {
        return Err(err(format!("{resource_type}.id"), format!("invalid id {id:?}")));
    }
    let meta = v.get("meta").unwrap_or(&Value::Null);
    let source_last_updated_us = instant_at(meta, "lastUpdated", &format!("{resource_type}.meta.lastUpdated"))?;
    let mut tokens = Vec::new();
    let mut region = None;
    for tag in array(meta, "tag") {
        let system = str_at(tag, "system").unwrap_or_default();
        if let Some(code) = str_at(tag, "code") {
            if system == codes::REGION_SYSTEM && region.is_none() {
                region = Some(code.to_owned());
            }
            tokens.push(Token { param: "_tag", system: system.to_owned(), code: code.to_owned() });
        }
    }
    for ident in array(v, "identifier") {
        if let Some(value) = str_at(ident, "value") {
            let system = str_at(ident, "system").unwrap_or_default();
            tokens.push(Token { param: "identifier", system: system.to_owned(), code: value.to_owned() });
        }
    }
    let mut created_at_us = None;
    for ext in array(v, "extension") {
        if str_at(ext, "url") == Some(codes::EXT_META_CREATION_DATE) {
            created_at_us =
                instant_at(ext, "valueDateTime", &format!("{resource_type}.extension:ror-meta-creation-date"))?;
        }
    }
    let mut base = v.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(m)) = base.get_mut("meta") {
        m.remove("lastUpdated");
        m.remove("versionId");
    }
    Ok(Common { id: id.to_owned(), source_last_updated_us, region, created_at_us, tokens, base })
}

/// Maps one validated resource to its record. Unsupported resource types are refused.
pub fn extract(resource: &Value) -> Result<Record, ExtractError> {
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("Location") => location(resource).map(Record::Location),
        Some("HealthcareService") => healthcare_service(resource).map(Record::HealthcareService),
        Some("Organization") => organization(resource).map(Record::Organization),
        Some(other) => Err(err(
            "resourceType",
            format!("{other} is not imported (Location, HealthcareService and Organization are)"),
        )),
        None => Err(err("resourceType", "missing resourceType")),
    }
}

fn location(v: &Value) -> Result<LocationRecord, ExtractError> {
    let mut common = common(v, "Location")?;
    let mut functional_id = None;
    let mut external_id = None;
    for ident in array(v, "identifier") {
        let ty = ident.get("type").map(|t| array(t, "coding").filter_map(|c| str_at(c, "code")).collect::<Vec<_>>());
        let value = str_at(ident, "value").map(str::to_owned);
        if ty.as_ref().is_some_and(|t| t.contains(&"25")) && functional_id.is_none() {
            functional_id = value;
        } else if ty.as_ref().is_some_and(|t| t.contains(&"26")) && external_id.is_none() {
            external_id = value;
        }
    }
    for ty in array(v, "type") {
        for coding in array(ty, "coding") {
            if let Some(code) = str_at(coding, "code") {
                let system = str_at(coding, "system").unwrap_or_default();
                common.tokens.push(Token { param: "type", system: system.to_owned(), code: code.to_owned() });
            }
        }
    }
    if let Some(os) = v.get("operationalStatus")
        && let Some(code) = str_at(os, "code")
    {
        let system = str_at(os, "system").unwrap_or_default();
        common.tokens.push(Token { param: "operational-status", system: system.to_owned(), code: code.to_owned() });
    }
    let address = v.get("address").cloned().unwrap_or(Value::Null);
    let position = v.get("position").cloned().unwrap_or(Value::Null);
    let mut commune_insee = None;
    let mut capacities = Vec::new();
    for (i, ext) in array(v, "extension").enumerate() {
        match str_at(ext, "url") {
            Some(codes::EXT_COMMUNE_COG) => {
                let concept = ext.get("valueCodeableConcept").unwrap_or(&Value::Null);
                commune_insee = first_coding_code(concept);
                concept_tokens(&mut common.tokens, "commune-cog", concept);
            }
            Some(codes::EXT_SUPPORTED_CAPACITY) => {
                capacities.push(capacity(ext, &format!("Location.extension[{i}]"))?);
            }
            _ => {}
        }
    }
    if let Some(Value::Array(exts)) = common.base.get_mut("extension") {
        exts.retain(|e| str_at(e, "url") != Some(codes::EXT_SUPPORTED_CAPACITY));
        if exts.is_empty() {
            common.base.remove("extension");
        }
    }
    let managing_org_id = match v.get("managingOrganization") {
        Some(r) => reference_id(r, "Organization", "Location.managingOrganization")?,
        None => None,
    };
    let part_of_id = match v.get("partOf") {
        Some(r) => reference_id(r, "Location", "Location.partOf")?,
        None => None,
    };
    Ok(LocationRecord {
        part_of_id,
        functional_id,
        external_id,
        name: str_at(v, "name").map(str::to_owned),
        status: str_at(v, "status").map(str::to_owned),
        operational_status: v.get("operationalStatus").and_then(|c| str_at(c, "code")).map(str::to_owned),
        type_code: array(v, "type").find_map(first_coding_code),
        address_line: array(&address, "line").find_map(Value::as_str).map(str::to_owned),
        postal_code: str_at(&address, "postalCode").map(str::to_owned),
        city: str_at(&address, "city").map(str::to_owned),
        commune_insee,
        latitude: position.get("latitude").and_then(Value::as_f64),
        longitude: position.get("longitude").and_then(Value::as_f64),
        managing_org_id,
        capacities,
        common,
    })
}

/// The sub-extensions of one capacity extension, at `path`.
struct Subs<'a> {
    subs: Vec<&'a Value>,
    path: &'a str,
}

/// The sub-extensions a capacity must carry once.
const REQUIRED_SUBS: [&str; 7] = [
    "capacityType",
    "capacityStatus",
    "temporalityCapacity",
    "nbCapacity",
    "capacitySourceType",
    "capacityUpdateDate",
    "temporaryAssignement",
];

impl<'a> Subs<'a> {
    /// Reads them, refusing unknown and missing ones.
    fn read(ext: &'a Value, path: &'a str) -> Result<Self, ExtractError> {
        let subs: Vec<&Value> = array(ext, "extension").collect();
        for s in &subs {
            let url = str_at(s, "url").unwrap_or_default();
            if !codes::CAPACITY_SUB_EXTENSIONS.contains(&url) {
                return Err(err(format!("{path}.extension"), format!("unknown sub-extension {url:?}")));
            }
        }
        let missing: Vec<&str> =
            REQUIRED_SUBS.into_iter().filter(|u| !subs.iter().any(|s| str_at(s, "url") == Some(*u))).collect();
        if let Some(first) = missing.first() {
            return Err(err(
                format!("{path}.extension:{first}"),
                format!("required (1..1) but missing (missing: {})", missing.join(", ")),
            ));
        }
        Ok(Self { subs, path })
    }

    fn path_of(&self, url: &str) -> String {
        format!("{}.extension:{url}", self.path)
    }

    /// The sub-extension `url`, if present (at most once).
    fn find(&self, url: &str) -> Result<Option<&'a Value>, ExtractError> {
        let mut found = self.subs.iter().filter(|s| str_at(s, "url") == Some(url));
        let first = found.next().copied();
        if found.next().is_some() {
            return Err(err(self.path_of(url), "appears more than once (max 1)"));
        }
        Ok(first)
    }

    /// The sub-extension `url`, which must be present.
    fn get(&self, url: &str) -> Result<&'a Value, ExtractError> {
        self.find(url)?.ok_or_else(|| err(self.path_of(url), "required (1..1) but missing"))
    }

    /// The code of a coded sub-extension, from its required terminology.
    fn coded(&self, kind: CapacityCode, required: bool) -> Result<Option<String>, ExtractError> {
        let p = self.path_of(kind.url());
        let Some(sub) = self.find(kind.url())? else {
            return if required { Err(err(p, "required (1..1) but missing")) } else { Ok(None) };
        };
        let cc = sub.get("valueCodeableConcept").ok_or_else(|| err(&p, "expected valueCodeableConcept"))?;
        let coding = array(cc, "coding")
            .find(|c| str_at(c, "system") == Some(kind.system()))
            .ok_or_else(|| err(&p, format!("no coding from {}", kind.system())))?;
        let code = str_at(coding, "code").ok_or_else(|| err(&p, "coding without code"))?;
        if kind.display(code).is_none() {
            return Err(err(&p, format!("code {code:?} is not in {}", kind.system())));
        }
        Ok(Some(code.to_owned()))
    }

    fn required(&self, kind: CapacityCode) -> Result<String, ExtractError> {
        self.coded(kind, true).map(Option::unwrap_or_default)
    }

    /// `nbCapacity`: a non-negative 32-bit integer.
    fn nb_capacity(&self) -> Result<i32, ExtractError> {
        let path = self.path_of("nbCapacity");
        let nb = self
            .get("nbCapacity")?
            .get("valueInteger")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| err(&path, "expected valueInteger"))?;
        if nb < 0 {
            return Err(err(&path, "a capacity cannot be negative"));
        }
        Ok(nb)
    }

    /// `capacityUpdateDate`: its text and the instant, which the server must be able to serve.
    fn update_date(&self) -> Result<(String, i64), ExtractError> {
        let path = self.path_of("capacityUpdateDate");
        let date = str_at(self.get("capacityUpdateDate")?, "valueDateTime")
            .ok_or_else(|| err(&path, "expected valueDateTime"))?;
        let us = parse_servable_instant_us(date)
            .ok_or_else(|| err(&path, format!("invalid dateTime {date:?} (or outside years 0001-9999 in UTC)")))?;
        Ok((date.to_owned(), us))
    }

    fn comment(&self) -> Result<Option<String>, ExtractError> {
        let Some(c) = self.find("comment")? else { return Ok(None) };
        let text = str_at(c, "valueString").ok_or_else(|| err(self.path_of("comment"), "expected valueString"))?;
        Ok(Some(text.to_owned()))
    }
}

/// Reads one capacity extension, checking the IG's cardinalities and required bindings.
pub fn capacity(ext: &Value, path: &str) -> Result<CapacityRecord, ExtractError> {
    if ext.get("value").is_some() || ext.as_object().is_some_and(|o| o.keys().any(|k| k.starts_with("value"))) {
        return Err(err(path, "ror-location-supported-capacity is a complex extension and takes no value[x]"));
    }
    let subs = Subs::read(ext, path)?;
    let nb_capacity = subs.nb_capacity()?;
    let (update_date, update_date_us) = subs.update_date()?;
    let comment = subs.comment()?;
    Ok(CapacityRecord {
        capacity_type: subs.required(CapacityCode::Type)?,
        capacity_status: subs.required(CapacityCode::Status)?,
        temporality: subs.required(CapacityCode::Temporality)?,
        nb_capacity,
        source_type: subs.required(CapacityCode::SourceType)?,
        gender: subs.coded(CapacityCode::Gender, false)?,
        update_date,
        update_date_us,
        closing_type: subs.coded(CapacityCode::ClosingType, false)?,
        additional_bed_type: subs.coded(CapacityCode::AdditionalBedType, false)?,
        crisis_type: subs.coded(CapacityCode::CrisisType, false)?,
        temporary_assignment: subs.required(CapacityCode::TemporaryAssignment)?,
        comment,
        extension_json: ext.to_string(),
    })
}

/// The tokens of every coding of CodeableConcept `concept`, as parameter `param`.
fn concept_tokens(tokens: &mut Vec<Token>, param: &'static str, concept: &Value) {
    for coding in array(concept, "coding") {
        if let Some(code) = str_at(coding, "code") {
            let system = str_at(coding, "system").unwrap_or_default();
            tokens.push(Token { param, system: system.to_owned(), code: code.to_owned() });
        }
    }
}

fn healthcare_service(v: &Value) -> Result<HealthcareServiceRecord, ExtractError> {
    let mut common = common(v, "HealthcareService")?;
    for (param, key) in [
        ("service-category", "category"),
        ("service-type", "type"),
        ("specialty", "specialty"),
        ("characteristic", "characteristic"),
    ] {
        for concept in array(v, key) {
            concept_tokens(&mut common.tokens, param, concept);
        }
    }
    if let Some(active) = v.get("active").and_then(Value::as_bool) {
        common.tokens.push(Token { param: "active", system: String::new(), code: active.to_string() });
    }
    let mut location_ids = Vec::new();
    for (i, r) in array(v, "location").enumerate() {
        if let Some(id) = reference_id(r, "Location", &format!("HealthcareService.location[{i}]"))?
            && !location_ids.contains(&id)
        {
            location_ids.push(id);
        }
    }
    let sensitive_unit = array(v, "extension")
        .find(|e| str_at(e, "url") == Some(codes::EXT_SENSITIVE_UNIT))
        .and_then(|e| e.get("valueBoolean"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let provided_by_id = match v.get("providedBy") {
        Some(r) => reference_id(r, "Organization", "HealthcareService.providedBy")?,
        None => None,
    };
    Ok(HealthcareServiceRecord {
        identifier_value: array(v, "identifier").find_map(|i| str_at(i, "value")).map(str::to_owned),
        name: str_at(v, "name").map(str::to_owned),
        type_code: array(v, "type").find_map(first_coding_code),
        category_code: array(v, "category").find_map(first_coding_code),
        specialty_code: array(v, "specialty").find_map(first_coding_code),
        sensitive_unit,
        provided_by_id,
        location_ids,
        common,
    })
}

fn organization(v: &Value) -> Result<OrganizationRecord, ExtractError> {
    let common = common(v, "Organization")?;
    let part_of_id = match v.get("partOf") {
        Some(r) => reference_id(r, "Organization", "Organization.partOf")?,
        None => None,
    };
    Ok(OrganizationRecord {
        finess: array(v, "identifier").find_map(|i| str_at(i, "value")).map(str::to_owned),
        name: str_at(v, "name").map(str::to_owned),
        part_of_id,
        common,
    })
}
