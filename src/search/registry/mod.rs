//! The search parameters this server supports: one entry per resource type and name, with its
//! FHIR type, its canonical definition, what the CapabilityStatement says of it, whether it
//! matches capacity figures (the access policy refuses those to profiles without capacity), and
//! how its value becomes a [`Condition`]. Parsing, the policy and the CapabilityStatement are read
//! from here (`capability-statement.json` is checked against [`capability_search_params`]); the
//! SQL of each condition is `db::sql`'s. Pure.

use serde_json::{Value, json};

use super::Condition;
use super::parse::Param;
use super::parse::conditions as c;
use crate::fhir::ResourceType;
use crate::fhir::outcome::Issue;

/// The FHIR type of a search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `token`.
    Token,
    /// `string`.
    String,
    /// `date`.
    Date,
    /// `number`.
    Number,
    /// `reference`.
    Reference,
    /// `special` (`_has`).
    Special,
}

impl ParamType {
    /// Its FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::String => "string",
            Self::Date => "date",
            Self::Number => "number",
            Self::Reference => "reference",
            Self::Special => "special",
        }
    }
}

/// How a parameter's `name[:modifier]=value` becomes a condition.
pub(crate) type ConditionFn = fn(&Param<'_>) -> Result<Condition, Issue>;

/// One supported search parameter.
#[derive(Clone, Copy)]
pub struct SearchParam {
    /// The type it searches.
    pub resource: ResourceType,
    /// Its name.
    pub name: &'static str,
    /// Its FHIR type.
    pub kind: ParamType,
    /// Its canonical SearchParameter (none for `_has`).
    pub definition: Option<&'static str>,
    /// What the CapabilityStatement says of it.
    pub documentation: &'static str,
    /// Whether it matches capacity figures.
    pub capacity: bool,
    /// The modifiers it accepts (`name:modifier`); its reader refuses the others.
    pub modifiers: &'static [&'static str],
    /// The prefixes its values accept (date parameters), `eq` being the default.
    pub prefixes: &'static [&'static str],
    /// How its value is read; `None` for `_has`, whose chain is in its name.
    pub(crate) condition: Option<ConditionFn>,
}

impl std::fmt::Debug for SearchParam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.resource.as_str(), self.name)
    }
}

const DOC_ID: &str = "Logical id of the resource; comma-separated ids are ORed.";
const DOC_LAST_UPDATED: &str = "meta.lastUpdated. Prefixes eq (default), ne, gt, ge, lt, le, sa, eb (ap is not \
supported); precision from year to second (YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm, YYYY-MM-DDThh:mm:ss, optional \
fraction of a second), with zone Z, +hh:mm or -hh:mm; a time without a zone is read as UTC.";
const DOC_TAG: &str =
    "Source region of the data: code from JDV_J237-RegionOM-ROR (for example 52), as code or system|code.";
const DOC_IDENTIFIER: &str = "Business identifier: value, system|value or |value; comma-separated values are ORed.";

const STRING_MODIFIERS: &[&str] = &["exact", "contains"];

const RESOURCE_ID: &str = "http://hl7.org/fhir/SearchParameter/Resource-id";
const RESOURCE_LAST_UPDATED: &str = "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated";
const RESOURCE_TAG: &str = "http://hl7.org/fhir/SearchParameter/Resource-tag";

use ParamType::{Date, Reference, String as Str, Token};
use ResourceType::{HealthcareService as H, Location as L, Observation as OBS, Organization as O};

/// The prefixes of date parameters (`ap` is not supported).
const DATE_PREFIXES: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le", "sa", "eb"];

/// A parameter that does not match capacity figures, without modifiers.
const fn param(
    resource: ResourceType,
    name: &'static str,
    kind: ParamType,
    definition: &'static str,
    documentation: &'static str,
    condition: ConditionFn,
) -> SearchParam {
    SearchParam {
        resource,
        name,
        kind,
        definition: Some(definition),
        documentation,
        capacity: false,
        modifiers: &[],
        prefixes: if matches!(kind, Date) { DATE_PREFIXES } else { &[] },
        condition: Some(condition),
    }
}

impl SearchParam {
    /// The same parameter, accepting `modifiers`.
    const fn accepting(self, modifiers: &'static [&'static str]) -> Self {
        Self { modifiers, ..self }
    }
}

/// What every capacity parameter's documentation ends with: the within-one-figure rule.
macro_rules! figure_doc {
    ($what:literal) => {
        concat!(
            $what,
            " Only the capacity figures the consumer may see (its access profile, sensitive units) are searched. All the \
             capacity parameters of one request (capacity-*, nb-capacity, temporality-capacity, gender-capacity-available, \
             additional-bed-type, crisis-type, temporary-assignement, repeated or not) describe one and the same figure: \
             a place matches when one of its figures passes all of them (capacity-type=01&capacity-status=02&nb-capacity=gt0: \
             a figure of beds, available, at least one)."
        )
    };
}

/// A ROR capacity token parameter of Location (`:not` accepted).
const fn capacity(
    name: &'static str,
    definition: &'static str,
    documentation: &'static str,
    condition: ConditionFn,
) -> SearchParam {
    SearchParam {
        resource: L,
        name,
        kind: Token,
        definition: Some(definition),
        documentation,
        capacity: true,
        modifiers: &["not"],
        prefixes: &[],
        condition: Some(condition),
    }
}

/// The prefixes of number parameters.
const NUMBER_PREFIXES: &[&str] = &["eq", "ne", "gt", "ge", "lt", "le"];

const DOC_FILTER: &str = "FHIR _filter (R4 grammar) over this type's search parameters (and, for \
HealthcareService, location.<parameter>): eq, ne, sw, co on strings; eq, ne on tokens and references; eq, ne, gt, ge, lt, le \
(sa, eb on dates) on dates and numbers; and, or (no precedence between them: left to right, as the specification says; \
use parentheses), not(...). The ROR shorthand (_id eq 140 or 141) repeats the parameter and operator before. Capacity \
tests joined by and describe one figure. At most 32 tests and 8 levels of nesting.";

/// `_filter` on `resource`.
const fn filter(resource: ResourceType) -> SearchParam {
    SearchParam {
        resource,
        name: "_filter",
        kind: ParamType::Special,
        definition: None,
        documentation: DOC_FILTER,
        capacity: false,
        modifiers: &[],
        prefixes: &[],
        condition: None,
    }
}

/// Every supported search parameter, in the order the CapabilityStatement declares them.
pub static PARAMETERS: &[SearchParam] = &[
    param(L, "_id", Token, RESOURCE_ID, DOC_ID, c::ids),
    param(L, "_lastUpdated", Date, RESOURCE_LAST_UPDATED, DOC_LAST_UPDATED, c::last_updated),
    param(L, "_tag", Token, RESOURCE_TAG, DOC_TAG, c::tag),
    filter(L),
    SearchParam {
        resource: L,
        name: "_has",
        kind: ParamType::Special,
        definition: None,
        documentation: "_has:HealthcareService:location:identifier and _has:HealthcareService:location:_id only",
        capacity: false,
        modifiers: &[],
        prefixes: &[],
        condition: None,
    },
    param(
        L,
        "identifier",
        Token,
        "http://hl7.org/fhir/SearchParameter/Location-identifier",
        DOC_IDENTIFIER,
        c::identifier,
    ),
    param(
        L,
        "name",
        Str,
        "http://hl7.org/fhir/SearchParameter/Location-name",
        "Name of the location (FHIR string search: case- and accent-insensitive, starts with; :exact; :contains, through a trigram index from three characters).",
        c::location_name,
    )
    .accepting(STRING_MODIFIERS),
    param(
        L,
        "address-postalcode",
        Str,
        "http://hl7.org/fhir/SearchParameter/Location-address-postalcode",
        "Postal code of the location address (FHIR string search: starts with).",
        c::postal_code,
    )
    .accepting(STRING_MODIFIERS),
    param(
        L,
        "status",
        Token,
        "http://hl7.org/fhir/SearchParameter/Location-status",
        "Location status: active, suspended or inactive.",
        c::location_status,
    ),
    param(
        L,
        "type",
        Token,
        "http://hl7.org/fhir/SearchParameter/Location-type",
        "Type of the location, as code or system|code.",
        c::location_type,
    ),
    param(
        L,
        "address-city",
        Str,
        "http://hl7.org/fhir/SearchParameter/Location-address-city",
        "City of the location address (FHIR string search: case- and accent-insensitive, starts with; :exact; :contains, through a trigram index from three characters).",
        c::city,
    )
    .accepting(STRING_MODIFIERS),
    param(
        L,
        "operational-status",
        Token,
        "http://hl7.org/fhir/SearchParameter/Location-operational-status",
        "Statut du lieu (Location.operationalStatus, JDV_J224-StatutLieu-ROR), as code or system|code.",
        c::operational_status,
    ),
    param(
        L,
        "commune-cog",
        Token,
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-location-commune-cog",
        "Code officiel géographique of the commune (extension ror-commune-cog, TRE_R13-CommuneOM), as code or system|code.",
        c::commune_cog,
    ),
    SearchParam {
        kind: ParamType::Special,
        ..param(
            L,
            "near",
            Token,
            "http://hl7.org/fhir/SearchParameter/Location-near",
            "latitude|longitude|distance|unit (WGS84 degrees; distance in km, the default, or m; 10 km when absent): \
             places whose position is within that great-circle distance. One value (no comma list). \
             _sort=near: nearest first (ties by id, keyset-paged), each match's distance in the R4 location-distance \
             extension of entry.search, in metres.",
            c::near,
        )
    },
    param(
        L,
        "partof",
        Reference,
        "http://hl7.org/fhir/SearchParameter/Location-partof",
        "The Location this one is part of, as id or Location/id.",
        c::part_of,
    )
    .accepting(&["Location"]),
    param(
        L,
        "organization",
        Reference,
        "http://hl7.org/fhir/SearchParameter/Location-organization",
        "The managing organization (managingOrganization), as id or Organization/id.",
        c::location_organization,
    )
    .accepting(&["Organization"]),
    capacity(
        "capacity-status",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-capacity-status",
        figure_doc!("Statut de la capacité (TRE_R330): code, system|code; :not for a figure without these statuses."),
        c::capacity_status,
    ),
    capacity(
        "capacity-type",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-capacity-type",
        figure_doc!("Nature de la capacité (TRE_R329, 01 lit, 02 place): code or system|code; :not negates."),
        c::capacity_type,
    ),
    capacity(
        "temporality-capacity",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-temporality-capacity",
        figure_doc!("Temporalité de la capacité (TRE_R331): code or system|code; :not negates."),
        c::temporality,
    ),
    capacity(
        "gender-capacity-available",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-gender-capacity-available",
        figure_doc!(
            "Genre de la capacité disponible (TRE_R332): code or system|code; :not also matches a figure without a gender."
        ),
        c::gender,
    ),
    capacity(
        "gender-capacity",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-gender-capacity-available",
        figure_doc!(
            "The code of the IG's SearchParameter for gender-capacity-available (the IG's CapabilityStatement names it \
             gender-capacity-available): the same parameter."
        ),
        c::gender,
    ),
    capacity(
        "capacity-closing-type",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-capacity-closing-type",
        figure_doc!("Type de fermeture (TRE_R333): code or system|code; :not also matches a figure without one."),
        c::closing_type,
    ),
    capacity(
        "additional-bed-type",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-additional-bed-type",
        figure_doc!(
            "Type de lit supplémentaire (TRE_R334): code or system|code; :not also matches a figure without one."
        ),
        c::additional_bed_type,
    ),
    capacity(
        "crisis-type",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-crisis-type",
        figure_doc!("Type de crise (TRE_R336): code or system|code; :not also matches a figure without one."),
        c::crisis_type,
    ),
    capacity(
        "temporary-assignement",
        "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-temporary-assignement",
        figure_doc!("Affectation temporaire (TRE_R337): code or system|code; :not negates."),
        c::temporary_assignment,
    ),
    SearchParam {
        kind: ParamType::Number,
        modifiers: &[],
        prefixes: NUMBER_PREFIXES,
        ..capacity(
            "nb-capacity",
            "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-nb-capacity",
            figure_doc!(
                "Nombre de lits ou places of the figure. Prefixes eq (default), ne, gt, ge, lt, le; eq and ne with FHIR's \
                 implicit precision (eq2 is [1.5, 2.5), eq1e1 is [5, 15))."
            ),
            c::nb_capacity,
        )
    },
    SearchParam {
        kind: Date,
        modifiers: &[],
        prefixes: DATE_PREFIXES,
        ..capacity(
            "capacity-update-date",
            "https://interop.esante.gouv.fr/ig/fhir/ror/SearchParameter/ror-sp-capacity-update-date",
            figure_doc!(
                "Date de mise à jour of the figure (capacityUpdateDate), with the prefixes and precisions of _lastUpdated."
            ),
            c::capacity_update_date,
        )
    },
    param(H, "_id", Token, RESOURCE_ID, DOC_ID, c::ids),
    param(H, "_lastUpdated", Date, RESOURCE_LAST_UPDATED, DOC_LAST_UPDATED, c::last_updated),
    param(H, "_tag", Token, RESOURCE_TAG, DOC_TAG, c::tag),
    filter(H),
    param(
        H,
        "identifier",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-identifier",
        DOC_IDENTIFIER,
        c::identifier,
    ),
    param(
        H,
        "location",
        Reference,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-location",
        "Location where the service is provided, as id or Location/id. Chains: location.<parameter> with every \
         Location parameter (location.capacity-status=02&location.nb-capacity=gt0…); an offer matches when one of its \
         places the consumer may see meets each chained condition, and its chained capacity parameters describe one \
         figure of one place.",
        c::service_location,
    )
    .accepting(&["Location"]),
    param(
        H,
        "organization",
        Reference,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-organization",
        "Organization providing the service, as id or Organization/id.",
        c::service_organization,
    )
    .accepting(&["Organization"]),
    param(
        H,
        "name",
        Str,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-name",
        "Name of the offer (FHIR string search: case- and accent-insensitive, starts with; :exact; :contains, through a trigram index from three characters).",
        c::service_name,
    )
    .accepting(STRING_MODIFIERS),
    param(
        H,
        "service-category",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-service-category",
        "Type d'offre (category, JDV_J238), as code or system|code.",
        c::service_category,
    ),
    param(
        H,
        "service-type",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-service-type",
        "Champ d'activité (type, JDV_J20), as code or system|code.",
        c::service_type,
    ),
    param(
        H,
        "specialty",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-specialty",
        "Activité opérationnelle (specialty, TRE_R211), as code or system|code.",
        c::specialty,
    ),
    param(
        H,
        "characteristic",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-characteristic",
        "Characteristics of the offer (mode de prise en charge and the other slices), as code or system|code.",
        c::characteristic,
    ),
    param(
        H,
        "active",
        Token,
        "http://hl7.org/fhir/SearchParameter/HealthcareService-active",
        "Whether the offer is in active use: true or false.",
        c::active,
    ),
    param(O, "_id", Token, RESOURCE_ID, DOC_ID, c::ids),
    param(O, "_lastUpdated", Date, RESOURCE_LAST_UPDATED, DOC_LAST_UPDATED, c::last_updated),
    param(O, "_tag", Token, RESOURCE_TAG, DOC_TAG, c::tag),
    filter(O),
    param(
        O,
        "identifier",
        Token,
        "http://hl7.org/fhir/SearchParameter/Organization-identifier",
        DOC_IDENTIFIER,
        c::identifier,
    ),
    param(OBS, "_id", Token, RESOURCE_ID, DOC_ID, c::ids),
    param(OBS, "_lastUpdated", Date, RESOURCE_LAST_UPDATED, DOC_LAST_UPDATED, c::last_updated),
    filter(OBS),
    param(
        OBS,
        "subject",
        Reference,
        "http://hl7.org/fhir/SearchParameter/Observation-subject",
        "The Location whose capacity is reported, as id or Location/id.",
        c::observation_subject,
    )
    .accepting(&["Location"]),
    param(
        OBS,
        "code",
        Token,
        "http://hl7.org/fhir/SearchParameter/clinical-code",
        "Capacity type (TRE_R329) or capacity status (TRE_R330), as code or system|code.",
        c::observation_code,
    ),
];

/// The parameters of `rt`, in declaration order.
pub fn of(rt: ResourceType) -> impl Iterator<Item = &'static SearchParam> {
    PARAMETERS.iter().filter(move |p| p.resource == rt)
}

/// Parameter `name` (without modifier) of `rt`.
pub fn find(rt: ResourceType, name: &str) -> Option<&'static SearchParam> {
    of(rt).find(|p| p.name == name)
}

/// The `searchParam` array of `rt` in the CapabilityStatement.
pub fn capability_search_params(rt: ResourceType) -> Value {
    Value::Array(
        of(rt)
            .map(|p| {
                let mut entry = json!({ "name": p.name });
                if let Some(d) = p.definition {
                    entry["definition"] = json!(d);
                }
                entry["type"] = json!(p.kind.as_str());
                entry["documentation"] = json!(p.documentation);
                entry
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
