//! Parsing of search parameters (already URL-decoded `name=value` pairs) into a [`SearchRequest`].
//!
//! Strict by default: an unknown parameter, modifier or malformed value is an error. With
//! `Prefer: handling=lenient` unknown parameters are ignored and reported as warnings.

use super::registry;
use super::{Condition, SearchRequest, Sort, SortKey};
use crate::fhir::ResourceType;
use crate::fhir::outcome::Issue;
use crate::search::limits::SearchLimits;

pub(crate) mod conditions;
mod filter;
mod results;
#[cfg(test)]
mod tests;
mod values;

use self::results::result_parameter;
use self::values::{ids, no_modifier, split_escaped, tokens};

/// The search parameters this server supports on `resource`, as the registry declares them
/// (`search::registry`). Result parameters common to all types are in [`RESULT_PARAMETERS`].
pub fn supported_parameters(resource: ResourceType) -> Vec<&'static str> {
    registry::of(resource).map(|p| p.name).collect()
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
        include_organizations: false,
        filter_parameters: Vec::new(),
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
    errors.extend(complete(&mut req, resource, limits));
    if !errors.is_empty() {
        return Err(errors);
    }
    req.canonical_query = serde_urlencoded::to_string(&canonical).unwrap_or_default();
    Ok(req)
}

/// What is checked once every parameter is read: the capacity parameters made one figure, the
/// sort's needs, the number of OR values; returns the errors.
fn complete(req: &mut SearchRequest, resource: ResourceType, limits: &SearchLimits) -> Vec<Issue> {
    let mut errors = Vec::new();
    merge_figures(&mut req.conditions);
    merge_chained_figures(&mut req.conditions);
    if req.sort.key == SortKey::Near && resource != ResourceType::Location {
        errors.push(Issue::error("not-supported", "_sort=near is offered on Location only").at("_sort"));
    } else if req.sort.key == SortKey::Near && req.near().is_none() {
        errors.push(
            Issue::error(
                "invalid",
                "_sort=near orders by the distance to a near parameter: give one (Location?near=…)",
            )
            .at("_sort"),
        );
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
    errors
}

/// Makes the capacity parameters of a request one condition, in the place of the first: they
/// describe one and the same figure.
pub(crate) fn merge_figures(conditions: &mut Vec<Condition>) {
    let mut tests = Vec::new();
    let mut first = None;
    let mut i = 0;
    conditions.retain(|c| {
        i += 1;
        match c {
            Condition::Figure(t) => {
                tests.extend(t.iter().cloned());
                first.get_or_insert(i - 1);
                false
            }
            _ => true,
        }
    });
    if let Some(at) = first {
        let at = at.min(conditions.len());
        conditions.insert(at, Condition::Figure(tests));
    }
}

/// Makes the chained capacity parameters (`location.capacity-*`…) one chain: one figure of one
/// place.
fn merge_chained_figures(conditions: &mut Vec<Condition>) {
    let mut chained: Vec<Condition> = Vec::new();
    conditions.retain(|c| match c {
        Condition::Chain(inner) if matches!(**inner, Condition::Figure(_)) => {
            chained.push((**inner).clone());
            false
        }
        _ => true,
    });
    merge_figures(&mut chained);
    conditions.extend(chained.into_iter().map(|c| Condition::Chain(Box::new(c))));
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
pub(crate) struct Param<'a> {
    /// The name as sent, modifier included.
    pub(crate) full: &'a str,
    /// The name without modifier.
    pub(crate) name: &'a str,
    /// The modifier, if any.
    pub(crate) modifier: Option<&'a str>,
    /// The value as sent (still escaped).
    pub(crate) raw: &'a str,
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
    pub(crate) fn plain(&self) -> Result<(), Issue> {
        no_modifier(self.name, self.modifier)
    }

    /// Refuses any modifier but the reference's own type, `:{target}`, with `message`.
    pub(crate) fn typed_as(&self, target: &str, message: impl FnOnce() -> String) -> Result<(), Issue> {
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
        if registry::find(req.resource, "_has").is_none() {
            return Ok(false);
        }
        req.conditions.push(has_condition(full_name, rest, raw)?);
        return Ok(true);
    }
    if full_name == "_filter" && registry::find(req.resource, "_filter").is_some() {
        let c = filter::condition_of(req.resource, raw, &mut req.filter_parameters)?;
        req.conditions.push(c);
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

/// The condition a search parameter of `rt` sets; `None` when `param` is not one (`_has`, whose
/// chain is in its name, is read by [`has_condition`]).
fn condition(rt: ResourceType, param: &Param<'_>) -> Result<Option<Condition>, Issue> {
    if let Some(target) = param.name.strip_prefix("location.")
        && rt == ResourceType::HealthcareService
    {
        let chained = Param { name: target, ..*param };
        return match registry::find(ResourceType::Location, target).and_then(|p| p.condition) {
            Some(read) => read(&chained).map(|c| Some(Condition::Chain(Box::new(c)))),
            None => Err(Issue::error(
                "not-supported",
                format!("{}: {target} is not a search parameter of Location", param.full),
            )
            .at(param.full)),
        };
    }
    match registry::find(rt, param.name).and_then(|p| p.condition) {
        Some(read) => read(param).map(Some),
        None => Ok(None),
    }
}
