//! Parsing of search parameters (already URL-decoded `name=value` pairs) into a [`SearchRequest`].
//!
//! Strict by default: an unknown parameter, modifier or malformed value is an error. With
//! `Prefer: handling=lenient` unknown parameters are ignored and reported as warnings.

use super::{CapacityField, Condition, SearchRequest, Sort, SortKey, StringField, StringMode, normalize};
use crate::config::SearchLimits;
use crate::fhir::ResourceType;
use crate::fhir::outcome::Issue;

mod results;
#[cfg(test)]
mod tests;
mod values;

use self::results::result_parameter;
use self::values::{dates, ids, no_modifier, references, split_escaped, tokens, unescape, values};

/// The search parameters this server supports on `resource` (the CapabilityStatement must
/// declare exactly these; a test checks it). Result parameters common to all types are in
/// [`RESULT_PARAMETERS`].
pub fn supported_parameters(resource: ResourceType) -> &'static [&'static str] {
    match resource {
        ResourceType::Location => &[
            "_id",
            "_lastUpdated",
            "_tag",
            "_has",
            "identifier",
            "name",
            "address-postalcode",
            "status",
            "type",
            "capacity-status",
            "capacity-type",
            "temporality-capacity",
        ],
        ResourceType::HealthcareService => &["_id", "_lastUpdated", "_tag", "identifier", "location", "organization"],
        ResourceType::Organization => &["_id", "_lastUpdated", "_tag", "identifier"],
        ResourceType::Observation => &["_id", "_lastUpdated", "subject", "code"],
    }
}

/// Result parameters accepted on every search.
pub const RESULT_PARAMETERS: [&str; 6] = ["_count", "_sort", "_total", "_summary", "_elements", "_format"];

/// Parses a search on `resource`.
pub fn parse(
    resource: ResourceType,
    pairs: &[(String, String)],
    lenient: bool,
    limits: &SearchLimits,
) -> Result<SearchRequest, Vec<Issue>> {
    let mut req = SearchRequest {
        resource,
        conditions: Vec::new(),
        sort: Sort { key: SortKey::Id, descending: false },
        count: limits.default_count,
        total: true,
        summary_count: false,
        elements: None,
        include_locations: false,
        revinclude_services: false,
        cursor: None,
        warnings: Vec::new(),
        canonical_query: String::new(),
    };
    if pairs.len() > limits.max_parameters {
        return Err(vec![Issue::error(
            "too-costly",
            format!(
                "{} search parameters in one request; at most {} are accepted (join values with commas, or split the request)",
                pairs.len(),
                limits.max_parameters
            ),
        )]);
    }
    let mut errors = Vec::new();
    let mut canonical: Vec<(String, String)> = Vec::new();
    for (full_name, raw) in pairs {
        if full_name == "_cursor" {
            req.cursor = Some(raw.clone());
            continue;
        }
        canonical.push((full_name.clone(), raw.clone()));
        if let Err(issue) = within_length(full_name, raw, limits.max_value_len) {
            errors.push(issue);
            continue;
        }
        match parse_one(&mut req, full_name, raw, limits) {
            Ok(true) => {}
            Ok(false) => {
                let issue = Issue::error(
                    "not-supported",
                    format!("unknown or unsupported search parameter {full_name:?} for {}", resource.as_str()),
                )
                .at(full_name.as_str());
                if lenient {
                    req.warnings.push(Issue { severity: crate::fhir::outcome::Severity::Warning, ..issue.clone() });
                    canonical.pop();
                } else {
                    errors.push(issue);
                }
            }
            Err(issue) => errors.push(issue),
        }
    }
    let or_values: usize = req.conditions.iter().map(Condition::value_count).sum();
    if or_values > limits.max_or_values {
        errors.push(Issue::error(
            "too-costly",
            format!(
                "{or_values} search values in one request; at most {} are accepted (split the request)",
                limits.max_or_values
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    req.canonical_query = serde_urlencoded::to_string(&canonical).unwrap_or_default();
    Ok(req)
}

/// Refuses a parameter name, or one of its comma-separated values, longer than `max` characters
/// (without quoting it back: the answer stays small).
fn within_length(name: &str, raw: &str, max: usize) -> Result<(), Issue> {
    if name.chars().count() > max {
        return Err(Issue::error("too-costly", format!("a parameter name is longer than {max} characters")));
    }
    if split_escaped(raw, ',').iter().any(|v| v.chars().count() > max) {
        return Err(Issue::error(
            "too-costly",
            format!("parameter {name}: a search value is longer than {max} characters"),
        )
        .at(name));
    }
    Ok(())
}

/// One `name[:modifier]=value` of a query.
struct Param<'a> {
    /// The name as sent, modifier included.
    full: &'a str,
    name: &'a str,
    modifier: Option<&'a str>,
    raw: &'a str,
}

impl<'a> Param<'a> {
    fn new(full: &'a str, raw: &'a str) -> Self {
        let (name, modifier) = match full.split_once(':') {
            Some((n, m)) => (n, Some(m)),
            None => (full, None),
        };
        Self { full, name, modifier, raw }
    }

    /// Refuses a modifier.
    fn plain(&self) -> Result<(), Issue> {
        no_modifier(self.name, self.modifier)
    }

    /// Refuses any modifier but the reference's own type, `:{target}`, with `message`.
    fn typed_as(&self, target: &str, message: impl FnOnce() -> String) -> Result<(), Issue> {
        if self.modifier.is_some_and(|m| m != target) {
            return Err(Issue::error("not-supported", message()).at(self.full));
        }
        Ok(())
    }
}

/// Handles one parameter; `Ok(false)` when the name is not supported for this type.
fn parse_one(req: &mut SearchRequest, full_name: &str, raw: &str, limits: &SearchLimits) -> Result<bool, Issue> {
    // `_has` carries colons in its name; other parameters may carry one `:modifier`.
    if let Some(rest) = full_name.strip_prefix("_has:") {
        if req.resource != ResourceType::Location {
            return Ok(false);
        }
        req.conditions.push(has_condition(full_name, rest, raw)?);
        return Ok(true);
    }
    let param = Param::new(full_name, raw);
    if let Some(condition) = condition(req.resource, &param)? {
        req.conditions.push(condition);
        return Ok(true);
    }
    result_parameter(req, &param, limits)
}

/// `_has:HealthcareService:location:{rest}`.
fn has_condition(full_name: &str, rest: &str, raw: &str) -> Result<Condition, Issue> {
    match rest {
        "HealthcareService:location:identifier" => Ok(Condition::HasServiceIdentifier(tokens(full_name, raw)?)),
        "HealthcareService:location:_id" => Ok(Condition::HasServiceId(ids(full_name, raw)?)),
        _ => Err(Issue::error(
            "not-supported",
            format!("{full_name}: only _has:HealthcareService:location:identifier and _has:HealthcareService:location:_id are supported"),
        )
        .at(full_name)),
    }
}

/// The condition a search parameter of `rt` sets; `None` when `param` is not one.
fn condition(rt: ResourceType, param: &Param<'_>) -> Result<Option<Condition>, Issue> {
    use ResourceType as R;
    let (name, raw) = (param.name, param.raw);
    let parse: Box<dyn Fn() -> Result<Condition, Issue>> = match (rt, name) {
        (R::Location, "name" | "address-postalcode") => return string_condition(param).map(Some),
        (R::HealthcareService, "location") => {
            param.typed_as("Location", || format!("modifier on {} is not supported", param.full))?;
            return Ok(Some(Condition::ServiceLocation(references(name, raw, "Location")?)));
        }
        (R::HealthcareService, "organization") => {
            param.typed_as("Organization", || format!("modifier on {} is not supported", param.full))?;
            return Ok(Some(Condition::ServiceOrganization(references(name, raw, "Organization")?)));
        }
        (R::Observation, "subject") => {
            param.typed_as("Location", || format!("{}: capacity Observations have Location subjects", param.full))?;
            return Ok(Some(Condition::ObservationSubject(references(name, raw, "Location")?)));
        }
        (_, "_id") => Box::new(|| Ok(Condition::Ids(ids(name, raw)?))),
        (_, "_lastUpdated") => Box::new(|| Ok(Condition::LastUpdated(dates(name, raw)?))),
        (R::Location | R::HealthcareService | R::Organization, "identifier") => {
            Box::new(|| Ok(Condition::Tokens { param: "identifier", values: tokens(name, raw)? }))
        }
        (R::Location | R::HealthcareService | R::Organization, "_tag") => {
            Box::new(|| Ok(Condition::Tokens { param: "_tag", values: tokens(name, raw)? }))
        }
        (R::Location, "type") => Box::new(|| Ok(Condition::Tokens { param: "type", values: tokens(name, raw)? })),
        (R::Location, "capacity-status") => Box::new(|| capacity(CapacityField::Status, name, raw)),
        (R::Location, "capacity-type") => Box::new(|| capacity(CapacityField::Type, name, raw)),
        (R::Location, "temporality-capacity") => Box::new(|| capacity(CapacityField::Temporality, name, raw)),
        (R::Location, "status") => Box::new(|| Ok(Condition::LocationStatus(tokens(name, raw)?))),
        (R::Observation, "code") => Box::new(|| Ok(Condition::ObservationCode(tokens(name, raw)?))),
        _ => return Ok(None),
    };
    // The modifier is refused before the values are read.
    param.plain()?;
    parse().map(Some)
}

/// A condition on the figures' `field`.
fn capacity(field: CapacityField, name: &str, raw: &str) -> Result<Condition, Issue> {
    Ok(Condition::Capacity { field, values: tokens(name, raw)? })
}

/// `name` or `address-postalcode`, with `:exact`, `:contains` or no modifier (starts with).
fn string_condition(param: &Param<'_>) -> Result<Condition, Issue> {
    let name = param.name;
    let mode = match param.modifier {
        None => StringMode::StartsWith,
        Some("exact") => StringMode::Exact,
        Some("contains") => StringMode::Contains,
        Some(m) => {
            return Err(
                Issue::error("not-supported", format!("modifier :{m} is not supported on {name}")).at(param.full)
            );
        }
    };
    let field = if name == "name" { StringField::LocationName } else { StringField::PostalCode };
    let vals = values(name, param.raw)?.iter().map(|v| unescape(v)).collect::<Vec<_>>();
    let vals = match (mode, field) {
        (StringMode::Exact, _) | (_, StringField::PostalCode) => vals,
        _ => vals.iter().map(|v| normalize(v)).collect(),
    };
    Ok(Condition::Strings { field, mode, values: vals })
}
