//! How each search parameter's value becomes a [`Condition`]: the functions the registry
//! (`search::registry`) names for its entries.

use super::Param;
use super::values::{dates, ids as id_list, numbers, references, tokens, unescape, values};
use crate::fhir::codes::CapacityCode;
use crate::fhir::outcome::Issue;
use crate::search::{Condition, FigureTest, StringField, StringMode, normalize};

/// `_id`.
pub(crate) fn ids(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::Ids(id_list(p.name, p.raw)?))
}

/// `_lastUpdated`.
pub(crate) fn last_updated(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::LastUpdated(dates(p.name, p.raw)?))
}

/// A parameter of the token index.
fn indexed(p: &Param<'_>, param: &'static str) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::Tokens { param, values: tokens(p.name, p.raw)? })
}

/// `identifier`.
pub(crate) fn identifier(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "identifier")
}

/// `_tag`.
pub(crate) fn tag(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "_tag")
}

/// Location `type`.
pub(crate) fn location_type(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "type")
}

/// Location `status`.
pub(crate) fn location_status(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::LocationStatus(tokens(p.name, p.raw)?))
}

/// Observation `code`.
pub(crate) fn observation_code(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::ObservationCode(tokens(p.name, p.raw)?))
}

/// A test on the figures' `field`: `code`, `system|code`, `|code`, `system|`; `:not` negates.
fn figures(p: &Param<'_>, field: CapacityCode) -> Result<Condition, Issue> {
    let negated = match p.modifier {
        None => false,
        Some("not") => true,
        Some(m) => {
            return Err(
                Issue::error("not-supported", format!("modifier :{m} is not supported on {}", p.name)).at(p.full)
            );
        }
    };
    Ok(Condition::Figure(vec![FigureTest::Code { field, values: tokens(p.name, p.raw)?, negated }]))
}

/// `capacity-status`.
pub(crate) fn capacity_status(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::Status)
}

/// `capacity-type`.
pub(crate) fn capacity_type(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::Type)
}

/// `temporality-capacity`.
pub(crate) fn temporality(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::Temporality)
}

/// `gender-capacity-available`.
pub(crate) fn gender(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::Gender)
}

/// `capacity-closing-type`.
pub(crate) fn closing_type(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::ClosingType)
}

/// `additional-bed-type`.
pub(crate) fn additional_bed_type(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::AdditionalBedType)
}

/// `crisis-type`.
pub(crate) fn crisis_type(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::CrisisType)
}

/// `temporary-assignement` (sic, the IG's name).
pub(crate) fn temporary_assignment(p: &Param<'_>) -> Result<Condition, Issue> {
    figures(p, CapacityCode::TemporaryAssignment)
}

/// `nb-capacity`.
pub(crate) fn nb_capacity(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::Figure(vec![FigureTest::Count(numbers(p.name, p.raw)?)]))
}

/// `capacity-update-date`.
pub(crate) fn capacity_update_date(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    Ok(Condition::Figure(vec![FigureTest::Updated(dates(p.name, p.raw)?)]))
}

/// HealthcareService `location`.
pub(crate) fn service_location(p: &Param<'_>) -> Result<Condition, Issue> {
    p.typed_as("Location", || format!("modifier on {} is not supported", p.full))?;
    Ok(Condition::ServiceLocation(references(p.name, p.raw, "Location")?))
}

/// HealthcareService `organization`.
pub(crate) fn service_organization(p: &Param<'_>) -> Result<Condition, Issue> {
    p.typed_as("Organization", || format!("modifier on {} is not supported", p.full))?;
    Ok(Condition::ServiceOrganization(references(p.name, p.raw, "Organization")?))
}

/// Observation `subject`.
pub(crate) fn observation_subject(p: &Param<'_>) -> Result<Condition, Issue> {
    p.typed_as("Location", || format!("{}: capacity Observations have Location subjects", p.full))?;
    Ok(Condition::ObservationSubject(references(p.name, p.raw, "Location")?))
}

/// A string parameter on `field`, with `:exact`, `:contains` or no modifier (starts with).
fn string(p: &Param<'_>, field: StringField) -> Result<Condition, Issue> {
    let name = p.name;
    let mode = match p.modifier {
        None => StringMode::StartsWith,
        Some("exact") => StringMode::Exact,
        Some("contains") => StringMode::Contains,
        Some(m) => {
            return Err(Issue::error("not-supported", format!("modifier :{m} is not supported on {name}")).at(p.full));
        }
    };
    let vals = values(name, p.raw)?.iter().map(|v| unescape(v)).collect::<Vec<_>>();
    let vals = match (mode, field) {
        (StringMode::Exact, _) | (_, StringField::PostalCode) => vals,
        _ => vals.iter().map(|v| normalize(v)).collect(),
    };
    Ok(Condition::Strings { field, mode, values: vals })
}

/// Location `name`.
pub(crate) fn location_name(p: &Param<'_>) -> Result<Condition, Issue> {
    string(p, StringField::LocationName)
}

/// Location `address-postalcode`.
pub(crate) fn postal_code(p: &Param<'_>) -> Result<Condition, Issue> {
    string(p, StringField::PostalCode)
}

/// Location `address-city`.
pub(crate) fn city(p: &Param<'_>) -> Result<Condition, Issue> {
    string(p, StringField::City)
}

/// HealthcareService `name`.
pub(crate) fn service_name(p: &Param<'_>) -> Result<Condition, Issue> {
    string(p, StringField::ServiceName)
}

/// Location `operational-status`.
pub(crate) fn operational_status(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "operational-status")
}

/// Location `commune-cog`.
pub(crate) fn commune_cog(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "commune-cog")
}

/// HealthcareService `service-category`.
pub(crate) fn service_category(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "service-category")
}

/// HealthcareService `service-type`.
pub(crate) fn service_type(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "service-type")
}

/// HealthcareService `specialty`.
pub(crate) fn specialty(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "specialty")
}

/// HealthcareService `characteristic`.
pub(crate) fn characteristic(p: &Param<'_>) -> Result<Condition, Issue> {
    indexed(p, "characteristic")
}

/// HealthcareService `active` (`true` or `false`).
pub(crate) fn active(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    let values = tokens(p.name, p.raw)?;
    for v in &values {
        if v.system.as_deref().is_some_and(|s| !s.is_empty()) || !matches!(v.code.as_deref(), Some("true" | "false")) {
            return Err(Issue::error("invalid", format!("parameter {}: true or false", p.name)).at(p.full));
        }
    }
    Ok(Condition::Tokens { param: "active", values })
}

/// Location `partof`.
pub(crate) fn part_of(p: &Param<'_>) -> Result<Condition, Issue> {
    p.typed_as("Location", || format!("modifier on {} is not supported", p.full))?;
    Ok(Condition::LocationPartOf(references(p.name, p.raw, "Location")?))
}

/// Location `organization`.
pub(crate) fn location_organization(p: &Param<'_>) -> Result<Condition, Issue> {
    p.typed_as("Organization", || format!("modifier on {} is not supported", p.full))?;
    Ok(Condition::LocationOrganization(references(p.name, p.raw, "Organization")?))
}

/// Location `near`: one `latitude|longitude|distance|unit` (FHIR: no OR list).
pub(crate) fn near(p: &Param<'_>) -> Result<Condition, Issue> {
    p.plain()?;
    let value = crate::search::near::parse_near(p.raw)
        .map_err(|e| Issue::error("invalid", format!("parameter {}: {e}", p.name)).at(p.full))?;
    Ok(Condition::Near(value))
}
