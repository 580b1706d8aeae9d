//! Canonical URLs of the ROR IG and the ANS terminologies (see `../shared/docs/ror-codes.md`).

/// ror-location profile.
pub const PROFILE_LOCATION: &str = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location";
/// ror-healthcareservice profile.
pub const PROFILE_HEALTHCARE_SERVICE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice";
/// Extension: patient type of an offer.
pub const EXT_PATIENT_TYPE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-patient-type";
/// Commune code system (TRE_R13, INSEE COG).
pub const COMMUNE_SYSTEM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM";
/// System of the place identifiers (as the ROR documentation queries them).
pub const LOCATION_ID_SYSTEM: &str =
    "https://mos.esante.gouv.fr/NOS/JDV_J236-TypologieIdentifiantLieu-ROR/FHIR/JDV-J236-TypologieIdentifiantLieu-ROR";
/// ror-organization profile.
pub const PROFILE_ORGANIZATION: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-organization";
/// The capacity extension (CapacitePriseCharge).
pub const EXT_SUPPORTED_CAPACITY: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity";
/// Commune (INSEE COG) of a Location.
pub const EXT_COMMUNE_COG: &str = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-commune-cog";
/// Creation date in the ROR.
pub const EXT_META_CREATION_DATE: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-meta-creation-date";
/// uniteSensible flag of an operational offer.
pub const EXT_SENSITIVE_UNIT: &str =
    "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-sensitive-unit";
/// Region code system (TRE_R30, bound through JDV_J237 on meta.tag).
pub const REGION_SYSTEM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R30-RegionOM/FHIR/TRE-R30-RegionOM";
/// Identifier type code system of operational resources (codes 25 and 26 for places).
pub const ID_TYPE_SYSTEM: &str = "https://mos.esante.gouv.fr/NOS/TRE_R354-TypeIdentifiantRessourceOperationnelle/FHIR/TRE-R354-TypeIdentifiantRessourceOperationnelle";
/// R4 Location.status code system.
pub const LOCATION_STATUS_SYSTEM: &str = "http://hl7.org/fhir/location-status";
/// Tag added to subsetted resources (`_elements`).
pub const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// The sub-extensions of `ror-location-supported-capacity`, in the IG's order (0.7.0: 12, with `comment`).
pub const CAPACITY_SUB_EXTENSIONS: [&str; 12] = [
    "capacityType",
    "capacityStatus",
    "temporalityCapacity",
    "nbCapacity",
    "capacitySourceType",
    "genderCapacityAvailable",
    "capacityUpdateDate",
    "capacityClosingType",
    "additionalBedType",
    "crisisType",
    "temporaryAssignement",
    "comment",
];

/// The sub-extensions of `ror-location-supported-capacity` that carry a code, with their code systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityCode {
    /// TRE_R329 NatureCapacite.
    Type,
    /// TRE_R330 TypeStatutCapacite.
    Status,
    /// TRE_R331 TemporaliteCapacite.
    Temporality,
    /// TRE_R335 TypeSourceCapacite.
    SourceType,
    /// TRE_R332 GenreCapacite.
    Gender,
    /// TRE_R333 TypeFermetureCapacite.
    ClosingType,
    /// TRE_R334 TypeLitSupplementaire.
    AdditionalBedType,
    /// TRE_R336 TypeCrise.
    CrisisType,
    /// TRE_R337 AffectationTemporaire.
    TemporaryAssignment,
}

impl CapacityCode {
    /// The sub-extension url.
    pub fn url(self) -> &'static str {
        match self {
            Self::Type => "capacityType",
            Self::Status => "capacityStatus",
            Self::Temporality => "temporalityCapacity",
            Self::SourceType => "capacitySourceType",
            Self::Gender => "genderCapacityAvailable",
            Self::ClosingType => "capacityClosingType",
            Self::AdditionalBedType => "additionalBedType",
            Self::CrisisType => "crisisType",
            Self::TemporaryAssignment => "temporaryAssignement",
        }
    }

    /// The code system canonical URL.
    pub const fn system(self) -> &'static str {
        match self {
            Self::Type => "https://mos.esante.gouv.fr/NOS/TRE_R329-NatureCapacite/FHIR/TRE-R329-NatureCapacite",
            Self::Status => {
                "https://mos.esante.gouv.fr/NOS/TRE_R330-TypeStatutCapacite/FHIR/TRE-R330-TypeStatutCapacite"
            }
            Self::Temporality => {
                "https://mos.esante.gouv.fr/NOS/TRE_R331-TemporaliteCapacite/FHIR/TRE-R331-TemporaliteCapacite"
            }
            Self::SourceType => {
                "https://mos.esante.gouv.fr/NOS/TRE_R335-TypeSourceCapacite/FHIR/TRE-R335-TypeSourceCapacite"
            }
            Self::Gender => "https://mos.esante.gouv.fr/NOS/TRE_R332-GenreCapacite/FHIR/TRE-R332-GenreCapacite",
            Self::ClosingType => {
                "https://mos.esante.gouv.fr/NOS/TRE_R333-TypeFermetureCapacite/FHIR/TRE-R333-TypeFermetureCapacite"
            }
            Self::AdditionalBedType => {
                "https://mos.esante.gouv.fr/NOS/TRE_R334-TypeLitSupplementaire/FHIR/TRE-R334-TypeLitSupplementaire"
            }
            Self::CrisisType => "https://mos.esante.gouv.fr/NOS/TRE_R336-TypeCrise/FHIR/TRE-R336-TypeCrise",
            Self::TemporaryAssignment => {
                "https://mos.esante.gouv.fr/NOS/TRE_R337-AffectationTemporaire/FHIR/TRE-R337-AffectationTemporaire"
            }
        }
    }

    /// The codes of the code system with their displays.
    pub const fn codes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Type => &TRE_R329,
            Self::Status => &TRE_R330,
            Self::Temporality => &TRE_R331,
            Self::SourceType => &TRE_R335,
            Self::Gender => &TRE_R332,
            Self::ClosingType => &TRE_R333,
            Self::AdditionalBedType => &TRE_R334,
            Self::CrisisType => &TRE_R336,
            Self::TemporaryAssignment => &TRE_R337,
        }
    }

    /// The display of `code`, if the code is in the value set.
    pub fn display(self, code: &str) -> Option<&'static str> {
        self.codes().iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
    }
}

/// A code and its display.
pub type Code = (&'static str, &'static str);

/// TRE_R329 NatureCapacite.
pub const TRE_R329: [Code; 2] = [("01", "Lit"), ("02", "Place")];
/// TRE_R330 TypeStatutCapacite (version 20250328).
pub const TRE_R330: [Code; 9] = [
    ("01", "Installé"),
    ("02", "Disponible"),
    ("03", "Occupé"),
    ("04", "Réservé"),
    ("05", "Fermé"),
    ("06", "Supplémentaire"),
    ("07", "Opérationnel"),
    ("08", "Installé constaté"),
    ("09", "Autorisé"),
];
/// JDV_J188-TypeStatutCapacite-ROR: the TRE_R330 statuses the ROR exchanges (01–06).
pub const JDV_J188: [Code; 6] = [TRE_R330[0], TRE_R330[1], TRE_R330[2], TRE_R330[3], TRE_R330[4], TRE_R330[5]];
/// TRE_R331 TemporaliteCapacite.
pub const TRE_R331: [Code; 5] = [
    ("01", "Courant"),
    ("02", "Prévisionnel 1 heure"),
    ("03", "Prévisionnel 24 heures"),
    ("04", "Prévisionnel 48 heures"),
    ("05", "Prévisionnel 7 jours"),
];
/// TRE_R332 GenreCapacite.
pub const TRE_R332: [Code; 4] = [("01", "Femme"), ("02", "Homme"), ("03", "Indifférencié"), ("04", "Indéterminé")];
/// TRE_R333 TypeFermetureCapacite.
pub const TRE_R333: [Code; 3] = [("01", "Réactivable"), ("02", "Non réactivable"), ("03", "Indéterminé")];
/// TRE_R334 TypeLitSupplementaire.
pub const TRE_R334: [Code; 3] = [
    ("01", "Mobilisé"),
    ("02", "Mobilisable sans ressources humaines"),
    ("03", "Mobilisable avec ressources humaines"),
];
/// TRE_R335 TypeSourceCapacite.
pub const TRE_R335: [Code; 4] = [
    ("01", "Saisie manuelle"),
    ("02", "Bed management"),
    ("03", "Gestion administrative du malade (GAM)"),
    ("04", "Dossier patient informatisé (DPI)"),
];
/// TRE_R336 TypeCrise.
pub const TRE_R336: [Code; 2] = [("01", "PMIE 1"), ("02", "Situation sanitaire Exceptionnelle (SSE) (Plan blanc)")];
/// TRE_R337 AffectationTemporaire.
pub const TRE_R337: [Code; 3] = [("01", "Aucune"), ("02", "Covid+"), ("03", "Covid-")];

/// ROR regions (JDV_J237-RegionOM-ROR, codes of TRE_R30): code and display.
pub const REGIONS: [Code; 18] = [
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Ile-de-france"),
    ("24", "Centre-Val-de-Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand-Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

/// Display of a region code (JDV_J237).
pub fn region_display(code: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}
