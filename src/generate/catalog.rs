//! What the generator can say: the canonical URLs, the ANS NOS code tables it draws from (codes
//! and displays as in `ror-codes.md`), the kinds of hébergement units with their offers, and the
//! names given to establishments. Pure data.

use crate::fhir::codes::{self, CapacityCode};

pub(super) const PROFILE_LOCATION: &str = codes::PROFILE_LOCATION;
pub(super) const PROFILE_HS: &str = codes::PROFILE_HEALTHCARE_SERVICE;
pub(super) const PROFILE_ORG: &str = codes::PROFILE_ORGANIZATION;
pub(super) const EXT_COMMUNE: &str = codes::EXT_COMMUNE_COG;
pub(super) const EXT_CREATION: &str = codes::EXT_META_CREATION_DATE;
pub(super) const EXT_CAPACITY: &str = codes::EXT_SUPPORTED_CAPACITY;
pub(super) const EXT_SENSITIVE: &str = codes::EXT_SENSITIVE_UNIT;
pub(super) const EXT_PATIENT_TYPE: &str = codes::EXT_PATIENT_TYPE;
pub(super) const HS_ID_SYSTEM: &str = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/identifier";
pub(super) const REGION_SYSTEM: &str = codes::REGION_SYSTEM;
pub(super) const COMMUNE_SYSTEM: &str = codes::COMMUNE_SYSTEM;
pub(super) const ID_TYPE_SYSTEM: &str = codes::ID_TYPE_SYSTEM;
pub(super) const LOCATION_ID_SYSTEM: &str = codes::LOCATION_ID_SYSTEM;
pub(super) const FINESS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.2";
pub(super) const ORG_ID_TYPE_SYSTEM: &str = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203";
pub(super) const STATUT_LIEU: &str = "https://mos.esante.gouv.fr/NOS/TRE_R203-StatutLieu/FHIR/TRE-R203-StatutLieu";
pub(super) const FONCTION_LIEU: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R343-FonctionLieu/FHIR/TRE-R343-FonctionLieu";
pub(super) const CHAMP_ACTIVITE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R227-ChampActivite/FHIR/TRE-R227-ChampActivite";
pub(super) const ACTIVITE_OPERATIONNELLE: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R211-ActiviteOperationnelle/FHIR/TRE-R211-ActiviteOperationnelle";
pub(super) const MODE_PEC: &str =
    "https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge";
pub(super) const R329: &str = CapacityCode::Type.system();
pub(super) const R330: &str = CapacityCode::Status.system();
pub(super) const R331: &str = CapacityCode::Temporality.system();
pub(super) const R332: &str = CapacityCode::Gender.system();
pub(super) const R333: &str = CapacityCode::ClosingType.system();
pub(super) const R334: &str = CapacityCode::AdditionalBedType.system();
pub(super) const R335: &str = CapacityCode::SourceType.system();
pub(super) const R336: &str = CapacityCode::CrisisType.system();
pub(super) const R337: &str = CapacityCode::TemporaryAssignment.system();

/// A code and its display.
pub(super) type Code = codes::Code;

pub(super) const NATURE: [Code; 2] = codes::TRE_R329;
/// The statuses the ROR exchanges (JDV_J188).
pub(super) const STATUT_CAPA: [Code; 6] = codes::JDV_J188;
pub(super) const TEMPORALITE: [Code; 5] = codes::TRE_R331;
pub(super) const GENRE: [Code; 4] = codes::TRE_R332;
pub(super) const FERMETURE: [Code; 3] = codes::TRE_R333;
pub(super) const LIT_SUPP: [Code; 3] = codes::TRE_R334;
pub(super) const SOURCE: [Code; 4] = codes::TRE_R335;
pub(super) const CRISE: [Code; 2] = codes::TRE_R336;
pub(super) const AFFECTATION: [Code; 3] = codes::TRE_R337;
/// TRE_R203 StatutLieu.
pub(super) const STATUT_LIEU_CODES: [Code; 3] =
    [("1", "Fermé définitivement"), ("2", "Fermé temporairement"), ("3", "Opérationnel")];
/// JDV_J198 / TRE_R343 FonctionLieu.
pub(super) const HEBERGEMENT: Code = ("001", "Hébergement");
/// TRE_R354: 25 = functional id known by the ROR, 26 = id known by the establishment.
pub(super) const ID_TYPE: [Code; 2] = [
    ("25", "Identifiant du lieu de réalisation de l'offre connu par l'instance ROR"),
    ("26", "Identifiant de la zone d'hébergement connu par l'établissement"),
];
/// JDV_J20 / TRE_R227 ChampActivite (the four fields used here).
pub(super) const CHAMP: [Code; 4] = [
    ("01", "Médecine, Chirurgie, Obstétrique (MCO)"),
    ("02", "Soins de Suite et Réadaptation (SSR)"),
    ("03", "Psychiatrie (PSY)"),
    ("04", "Médico-social (MS)"),
];
/// TRE_R211 operational activities; only the display of 183 is known to this project.
pub(super) const SPECIALTIES: [&str; 6] = ["183", "356", "121", "224", "279", "412"];
pub(super) const SPECIALTY_183: &str = "Traitement neurochirurgical de la douleur";

// JDV_J19 / TRE_R213 modes of care used by the offers below.
pub(super) const CA: Code = ("09", "Chirurgie ambulatoire");
pub(super) const UHCD: Code = ("13", "Hospitalisation courte durée (UHCD)");
pub(super) const KANG: Code = ("14", "Hospitalisation kangourou");
pub(super) const SE: Code = ("20", "Soins externes et traitements ambulatoires");
pub(super) const HC: Code = ("28", "Hospitalisation complète (HC)");
pub(super) const HJ: Code = ("29", "Hospitalisation de jour (HJ)");
pub(super) const HN: Code = ("30", "Hospitalisation de nuit (HN)");
pub(super) const CS: Code = ("32", "Consultation (CS)");
pub(super) const URG: Code = ("33", "Accueil des urgences");
pub(super) const HSEM: Code = ("34", "Hospitalisation de semaine (HS)");
pub(super) const HEB: Code = ("46", "Hébergement (accueil jour et nuit)");
pub(super) const AJ: Code = ("47", "Accueil de jour");
pub(super) const EMIH: Code = ("52", "Equipe mobile intra-hospitalière");

/// A kind of hébergement unit: its Location name, field of activity (index in [`CHAMP`]),
/// whether it counts places rather than beds, the patients' age range, and its three offers
/// (the first is the main one).
pub(super) struct Unit {
    pub name: &'static str,
    pub champ: usize,
    pub place: bool,
    pub ages: (u32, u32),
    pub offers: [(&'static str, Code); 3],
}

const MCO: usize = 0;
const SSR: usize = 1;
const PSY: usize = 2;
const MS: usize = 3;
const BEDS: bool = false;
const PLACES: bool = true;
const ADULT: (u32, u32) = (18, 120);
const CHILD: (u32, u32) = (0, 17);
const ELDER: (u32, u32) = (65, 120);
const ALL: (u32, u32) = (0, 120);

const fn unit(
    name: &'static str,
    champ: usize,
    place: bool,
    ages: (u32, u32),
    offers: [(&'static str, Code); 3],
) -> Unit {
    Unit { name, champ, place, ages, offers }
}

#[rustfmt::skip]
pub(super) const UNITS: [Unit; 24] = [
    unit("Unité de soins de cardiologie", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Cardiologie", HC),
        ("Hospitalisation de semaine de Cardiologie", HSEM),
        ("Consultation de Cardiologie", CS)]),
    unit("Hébergement médecine polyvalente", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Médecine polyvalente", HC),
        ("Hospitalisation de jour de Médecine polyvalente", HJ),
        ("Consultation de Médecine polyvalente", CS)]),
    unit("Unité d'hospitalisation de courte durée", MCO, BEDS, ADULT, [
        ("Accueil des urgences adultes", URG),
        ("Hospitalisation de courte durée des urgences", UHCD),
        ("Soins externes des urgences", SE)]),
    unit("Réanimation médicale", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Réanimation médicale", HC),
        ("Equipe mobile de réanimation", EMIH),
        ("Consultation post-réanimation", CS)]),
    unit("Pédiatrie", MCO, BEDS, CHILD, [
        ("Hospitalisation complète de Pédiatrie", HC),
        ("Accueil des urgences pédiatriques", URG),
        ("Consultation de Pédiatrie", CS)]),
    unit("Hôpital de jour de pédiatrie", MCO, PLACES, CHILD, [
        ("Hospitalisation de jour de Pédiatrie", HJ),
        ("Consultation de Pédiatrie", CS),
        ("Soins externes de Pédiatrie", SE)]),
    unit("Chirurgie orthopédique et traumatologique", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Chirurgie orthopédique", HC),
        ("Hospitalisation de semaine de Chirurgie orthopédique", HSEM),
        ("Consultation de Chirurgie orthopédique", CS)]),
    unit("Unité de chirurgie ambulatoire", MCO, PLACES, ALL, [
        ("Chirurgie ambulatoire", CA),
        ("Consultation d'anesthésie", CS),
        ("Soins externes de chirurgie", SE)]),
    unit("Unité de soins de pneumologie", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Pneumologie", HC),
        ("Hospitalisation de jour de Pneumologie", HJ),
        ("Consultation de Pneumologie", CS)]),
    unit("Unité neurovasculaire", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Neurologie", HC),
        ("Hospitalisation de jour de Neurologie", HJ),
        ("Consultation de Neurologie", CS)]),
    unit("Maternité", MCO, BEDS, ALL, [
        ("Hospitalisation complète d'Obstétrique", HC),
        ("Accueil des urgences obstétricales", URG),
        ("Consultation d'Obstétrique", CS)]),
    unit("Oncologie médicale", MCO, BEDS, ADULT, [
        ("Hospitalisation complète d'Oncologie", HC),
        ("Hospitalisation de jour d'Oncologie", HJ),
        ("Consultation d'Oncologie", CS)]),
    unit("Néonatologie", MCO, BEDS, CHILD, [
        ("Hospitalisation complète de Néonatologie", HC),
        ("Hospitalisation kangourou", KANG),
        ("Consultation de Néonatologie", CS)]),
    unit("Gériatrie aiguë", MCO, BEDS, ELDER, [
        ("Hospitalisation complète de Gériatrie", HC),
        ("Equipe mobile de gériatrie", EMIH),
        ("Consultation de Gériatrie", CS)]),
    unit("Unité de psychiatrie générale", PSY, BEDS, ADULT, [
        ("Hospitalisation complète de Psychiatrie générale", HC),
        ("Hospitalisation de nuit de Psychiatrie générale", HN),
        ("Consultation de Psychiatrie générale", CS)]),
    unit("Hôpital de jour de psychiatrie", PSY, PLACES, ADULT, [
        ("Hospitalisation de jour de Psychiatrie générale", HJ),
        ("Consultation de Psychiatrie générale", CS),
        ("Soins externes de Psychiatrie", SE)]),
    unit("Soins de suite gériatriques", SSR, BEDS, ELDER, [
        ("Hospitalisation complète de Soins de suite gériatriques", HC),
        ("Hospitalisation de jour de Soins de suite gériatriques", HJ),
        ("Consultation de Gériatrie", CS)]),
    unit("Rééducation neurologique", SSR, BEDS, ADULT, [
        ("Hospitalisation complète de Rééducation neurologique", HC),
        ("Hospitalisation de semaine de Rééducation neurologique", HSEM),
        ("Consultation de Médecine physique et de réadaptation", CS)]),
    unit("Hôpital de jour de rééducation de l'appareil locomoteur", SSR, PLACES, ADULT, [
        ("Hospitalisation de jour de Rééducation de l'appareil locomoteur", HJ),
        ("Soins externes de Rééducation", SE),
        ("Consultation de Médecine physique et de réadaptation", CS)]),
    unit("Soins de suite polyvalents", SSR, BEDS, ADULT, [
        ("Hospitalisation complète de Soins de suite polyvalents", HC),
        ("Hospitalisation de jour de Soins de suite polyvalents", HJ),
        ("Hospitalisation de semaine de Soins de suite polyvalents", HSEM)]),
    unit("Unité d'hébergement permanent", MS, BEDS, ELDER, [
        ("Hébergement permanent pour personnes âgées dépendantes", HEB),
        ("Accueil de jour pour personnes âgées", AJ),
        ("Accueil de jour Alzheimer", AJ)]),
    unit("Unité de vie protégée Alzheimer", MS, BEDS, ELDER, [
        ("Hébergement en unité de vie protégée", HEB),
        ("Accueil de jour Alzheimer", AJ),
        ("Accueil de jour pour personnes âgées", AJ)]),
    unit("Hébergement temporaire", MS, BEDS, ELDER, [
        ("Hébergement temporaire pour personnes âgées", HEB),
        ("Accueil de jour pour personnes âgées", AJ),
        ("Accueil de jour Alzheimer", AJ)]),
    unit("Unité de chirurgie viscérale et digestive", MCO, BEDS, ADULT, [
        ("Hospitalisation complète de Chirurgie viscérale", HC),
        ("Hospitalisation de semaine de Chirurgie viscérale", HSEM),
        ("Consultation de Chirurgie viscérale", CS)]),
];

/// Index in [`CHAMP`] of the médico-social field (larger units).
pub(super) const CHAMP_MS: usize = MS;

/// Kinds of establishment: 0 CH, 1 CHU, 2 clinique, 3 polyclinique, 4 EHPAD, 5 rééducation.
pub(super) const KIND_WEIGHTS: [u32; 6] = [30, 4, 16, 8, 30, 12];
/// The units (indices in [`UNITS`]) each kind of establishment runs.
pub(super) const KIND_UNITS: [&[usize]; 6] = [
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 23],
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 23],
    &[0, 1, 6, 7, 10, 11, 23],
    &[0, 2, 6, 7, 8, 10, 11, 23],
    &[20, 21, 22],
    &[16, 17, 18, 19],
];
pub(super) const CLINIC_NAMES: [&str; 10] = [
    "Saint-Joseph",
    "Sainte-Marie",
    "Saint-Martin",
    "Saint-Louis",
    "Sainte-Anne",
    "Saint-Vincent",
    "du Parc",
    "des Cèdres",
    "Pasteur",
    "Jeanne d'Arc",
];
pub(super) const POLYCLINIC_NAMES: [&str; 6] =
    ["du Val", "du Parc", "Saint-Côme", "Sainte-Thérèse", "des Fleurs", "du Littoral"];
pub(super) const EHPAD_NAMES: [&str; 10] = [
    "Les Tilleuls",
    "Les Jardins d'Automne",
    "La Roseraie",
    "Les Glycines",
    "Le Clos Fleuri",
    "Les Charmilles",
    "Résidence du Parc",
    "Les Hortensias",
    "Les Magnolias",
    "La Source",
];
pub(super) const REHAB_NAMES: [&str; 5] =
    ["Les Hirondelles", "Le Belvédère", "Les Pins", "La Châtaigneraie", "Les Embruns"];
/// Free-text comments of a few capacity figures.
pub(super) const COMMENTS: [&str; 5] = [
    "Capacité mise à jour après la réunion de service",
    "Travaux en cours dans l'aile B",
    "Renfort estival",
    "Fermeture partielle faute de personnel",
    "Chiffre transmis par le cadre de santé",
];
