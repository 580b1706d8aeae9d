//! Parsing of search parameters (already URL-decoded `name=value` pairs) into a [`SearchRequest`].
//!
//! Strict by default: an unknown parameter, modifier or malformed value is an error. With
//! `Prefer: handling=lenient` unknown parameters are ignored and reported as warnings.

use super::date::parse_date_param;
use super::{CapacityField, Condition, SearchRequest, Sort, SortKey, StringField, StringMode, TokenValue, normalize};
use crate::config::SearchLimits;
use crate::fhir::outcome::Issue;
use crate::fhir::{ResourceType, elements, is_valid_id};

/// Splits on an unescaped `sep`, then unescapes `\,` `\|` `\$` `\\`.
fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) if n == sep => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            }
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ (',' | '|' | '$' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn values(name: &str, raw: &str) -> Result<Vec<String>, Issue> {
    let parts = split_escaped(raw, ',');
    if parts.iter().any(String::is_empty) {
        return Err(Issue::error("invalid", format!("parameter {name}: empty value")).at(name));
    }
    Ok(parts)
}

fn token(name: &str, raw: &str) -> Result<TokenValue, Issue> {
    let pieces = split_escaped(raw, '|');
    match pieces.as_slice() {
        [code] => Ok(TokenValue { system: None, code: Some(unescape(code)) }),
        [system, code] => {
            if system.is_empty() && code.is_empty() {
                return Err(Issue::error("invalid", format!("parameter {name}: \"|\" alone is not a token")).at(name));
            }
            Ok(TokenValue {
                system: Some(unescape(system)),
                code: if code.is_empty() { None } else { Some(unescape(code)) },
            })
        }
        _ => Err(Issue::error("invalid", format!("parameter {name}: a token is code, system|code or |code")).at(name)),
    }
}

fn tokens(name: &str, raw: &str) -> Result<Vec<TokenValue>, Issue> {
    values(name, raw)?.iter().map(|v| token(name, v)).collect()
}

fn ids(name: &str, raw: &str) -> Result<Vec<String>, Issue> {
    let vals = values(name, raw)?;
    for v in &vals {
        if !is_valid_id(v) {
            return Err(Issue::error("invalid", format!("parameter {name}: {v:?} is not a valid id")).at(name));
        }
    }
    Ok(vals)
}

/// Reference values: `id`, `Type/id` or an absolute URL ending in `Type/id`.
fn references(name: &str, raw: &str, target: &str) -> Result<Vec<String>, Issue> {
    let mut out = Vec::new();
    for v in values(name, raw)? {
        let segs: Vec<&str> = v.rsplit('/').take(2).collect();
        let id = match segs.as_slice() {
            [id] => *id,
            [id, ty] if *ty == target => *id,
            _ => {
                return Err(
                    Issue::error("invalid", format!("parameter {name}: {v:?} is not a reference to {target}")).at(name)
                );
            }
        };
        if !is_valid_id(id) {
            return Err(Issue::error("invalid", format!("parameter {name}: {id:?} is not a valid id")).at(name));
        }
        out.push(id.to_owned());
    }
    Ok(out)
}

fn dates(name: &str, raw: &str) -> Result<Vec<super::date::DateCondition>, Issue> {
    values(name, raw)?
        .iter()
        .map(|v| {
            parse_date_param(v)
                .map(|p| p.condition())
                .map_err(|e| Issue::error("invalid", format!("parameter {name}: {e}")).at(name))
        })
        .collect()
}

fn no_modifier(name: &str, modifier: Option<&str>) -> Result<(), Issue> {
    match modifier {
        None => Ok(()),
        Some(m) => Err(Issue::error("not-supported", format!("modifier :{m} is not supported on {name}")).at(name)),
    }
}

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

/// The parameters that shape the result rather than select it (includes, paging, sort, total,
/// summary, elements, format); `Ok(false)` when `param` is none of them.
fn result_parameter(req: &mut SearchRequest, param: &Param<'_>, limits: &SearchLimits) -> Result<bool, Issue> {
    use ResourceType as R;
    let (name, raw) = (param.name, param.raw);
    match (req.resource, name) {
        (R::Location, "_revinclude") => {
            param.plain()?;
            only_service_location(name, raw)?;
            req.revinclude_services = true;
        }
        (R::HealthcareService, "_include") => {
            param.plain()?;
            only_service_location(name, raw)?;
            req.include_locations = true;
        }
        (_, "_count") => {
            param.plain()?;
            req.count = count(raw, limits, &mut req.warnings)?;
        }
        (_, "_sort") => {
            param.plain()?;
            req.sort = parse_sort(raw)?;
        }
        (_, "_total") => {
            param.plain()?;
            req.total = match raw {
                "accurate" | "estimate" => true,
                "none" => false,
                _ => {
                    return Err(Issue::error(
                        "invalid",
                        format!("_total must be none, estimate or accurate, got {raw:?}"),
                    )
                    .at(name));
                }
            };
        }
        (_, "_summary") => {
            param.plain()?;
            req.summary_count = match raw {
                "count" => true,
                "false" => false,
                _ => {
                    return Err(Issue::error(
                        "not-supported",
                        format!("_summary={raw} is not supported (count and false are)"),
                    )
                    .at(name));
                }
            };
        }
        (rt, "_elements") => {
            param.plain()?;
            req.elements = Some(element_names(rt, raw, limits)?);
        }
        // Content negotiation is handled by the HTTP layer.
        (_, "_format") => param.plain()?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `_include` / `_revinclude`: only `HealthcareService:location` is supported.
fn only_service_location(name: &str, raw: &str) -> Result<(), Issue> {
    if raw == "HealthcareService:location" {
        return Ok(());
    }
    Err(Issue::error("not-supported", format!("{name}={raw} is not supported (HealthcareService:location is)"))
        .at(name))
}

/// `_count`, capped at the server's maximum (with a warning when it was above).
fn count(raw: &str, limits: &SearchLimits, warnings: &mut Vec<Issue>) -> Result<usize, Issue> {
    let n: usize = raw.parse().map_err(|_| {
        Issue::error("invalid", format!("_count must be a non-negative integer, got {raw:?}")).at("_count")
    })?;
    if n > limits.max_count {
        warnings.push(
            Issue::warning("informational", format!("_count={n} is above the maximum; {} used", limits.max_count))
                .at("_count"),
        );
    }
    Ok(n.min(limits.max_count))
}

/// `_elements`: at most `limits.max_elements` names, each an element of `rt`.
fn element_names(rt: ResourceType, raw: &str, limits: &SearchLimits) -> Result<Vec<String>, Issue> {
    let names = values("_elements", raw)?;
    if names.len() > limits.max_elements {
        return Err(Issue::error(
            "too-costly",
            format!("_elements lists {} names; at most {} are accepted", names.len(), limits.max_elements),
        )
        .at("_elements"));
    }
    if let Some(e) = names.iter().find(|e| !elements::is_known_element(rt, e)) {
        return Err(
            Issue::error("invalid", format!("_elements: {e:?} is not an element of {}", rt.as_str())).at("_elements")
        );
    }
    Ok(names)
}

fn parse_sort(raw: &str) -> Result<Sort, Issue> {
    let keys: Vec<&str> = raw.split(',').collect();
    let key = |k: &str| -> Option<Sort> {
        let (descending, name) = match k.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, k),
        };
        let key = match name {
            "_id" => SortKey::Id,
            "_lastUpdated" => SortKey::LastUpdated,
            _ => return None,
        };
        Some(Sort { key, descending })
    };
    let bad = || {
        Issue::error(
            "not-supported",
            format!("_sort={raw:?}: supported keys are _lastUpdated, -_lastUpdated, _id, -_id"),
        )
        .at("_sort")
    };
    match keys.as_slice() {
        [one] => key(one).ok_or_else(bad),
        // `_lastUpdated,_id` is accepted: the id is always the tie-breaker.
        [first, second] => {
            let s = key(first).ok_or_else(bad)?;
            match key(second) {
                Some(Sort { key: SortKey::Id, descending })
                    if s.key == SortKey::LastUpdated && descending == s.descending =>
                {
                    Ok(s)
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(rt: ResourceType, q: &str) -> Result<SearchRequest, Vec<Issue>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
        parse(rt, &pairs, false, &SearchLimits::default())
    }

    #[test]
    fn tokens_and_escapes() {
        let r = p(ResourceType::Location, "identifier=52/1,sys|v,|bare,a\\,b&_tag=52").unwrap();
        let Condition::Tokens { param, values } = &r.conditions[0] else { panic!() };
        assert_eq!(*param, "identifier");
        assert_eq!(values[0], TokenValue { system: None, code: Some("52/1".into()) });
        assert_eq!(values[1], TokenValue { system: Some("sys".into()), code: Some("v".into()) });
        assert_eq!(values[2], TokenValue { system: Some(String::new()), code: Some("bare".into()) });
        assert_eq!(values[3], TokenValue { system: None, code: Some("a,b".into()) });
        assert_eq!(r.conditions.len(), 2);
    }

    #[test]
    fn strict_and_lenient_unknown_parameters() {
        let e = p(ResourceType::Location, "foo=1").unwrap_err();
        assert_eq!(e[0].code, "not-supported");
        let pairs = vec![("foo".to_owned(), "1".to_owned()), ("_id".to_owned(), "a".to_owned())];
        let r = parse(ResourceType::Location, &pairs, true, &SearchLimits::default()).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.canonical_query, "_id=a");
    }

    #[test]
    fn count_is_clamped_and_sort_checked() {
        let r = p(ResourceType::Location, "_count=500&_sort=-_lastUpdated").unwrap();
        assert_eq!(r.count, 200);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.sort, Sort { key: SortKey::LastUpdated, descending: true });
        assert!(p(ResourceType::Location, "_count=-1").is_err());
        assert!(p(ResourceType::Location, "_sort=name").is_err());
        assert!(p(ResourceType::Location, "identifier=").is_err());
        assert!(p(ResourceType::Location, "_lastUpdated=ge2023-13").is_err());
        assert!(p(ResourceType::Location, "_has:HealthcareService:location:name=x").is_err());
        assert!(p(ResourceType::Organization, "_revinclude=HealthcareService:location").is_err());
    }

    #[test]
    fn or_values_are_capped() {
        let many: Vec<String> = (0..1001).map(|i| format!("v{i}")).collect();
        let e = p(ResourceType::Location, &format!("identifier={}", many.join(","))).unwrap_err();
        assert_eq!(e[0].code, "too-costly");
    }

    #[test]
    fn long_values_and_names_are_refused_without_echo() {
        let max = SearchLimits::default().max_value_len;
        assert!(p(ResourceType::Location, &format!("name={}", "a".repeat(max))).is_ok());
        // SQLite refused a 60,000-character LIKE pattern ("pattern too complex"): a 500 before.
        for q in [format!("name={}", "a".repeat(60_000)), format!("{}=1", "n".repeat(max + 1))] {
            let e = p(ResourceType::Location, &q).unwrap_err();
            assert_eq!(e[0].code, "too-costly");
            assert!(e[0].diagnostics.len() < 200, "{}", e[0].diagnostics);
        }
        // Each comma-separated value counts on its own.
        assert!(p(ResourceType::Location, &format!("identifier={}", vec!["v"; 900].join(","))).is_ok());
    }

    #[test]
    fn format_takes_no_modifier() {
        assert!(p(ResourceType::Location, "_format=json").is_ok());
        assert_eq!(p(ResourceType::Location, "_format:x=json").unwrap_err()[0].code, "not-supported");
    }

    #[test]
    fn normalize_strips_accents() {
        assert_eq!(normalize("Hébergement Cœur"), "hebergement coeur");
    }
}
