//! France's départements (INSEE COG: code, name) and the ROR région each belongs to (TRE_R30 /
//! JDV_J237, the same codes as the places' region tags). Pure data.

/// One département.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Departement {
    /// INSEE code: "01", "2A", "974".
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Région code (TRE_R30).
    pub region: &'static str,
}

const fn d(code: &'static str, name: &'static str, region: &'static str) -> Departement {
    Departement { code, name, region }
}

/// The 101 départements, in code order.
pub const DEPARTEMENTS: [Departement; 101] = [
    d("01", "Ain", "84"),
    d("02", "Aisne", "32"),
    d("03", "Allier", "84"),
    d("04", "Alpes-de-Haute-Provence", "93"),
    d("05", "Hautes-Alpes", "93"),
    d("06", "Alpes-Maritimes", "93"),
    d("07", "Ardèche", "84"),
    d("08", "Ardennes", "44"),
    d("09", "Ariège", "76"),
    d("10", "Aube", "44"),
    d("11", "Aude", "76"),
    d("12", "Aveyron", "76"),
    d("13", "Bouches-du-Rhône", "93"),
    d("14", "Calvados", "28"),
    d("15", "Cantal", "84"),
    d("16", "Charente", "75"),
    d("17", "Charente-Maritime", "75"),
    d("18", "Cher", "24"),
    d("19", "Corrèze", "75"),
    d("21", "Côte-d'Or", "27"),
    d("22", "Côtes-d'Armor", "53"),
    d("23", "Creuse", "75"),
    d("24", "Dordogne", "75"),
    d("25", "Doubs", "27"),
    d("26", "Drôme", "84"),
    d("27", "Eure", "28"),
    d("28", "Eure-et-Loir", "24"),
    d("29", "Finistère", "53"),
    d("2A", "Corse-du-Sud", "94"),
    d("2B", "Haute-Corse", "94"),
    d("30", "Gard", "76"),
    d("31", "Haute-Garonne", "76"),
    d("32", "Gers", "76"),
    d("33", "Gironde", "75"),
    d("34", "Hérault", "76"),
    d("35", "Ille-et-Vilaine", "53"),
    d("36", "Indre", "24"),
    d("37", "Indre-et-Loire", "24"),
    d("38", "Isère", "84"),
    d("39", "Jura", "27"),
    d("40", "Landes", "75"),
    d("41", "Loir-et-Cher", "24"),
    d("42", "Loire", "84"),
    d("43", "Haute-Loire", "84"),
    d("44", "Loire-Atlantique", "52"),
    d("45", "Loiret", "24"),
    d("46", "Lot", "76"),
    d("47", "Lot-et-Garonne", "75"),
    d("48", "Lozère", "76"),
    d("49", "Maine-et-Loire", "52"),
    d("50", "Manche", "28"),
    d("51", "Marne", "44"),
    d("52", "Haute-Marne", "44"),
    d("53", "Mayenne", "52"),
    d("54", "Meurthe-et-Moselle", "44"),
    d("55", "Meuse", "44"),
    d("56", "Morbihan", "53"),
    d("57", "Moselle", "44"),
    d("58", "Nièvre", "27"),
    d("59", "Nord", "32"),
    d("60", "Oise", "32"),
    d("61", "Orne", "28"),
    d("62", "Pas-de-Calais", "32"),
    d("63", "Puy-de-Dôme", "84"),
    d("64", "Pyrénées-Atlantiques", "75"),
    d("65", "Hautes-Pyrénées", "76"),
    d("66", "Pyrénées-Orientales", "76"),
    d("67", "Bas-Rhin", "44"),
    d("68", "Haut-Rhin", "44"),
    d("69", "Rhône", "84"),
    d("70", "Haute-Saône", "27"),
    d("71", "Saône-et-Loire", "27"),
    d("72", "Sarthe", "52"),
    d("73", "Savoie", "84"),
    d("74", "Haute-Savoie", "84"),
    d("75", "Paris", "11"),
    d("76", "Seine-Maritime", "28"),
    d("77", "Seine-et-Marne", "11"),
    d("78", "Yvelines", "11"),
    d("79", "Deux-Sèvres", "75"),
    d("80", "Somme", "32"),
    d("81", "Tarn", "76"),
    d("82", "Tarn-et-Garonne", "76"),
    d("83", "Var", "93"),
    d("84", "Vaucluse", "93"),
    d("85", "Vendée", "52"),
    d("86", "Vienne", "75"),
    d("87", "Haute-Vienne", "75"),
    d("88", "Vosges", "44"),
    d("89", "Yonne", "27"),
    d("90", "Territoire de Belfort", "27"),
    d("91", "Essonne", "11"),
    d("92", "Hauts-de-Seine", "11"),
    d("93", "Seine-Saint-Denis", "11"),
    d("94", "Val-de-Marne", "11"),
    d("95", "Val-d'Oise", "11"),
    d("971", "Guadeloupe", "01"),
    d("972", "Martinique", "02"),
    d("973", "Guyane", "03"),
    d("974", "La Réunion", "04"),
    d("976", "Mayotte", "06"),
];

/// The département of `code`.
pub fn departement(code: &str) -> Option<&'static Departement> {
    DEPARTEMENTS.iter().find(|d| d.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_departement_is_in_a_ror_region_and_named_once() {
        for (i, d) in DEPARTEMENTS.iter().enumerate() {
            assert!(crate::fhir::codes::region_display(d.region).is_some(), "{d:?}");
            assert!(!DEPARTEMENTS[..i].iter().any(|e| e.code == d.code || e.name == d.name), "{d:?}");
        }
        for (region, _) in crate::fhir::codes::REGIONS {
            assert!(DEPARTEMENTS.iter().any(|d| d.region == region), "{region} has no département");
        }
        assert_eq!(departement("2A").map(|d| d.name), Some("Corse-du-Sud"));
        assert_eq!(departement("20"), None);
    }
}
