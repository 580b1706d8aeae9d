//! FHIR search: parsing a request into a typed [`SearchRequest`] (pure, no actix, no diesel),
//! signing paging cursors, and translating requests into bound SQL.

pub mod cursor;
pub mod date;
pub mod filter;
pub mod limits;
pub mod measure;
pub mod measure_report;
pub mod near;
pub mod number;
pub mod parse;
pub mod query;
pub mod registry;

use crate::fhir::ResourceType;
use crate::fhir::codes::CapacityCode;
use crate::fhir::outcome::Issue;
use date::DateCondition;
use number::NumberCondition;

/// One value of a token parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenValue {
    /// `None`: any system (`code`); `Some("")`: no system (`|code`); `Some(s)`: `s|code`.
    pub system: Option<String>,
    /// `None` for `system|` (any code of that system).
    pub code: Option<String>,
}

/// How a string parameter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMode {
    /// Default: starts with, ignoring case and accents.
    StartsWith,
    /// `:exact`: equal, case- and accent-sensitive.
    Exact,
    /// `:contains`: contains, ignoring case and accents.
    Contains,
}

/// A string-searchable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringField {
    /// Location.name.
    LocationName,
    /// Location.address.postalCode.
    PostalCode,
    /// Location.address.city.
    City,
    /// HealthcareService.name.
    ServiceName,
}

/// One test on a capacity figure.
#[derive(Debug, Clone, PartialEq)]
pub enum FigureTest {
    /// A coded sub-extension has one of `values` (`negated`, `:not`: has none of them, or is absent).
    Code {
        /// Sub-extension (its code system).
        field: CapacityCode,
        /// Values, ORed.
        values: Vec<TokenValue>,
        /// `:not`.
        negated: bool,
    },
    /// `nb-capacity`: the count meets one of the conditions.
    Count(Vec<NumberCondition>),
    /// `capacity-update-date`: the update instant meets one of the conditions.
    Updated(Vec<DateCondition>),
}

impl FigureTest {
    fn value_count(&self) -> usize {
        match self {
            Self::Code { values, .. } => values.len(),
            Self::Count(v) => v.len(),
            Self::Updated(v) => v.len(),
        }
    }
}

/// One parameter occurrence; conditions are ANDed, the values inside one are ORed.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `_id`.
    Ids(Vec<String>),
    /// `identifier`, `_tag`, `type` (the token index).
    Tokens {
        /// Parameter name as indexed.
        param: &'static str,
        /// Values.
        values: Vec<TokenValue>,
    },
    /// Location `status`.
    LocationStatus(Vec<TokenValue>),
    /// `name`, `address-postalcode`.
    Strings {
        /// Column.
        field: StringField,
        /// Match mode.
        mode: StringMode,
        /// Values (already normalised for the non-exact modes).
        values: Vec<String>,
    },
    /// `_lastUpdated`.
    LastUpdated(Vec<DateCondition>),
    /// `_has:HealthcareService:location:identifier`.
    HasServiceIdentifier(Vec<TokenValue>),
    /// `_has:HealthcareService:location:_id`.
    HasServiceId(Vec<String>),
    /// HealthcareService `location`.
    ServiceLocation(Vec<String>),
    /// HealthcareService `organization`.
    ServiceOrganization(Vec<String>),
    /// Observation `subject`.
    ObservationSubject(Vec<String>),
    /// Observation `code`.
    ObservationCode(Vec<TokenValue>),
    /// The capacity parameters of Location, all of them: one figure the consumer may see passes
    /// every test.
    Figure(Vec<FigureTest>),
    /// Location `partof`.
    LocationPartOf(Vec<String>),
    /// Location `organization`.
    LocationOrganization(Vec<String>),
    /// Location `near`.
    Near(near::Near),
    /// HealthcareService `location.<parameter>`: one of the offer's places meets the condition
    /// (a Location condition; the chained capacity parameters are one figure of one place).
    Chain(Box<Condition>),
    /// `_filter`: an expression over conditions.
    Filter(Box<FilterNode>),
}

/// A `_filter` expression, its tests made conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterNode {
    /// All of them.
    And(Vec<FilterNode>),
    /// One of them.
    Or(Vec<FilterNode>),
    /// Not this one.
    Not(Box<FilterNode>),
    /// One test.
    Leaf(Condition),
}

impl FilterNode {
    /// Calls `f` on each condition of the expression.
    pub fn each(&self, f: &mut dyn FnMut(&Condition)) {
        match self {
            Self::And(v) | Self::Or(v) => v.iter().for_each(|n| n.each(f)),
            Self::Not(n) => n.each(f),
            Self::Leaf(c) => f(c),
        }
    }

    fn any(&self, pred: &dyn Fn(&Condition) -> bool) -> bool {
        let mut found = false;
        self.each(&mut |c| found |= pred(c));
        found
    }
}

impl Condition {
    /// Number of OR values (for the cap).
    pub fn value_count(&self) -> usize {
        match self {
            Self::Ids(v)
            | Self::HasServiceId(v)
            | Self::ServiceLocation(v)
            | Self::ServiceOrganization(v)
            | Self::LocationPartOf(v)
            | Self::LocationOrganization(v)
            | Self::ObservationSubject(v) => v.len(),
            Self::Near(_) => 1,
            Self::Chain(c) => c.value_count(),
            Self::Filter(node) => {
                let mut n = 0;
                node.each(&mut |c| n += c.value_count());
                n
            }
            Self::Tokens { values, .. } => values.len(),
            Self::LocationStatus(v) | Self::HasServiceIdentifier(v) | Self::ObservationCode(v) => v.len(),
            Self::Figure(tests) => tests.iter().map(FigureTest::value_count).sum(),
            Self::Strings { values, .. } => values.len(),
            Self::LastUpdated(v) => v.len(),
        }
    }

    /// The number of values of a condition that names the places it matches (ids, identifiers,
    /// offers by id or identifier), so that its values bound its matches whatever the data; `None`
    /// for any other condition.
    pub fn named_values(&self) -> Option<usize> {
        match self {
            Self::Ids(v) | Self::HasServiceId(v) => Some(v.len()),
            Self::HasServiceIdentifier(v) | Self::Tokens { param: "identifier", values: v } => Some(v.len()),
            _ => None,
        }
    }

    /// Whether how many rows match depends on the values so much that a plan made without them
    /// can be far off: a range (`_lastUpdated=ge…` matches a hundred places or all of them), or a
    /// string match (`name=c` and `name=centre hospitalier d`; `:contains` with or without a
    /// trigram to look up).
    pub fn is_range(&self) -> bool {
        match self {
            Self::LastUpdated(_) | Self::Near(_) | Self::Strings { .. } => true,
            Self::Figure(tests) => tests.iter().any(|t| !matches!(t, FigureTest::Code { .. })),
            Self::Chain(c) => c.is_range(),
            Self::Filter(node) => node.any(&Condition::is_range),
            _ => false,
        }
    }
}

/// Sort key (always completed by the id, so the order is total and paging is stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `_id`.
    Id,
    /// `_lastUpdated`.
    LastUpdated,
    /// `near` (Location, with a `near` parameter): nearest first, by great-circle distance.
    Near,
}

/// `_sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// Key.
    pub key: SortKey,
    /// `-` prefix.
    pub descending: bool,
}

/// A parsed, validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Searched type.
    pub resource: ResourceType,
    /// ANDed conditions.
    pub conditions: Vec<Condition>,
    /// Order.
    pub sort: Sort,
    /// Page size.
    pub count: usize,
    /// Whether to compute `total`.
    pub total: bool,
    /// `_summary=count`.
    pub summary_count: bool,
    /// `_elements`.
    pub elements: Option<Vec<String>>,
    /// `_include=HealthcareService:location`.
    pub include_locations: bool,
    /// `_revinclude=HealthcareService:location`.
    pub revinclude_services: bool,
    /// `_include=Location:organization`, `_include=HealthcareService:organization`.
    pub include_organizations: bool,
    /// `_cursor` as received (verified later).
    pub cursor: Option<String>,
    /// Warnings to return in an OperationOutcome entry (clamped `_count`, ignored parameters).
    pub warnings: Vec<Issue>,
    /// The parameters a `_filter` tests (for the access policy, which checks the others as sent).
    pub filter_parameters: Vec<String>,
    /// The parameters, re-encoded, without `_cursor`: the base of `self`/`next` links and what a cursor is bound to.
    pub canonical_query: String,
}

impl SearchRequest {
    /// Whether this search is a lookup of at most `max` values whose every condition names them
    /// (ids, identifiers, or offers by id or identifier), so that its work is bounded by those
    /// values whatever the data: a few index probes, the page, their offers.
    pub fn is_small_lookup(&self, max: usize) -> bool {
        let values: Option<usize> = self.conditions.iter().map(Condition::named_values).sum();
        values.is_some_and(|n| n > 0 && n <= max) && !self.summary_count
    }

    /// The `near` of the search, when it has one.
    pub fn near(&self) -> Option<&near::Near> {
        self.conditions.iter().find_map(|c| match c {
            Condition::Near(n) => Some(n),
            _ => None,
        })
    }

    /// The resource types other than the searched one that this search reads or returns
    /// (`_include`, `_revinclude`, `_has`): each must be granted to the consumer as well.
    pub fn related_types(&self) -> Vec<(ResourceType, &'static str)> {
        let mut out = Vec::new();
        if self.include_locations {
            out.push((ResourceType::Location, "_include=HealthcareService:location"));
        }
        if self.revinclude_services {
            out.push((ResourceType::HealthcareService, "_revinclude=HealthcareService:location"));
        }
        if self.include_organizations {
            out.push((ResourceType::Organization, "_include=…:organization"));
        }
        let any = |pred: &dyn Fn(&Condition) -> bool| {
            self.conditions.iter().any(|c| match c {
                Condition::Filter(node) => node.any(pred),
                c => pred(c),
            })
        };
        if any(&|c| matches!(c, Condition::HasServiceIdentifier(_) | Condition::HasServiceId(_))) {
            out.push((ResourceType::HealthcareService, "_has:HealthcareService"));
        }
        if any(&|c| matches!(c, Condition::Chain(_))) {
            out.push((ResourceType::Location, "a location.* chain"));
        }
        out
    }
}

/// Lower-cases and strips French diacritics, for accent- and case-insensitive string search.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' | 'ì' => 'i',
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' | 'ý' => 'y',
            'ñ' => 'n',
            'œ' => {
                out.push('o');
                'e'
            }
            'æ' => {
                out.push('a');
                'e'
            }
            '’' => '\'',
            other => other,
        };
        out.push(base);
    }
    out
}
