//! Geography used by the synthetic dataset generator: the ROR regions (JDV_J237), one real city per
//! French département (its préfecture, with its INSEE commune code, postal code and approximate
//! coordinates) and the street names used to build plausible addresses.
//!
//! Pure data: no imports, no I/O.

/// One département and the city that stands for it.
pub(super) struct Departement {
    /// Département code ("01", "2A", "974").
    pub code: &'static str,
    /// City name (the préfecture).
    pub city: &'static str,
    /// INSEE commune code of the city (TRE_R13).
    pub insee: &'static str,
    /// Postal code of the city.
    pub postal: &'static str,
    /// Approximate latitude of the city centre.
    pub lat: f64,
    /// Approximate longitude of the city centre.
    pub lon: f64,
    /// Relative weight when picking a département (roughly its population in hundreds of thousands).
    pub weight: u32,
}

impl Departement {
    /// Its ROR region code (JDV_J237 / TRE_R30), from the table of départements of `fhir::territory`.
    pub fn region(&self) -> &'static str {
        crate::fhir::territory::departement(self.code).map_or("", |d| d.region)
    }
}

/// ROR regions (JDV_J237-RegionOM-ROR): code and display.
pub(super) use crate::fhir::codes::REGIONS;

const fn d(
    code: &'static str,
    city: &'static str,
    insee: &'static str,
    postal: &'static str,
    lat: f64,
    lon: f64,
    weight: u32,
) -> Departement {
    Departement { code, city, insee, postal, lat, lon, weight }
}

/// Every French département (96 metropolitan, 5 overseas).
#[rustfmt::skip]
pub(super) const DEPARTEMENTS: [Departement; 101] = [
    d("01", "Bourg-en-Bresse", "01053", "01000", 46.2052, 5.2255, 6),
    d("02", "Laon", "02408", "02000", 49.5641, 3.6199, 5),
    d("03", "Moulins", "03190", "03000", 46.5646, 3.3325, 3),
    d("04", "Digne-les-Bains", "04070", "04000", 44.0925, 6.2356, 2),
    d("05", "Gap", "05061", "05000", 44.5594, 6.0786, 1),
    d("06", "Nice", "06088", "06000", 43.7102, 7.2620, 11),
    d("07", "Privas", "07186", "07000", 44.7353, 4.5992, 3),
    d("08", "Charleville-Mézières", "08105", "08000", 49.7621, 4.7263, 3),
    d("09", "Foix", "09122", "09000", 42.9653, 1.6070, 2),
    d("10", "Troyes", "10387", "10000", 48.2973, 4.0744, 3),
    d("11", "Carcassonne", "11069", "11000", 43.2130, 2.3491, 4),
    d("12", "Rodez", "12202", "12000", 44.3506, 2.5750, 3),
    d("13", "Marseille", "13055", "13005", 43.2965, 5.3698, 20),
    d("14", "Caen", "14118", "14000", 49.1829, -0.3707, 7),
    d("15", "Aurillac", "15014", "15000", 44.9264, 2.4400, 1),
    d("16", "Angoulême", "16015", "16000", 45.6484, 0.1562, 4),
    d("17", "La Rochelle", "17300", "17000", 46.1603, -1.1511, 7),
    d("18", "Bourges", "18033", "18000", 47.0810, 2.3988, 3),
    d("19", "Tulle", "19272", "19000", 45.2658, 1.7722, 2),
    d("2A", "Ajaccio", "2A004", "20000", 41.9192, 8.7386, 2),
    d("2B", "Bastia", "2B033", "20200", 42.6970, 9.4503, 2),
    d("21", "Dijon", "21231", "21000", 47.3220, 5.0415, 5),
    d("22", "Saint-Brieuc", "22278", "22000", 48.5136, -2.7653, 6),
    d("23", "Guéret", "23096", "23000", 46.1716, 1.8716, 1),
    d("24", "Périgueux", "24322", "24000", 45.1847, 0.7214, 4),
    d("25", "Besançon", "25056", "25000", 47.2378, 6.0241, 5),
    d("26", "Valence", "26362", "26000", 44.9334, 4.8924, 5),
    d("27", "Évreux", "27229", "27000", 49.0241, 1.1508, 6),
    d("28", "Chartres", "28085", "28000", 48.4439, 1.4890, 4),
    d("29", "Quimper", "29232", "29000", 47.9960, -4.1024, 9),
    d("30", "Nîmes", "30189", "30000", 43.8367, 4.3601, 7),
    d("31", "Toulouse", "31555", "31000", 43.6047, 1.4442, 14),
    d("32", "Auch", "32013", "32000", 43.6460, 0.5857, 2),
    d("33", "Bordeaux", "33063", "33000", 44.8378, -0.5792, 16),
    d("34", "Montpellier", "34172", "34000", 43.6108, 3.8767, 12),
    d("35", "Rennes", "35238", "35000", 48.1173, -1.6778, 11),
    d("36", "Châteauroux", "36044", "36000", 46.8103, 1.6913, 2),
    d("37", "Tours", "37261", "37000", 47.3941, 0.6848, 6),
    d("38", "Grenoble", "38185", "38000", 45.1885, 5.7245, 13),
    d("39", "Lons-le-Saunier", "39300", "39000", 46.6744, 5.5558, 3),
    d("40", "Mont-de-Marsan", "40192", "40000", 43.8902, -0.4997, 4),
    d("41", "Blois", "41018", "41000", 47.5861, 1.3359, 3),
    d("42", "Saint-Étienne", "42218", "42000", 45.4397, 4.3872, 8),
    d("43", "Le Puy-en-Velay", "43157", "43000", 45.0434, 3.8855, 2),
    d("44", "Nantes", "44109", "44000", 47.2184, -1.5536, 14),
    d("45", "Orléans", "45234", "45000", 47.9030, 1.9093, 7),
    d("46", "Cahors", "46042", "46000", 44.4475, 1.4419, 2),
    d("47", "Agen", "47001", "47000", 44.2033, 0.6163, 3),
    d("48", "Mende", "48095", "48000", 44.5181, 3.5006, 1),
    d("49", "Angers", "49007", "49000", 47.4784, -0.5632, 8),
    d("50", "Saint-Lô", "50502", "50000", 49.1157, -1.0906, 5),
    d("51", "Châlons-en-Champagne", "51108", "51000", 48.9566, 4.3631, 6),
    d("52", "Chaumont", "52121", "52000", 48.1113, 5.1392, 2),
    d("53", "Laval", "53130", "53000", 48.0707, -0.7734, 3),
    d("54", "Nancy", "54395", "54000", 48.6921, 6.1844, 7),
    d("55", "Bar-le-Duc", "55029", "55000", 48.7728, 5.1600, 2),
    d("56", "Vannes", "56260", "56000", 47.6582, -2.7608, 8),
    d("57", "Metz", "57463", "57000", 49.1193, 6.1757, 10),
    d("58", "Nevers", "58194", "58000", 46.9896, 3.1590, 2),
    d("59", "Lille", "59350", "59000", 50.6292, 3.0573, 26),
    d("60", "Beauvais", "60057", "60000", 49.4295, 2.0807, 8),
    d("61", "Alençon", "61001", "61000", 48.4322, 0.0914, 3),
    d("62", "Arras", "62041", "62000", 50.2910, 2.7775, 15),
    d("63", "Clermont-Ferrand", "63113", "63000", 45.7772, 3.0870, 7),
    d("64", "Pau", "64445", "64000", 43.2951, -0.3708, 7),
    d("65", "Tarbes", "65440", "65000", 43.2328, 0.0781, 2),
    d("66", "Perpignan", "66136", "66000", 42.6887, 2.8948, 5),
    d("67", "Strasbourg", "67482", "67000", 48.5734, 7.7521, 11),
    d("68", "Colmar", "68066", "68000", 48.0794, 7.3585, 8),
    d("69", "Lyon", "69123", "69003", 45.7640, 4.8357, 19),
    d("70", "Vesoul", "70550", "70000", 47.6198, 6.1544, 2),
    d("71", "Mâcon", "71270", "71000", 46.3069, 4.8287, 5),
    d("72", "Le Mans", "72181", "72000", 48.0061, 0.1996, 6),
    d("73", "Chambéry", "73065", "73000", 45.5646, 5.9178, 4),
    d("74", "Annecy", "74010", "74000", 45.8992, 6.1294, 8),
    d("75", "Paris", "75056", "75010", 48.8566, 2.3522, 21),
    d("76", "Rouen", "76540", "76000", 49.4432, 1.0999, 12),
    d("77", "Melun", "77288", "77000", 48.5421, 2.6554, 14),
    d("78", "Versailles", "78646", "78000", 48.8049, 2.1204, 14),
    d("79", "Niort", "79191", "79000", 46.3237, -0.4588, 4),
    d("80", "Amiens", "80021", "80000", 49.8941, 2.2958, 6),
    d("81", "Albi", "81004", "81000", 43.9289, 2.1464, 4),
    d("82", "Montauban", "82121", "82000", 44.0176, 1.3550, 3),
    d("83", "Toulon", "83137", "83000", 43.1242, 5.9280, 11),
    d("84", "Avignon", "84007", "84000", 43.9493, 4.8055, 6),
    d("85", "La Roche-sur-Yon", "85191", "85000", 46.6705, -1.4260, 7),
    d("86", "Poitiers", "86194", "86000", 46.5802, 0.3404, 4),
    d("87", "Limoges", "87085", "87000", 45.8336, 1.2611, 4),
    d("88", "Épinal", "88160", "88000", 48.1724, 6.4496, 4),
    d("89", "Auxerre", "89024", "89000", 47.7982, 3.5673, 3),
    d("90", "Belfort", "90010", "90000", 47.6397, 6.8638, 1),
    d("91", "Évry-Courcouronnes", "91228", "91000", 48.6291, 2.4411, 13),
    d("92", "Nanterre", "92050", "92000", 48.8924, 2.2071, 16),
    d("93", "Bobigny", "93008", "93000", 48.9077, 2.4397, 16),
    d("94", "Créteil", "94028", "94000", 48.7904, 2.4556, 14),
    d("95", "Cergy", "95127", "95000", 49.0364, 2.0761, 12),
    d("971", "Basse-Terre", "97105", "97100", 15.9985, -61.7261, 4),
    d("972", "Fort-de-France", "97209", "97200", 14.6161, -61.0588, 4),
    d("973", "Cayenne", "97302", "97300", 4.9224, -52.3135, 3),
    d("974", "Saint-Denis", "97411", "97400", -20.8823, 55.4504, 9),
    d("976", "Mamoudzou", "97611", "97600", -12.7806, 45.2279, 3),
];

/// Street types used in address lines.
pub(super) const STREET_TYPES: [&str; 6] = ["rue", "avenue", "boulevard", "place", "chemin", "allée"];

/// Street names used in address lines and in site names.
pub(super) const STREET_NAMES: [&str; 16] = [
    "de la République",
    "Victor Hugo",
    "Jean Jaurès",
    "du Général de Gaulle",
    "Pasteur",
    "des Lilas",
    "de la Gare",
    "Gambetta",
    "du Maréchal Foch",
    "Jules Ferry",
    "de la Paix",
    "Léon Blum",
    "des Tilleuls",
    "Anatole France",
    "du Moulin",
    "Émile Zola",
];
