//! Pure FHIR JSON mapping: canonical URLs, extraction of searchable fields from ROR-profiled
//! resources, write-time rendering, Bundles and OperationOutcomes.
//!
//! Nothing here imports actix or diesel. fhir-sdk models are used only in [`validate`], so the
//! heavy serde monomorphisation of the generated models happens in one module.

pub mod bundle;
pub mod codes;
pub mod elements;
pub mod extract;
pub mod figures;
pub mod measure_report;
pub mod outcome;
pub mod render;
pub mod territory;
pub mod validate;

/// Resource types served by this facade (serialised as their FHIR name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ResourceType {
    /// Lieu de réalisation de l'offre.
    Location,
    /// Offre opérationnelle.
    HealthcareService,
    /// EJ / EG.
    Organization,
    /// One capacity figure of a Location.
    Observation,
}

impl ResourceType {
    /// Every served type.
    pub const ALL: [ResourceType; 4] = [Self::Location, Self::HealthcareService, Self::Organization, Self::Observation];

    /// The FHIR name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Location => "Location",
            Self::HealthcareService => "HealthcareService",
            Self::Organization => "Organization",
            Self::Observation => "Observation",
        }
    }

    /// Parses a FHIR type name (case-sensitive, as in URLs).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A FHIR logical id is 1–64 characters of `[A-Za-z0-9\-\.]`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
