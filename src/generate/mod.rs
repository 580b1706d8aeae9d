//! Synthetic ROR dataset generator (`ror-capacity generate`).
//!
//! Owns the production of a realistic FHIR R4 NDJSON dataset shaped like a ROR national extract:
//! the FINESS Organizations (EJ, then EG), then every hébergement Location followed by its
//! HealthcareServices (operational offers). The bytes depend only on [`GenerateOptions`]: same
//! options, same output. Resources are written one line at a time, so memory does not grow with
//! the number of locations beyond a few bytes per organization.
//!
//! Pure: depends only on `std` and `serde_json` (no database, no HTTP, no wall clock, no `rand`).
//! Submodules: `geo` (départements, cities, streets), `catalog` (URLs, code tables, units, offers,
//! establishment names), `organization` (EJ/EG and FINESS numbers) and `tests`.

/// Builds a JSON object in the written key order, moving the values in. (`serde_json::json!`
/// re-serializes every `Value` interpolated into it, which made the France-scale set several times
/// slower.)
macro_rules! obj {
    ($($key:literal: $value:expr),+ $(,)?) => {{
        let mut map = serde_json::Map::with_capacity([$($key),+].len());
        $(map.insert($key.to_owned(), serde_json::Value::from($value));)+
        serde_json::Value::Object(map)
    }};
}

/// Builds a JSON array, moving the values in.
macro_rules! arr {
    ($($value:expr),+ $(,)?) => {
        serde_json::Value::Array(vec![$(serde_json::Value::from($value)),+])
    };
}

// After the macros, which are textually scoped.
mod catalog;
mod geo;
mod organization;
#[cfg(test)]
mod tests;

use std::io::{self, BufWriter, Write};

use serde_json::Value;

use catalog::{
    ACTIVITE_OPERATIONNELLE, AFFECTATION, CHAMP, CHAMP_ACTIVITE, CHAMP_MS, COMMENTS, COMMUNE_SYSTEM, CRISE, Code,
    EXT_CAPACITY, EXT_COMMUNE, EXT_CREATION, EXT_PATIENT_TYPE, EXT_SENSITIVE, FERMETURE, FONCTION_LIEU, GENRE,
    HEBERGEMENT, HS_ID_SYSTEM, ID_TYPE, ID_TYPE_SYSTEM, KIND_UNITS, LIT_SUPP, LOCATION_ID_SYSTEM, MODE_PEC, NATURE,
    PROFILE_HS, PROFILE_LOCATION, R329, R330, R331, R332, R333, R334, R335, R336, R337, REGION_SYSTEM, SOURCE,
    SPECIALTIES, SPECIALTY_183, STATUT_CAPA, STATUT_LIEU, STATUT_LIEU_CODES, TEMPORALITE, UNITS, Unit,
};
use geo::{REGIONS, STREET_NAMES, STREET_TYPES};
use organization::{Org, organization_json, organizations};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of Location resources to write.
    pub locations: usize,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// End of the two-year window of update dates, microseconds since the Unix epoch (UTC).
    pub anchor_us: i64,
}

impl GenerateOptions {
    /// Default anchor: 2026-11-01T00:00:00Z.
    pub const DEFAULT_ANCHOR_US: i64 = 1_793_491_200_000_000;
}

/// How many resources of each type were written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Organizations written (EJ and EG).
    pub organizations: usize,
    /// Locations written.
    pub locations: usize,
    /// HealthcareServices written.
    pub healthcare_services: usize,
    /// Capacity figures (ror-location-supported-capacity extensions) written, over all Locations.
    pub capacities: usize,
}

const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;
const WINDOW: i64 = 2 * YEAR;
/// Step of the functional-id permutations: a prime, coprime with every span (2^a·3^b·5^c).
const STEP: u64 = 7_919;

/// SplitMix64: small, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }
    fn seconds(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi.abs_diff(lo) + 1) as i64
    }
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    /// Uniform in `[-1, 1)`.
    fn signed_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let mut r = self.below(weights.iter().map(|w| u64::from(*w)).sum());
        for (i, w) in weights.iter().enumerate() {
            if r < u64::from(*w) {
                return i;
            }
            r -= u64::from(*w);
        }
        weights.len().saturating_sub(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Collision-free functional ids: Locations and HealthcareServices get numbers from two disjoint
/// ranges of the same width, each walked by an affine permutation `(i * STEP + offset) mod span`.
struct Numbering {
    loc_base: u64,
    loc_span: u64,
    loc_offset: u64,
    hs_base: u64,
    hs_span: u64,
    hs_offset: u64,
}

impl Numbering {
    /// Six digits (Locations 100000–399999, offers 400000–999999) while N ≤ 200,000; one more
    /// digit each time N outgrows that, so the offers (at most 3 per location) never run out.
    fn new(locations: usize, rng: &mut Rng) -> Self {
        let mut unit = 100_000u64;
        while locations as u64 > 2 * unit {
            unit *= 10;
        }
        let (loc_span, hs_span) = (3 * unit, 6 * unit);
        Numbering {
            loc_base: unit,
            loc_span,
            loc_offset: rng.below(loc_span),
            hs_base: 4 * unit,
            hs_span,
            hs_offset: rng.below(hs_span),
        }
    }
    fn location(&self, i: u64) -> u64 {
        self.loc_base + ((i % self.loc_span) * STEP + self.loc_offset) % self.loc_span
    }
    fn offer(&self, j: u64) -> u64 {
        self.hs_base + ((j % self.hs_span) * STEP + self.hs_offset) % self.hs_span
    }
}

/// One capacity figure before it is turned into JSON (indices in the code tables).
struct Figure {
    status: usize,
    temporality: usize,
    gender: Option<usize>,
    nb: u64,
}

/// Writes the dataset described by `opts` to `out` as NDJSON and tells what was written.
///
/// # Errors
/// Any error of `out`.
pub fn generate(opts: &GenerateOptions, out: &mut dyn Write) -> io::Result<GenerateSummary> {
    generate_with(opts, out, &|_| {})
}

/// [`generate`], calling `placed` with the number of places written after each one.
pub fn generate_with(opts: &GenerateOptions, out: &mut dyn Write, placed: &dyn Fn(u64)) -> io::Result<GenerateSummary> {
    let mut w = BufWriter::with_capacity(1 << 16, out);
    let mut rng = Rng(opts.seed ^ 0x524F_525F_4341_5041);
    let anchor = opts.anchor_us.div_euclid(1_000_000);
    let mut summary = GenerateSummary::default();
    let numbering = Numbering::new(opts.locations, &mut rng);
    let (ejs, egs) = organizations(opts.locations, &mut rng);
    for org in ejs.iter().chain(&egs) {
        let last = instant(anchor - rng.seconds(1, WINDOW));
        write_line(&mut w, &organization_json(org, &last))?;
        summary.organizations += 1;
    }
    let mut offers = 0u64;
    for i in 0..opts.locations {
        // Every EG gets one location first, then they are drawn at random.
        let eg = egs.get(i).unwrap_or_else(|| rng.pick(&egs));
        let unit = &UNITS[*rng.pick(KIND_UNITS[eg.kind])];
        let location_id = 1_000_001 + i as u64;
        let (location, capacities, active) =
            location_json(&mut rng, anchor, eg, unit, (location_id, numbering.location(i as u64)));
        write_line(&mut w, &location)?;
        summary.locations += 1;
        placed(summary.locations as u64);
        summary.capacities += capacities;
        let count = rng.weighted(&[80, 15, 5]) + 1;
        for k in 0..count {
            // The main offer first; with two offers, either of the secondary ones.
            let offer = if count == 2 && k == 1 { 1 + rng.below(2) as usize } else { k };
            let ids = (2_000_001 + offers, numbering.offer(offers));
            offers += 1;
            let hs = offer_json(&mut rng, anchor, eg, (unit, offer), ids, (location_id, active));
            write_line(&mut w, &hs)?;
            summary.healthcare_services += 1;
        }
    }
    w.flush()?;
    Ok(summary)
}

/// The Location line, its number of capacity figures and whether it is not inactive.
fn location_json(rng: &mut Rng, anchor: i64, eg: &Org, unit: &Unit, (id, number): (u64, u64)) -> (Value, usize, bool) {
    let dep = eg.dep();
    let recent = if rng.percent(10) { 7 * DAY } else { WINDOW };
    let latest = anchor - rng.seconds(1, recent);
    let figures = capacity_figures(rng, unit);
    // One figure carries the latest update; the others are up to 30 days older.
    let carrier = rng.below(figures.len() as u64) as usize;
    let mut extension = Vec::with_capacity(figures.len() + 2);
    let commune = concept(COMMUNE_SYSTEM, (dep.insee, dep.city));
    let created = instant(latest - rng.seconds(YEAR, 5 * YEAR));
    extension.push(obj! {"url": EXT_COMMUNE, "valueCodeableConcept": commune});
    extension.push(obj! {"url": EXT_CREATION, "valueDateTime": created});
    for (f, figure) in figures.iter().enumerate() {
        let at = if f == carrier { latest } else { (latest - rng.seconds(0, 30 * DAY)).max(anchor - WINDOW) };
        extension.push(capacity_json(rng, figure, unit, &instant(at)));
    }
    let mut identifier = vec![obj! {
        "type": concept(ID_TYPE_SYSTEM, ID_TYPE[0]),
        "system": LOCATION_ID_SYSTEM,
        "value": format!("{}/{number}", dep.region()),
    }];
    if rng.percent(60) {
        identifier.push(obj! {
            "type": concept(ID_TYPE_SYSTEM, ID_TYPE[1]),
            "system": LOCATION_ID_SYSTEM,
            "value": format!("EXT-{}-{:04}", eg.finess, rng.below(10_000)),
        });
    }
    let (status, operational) =
        [("active", STATUT_LIEU_CODES[2]), ("suspended", STATUT_LIEU_CODES[1]), ("inactive", STATUT_LIEU_CODES[0])]
            [rng.weighted(&[95, 3, 2])];
    let name = if rng.percent(30) { format!("{} - {}", unit.name, eg.short) } else { unit.name.to_owned() };
    let line = format!("{} {} {}", rng.range(1, 150), rng.pick(&STREET_TYPES), rng.pick(&STREET_NAMES));
    let longitude = round6(dep.lon + 0.05 * rng.signed_unit());
    let latitude = round6(dep.lat + 0.05 * rng.signed_unit());
    let location = obj! {
        "resourceType": "Location",
        "id": id.to_string(),
        "meta": meta(&instant(latest), PROFILE_LOCATION, dep.region()),
        "extension": extension,
        "identifier": identifier,
        "status": status,
        "operationalStatus": coding(STATUT_LIEU, operational),
        "name": name,
        "type": arr![concept(FONCTION_LIEU, HEBERGEMENT)],
        "address": obj! {"line": arr![line], "postalCode": dep.postal, "city": dep.city},
        "position": obj! {"longitude": longitude, "latitude": latitude},
        "managingOrganization": obj! {"reference": format!("Organization/{}", eg.id)},
    };
    (location, figures.len(), status != "inactive")
}

/// 1 to 6 figures (mean ≈ 5): first the installed count, then distinct
/// (status, temporality, gender) figures whose 02–05 counts never exceed the installed one.
fn capacity_figures(rng: &mut Rng, unit: &Unit) -> Vec<Figure> {
    let count = rng.weighted(&[3, 4, 8, 12, 25, 48]) + 1;
    let installed = match (unit.place, unit.champ) {
        (true, _) => rng.range(5, 20),
        (false, CHAMP_MS) => rng.range(20, 60),
        _ => rng.range(10, 40),
    };
    let mut figures = Vec::with_capacity(count);
    figures.push(Figure { status: 0, temporality: 0, gender: None, nb: installed });
    let mut left = [installed; 5];
    for _ in 0..8 * count {
        if figures.len() == count {
            break;
        }
        let status = 1 + rng.weighted(&[38, 32, 8, 12, 10]);
        let temporality = if rng.percent(80) { 0 } else { rng.range(1, 4) as usize };
        let gender = if rng.percent(35) { Some(rng.weighted(&[40, 40, 15, 5])) } else { None };
        if figures.iter().any(|f| (f.status, f.temporality, f.gender) == (status, temporality, gender)) {
            continue;
        }
        let budget = left[temporality];
        let nb = match status {
            1 => rng.range(0, budget / 2),
            2 => budget * rng.range(50, 95) / 100,
            3 => rng.range(0, budget.min(3)),
            4 if budget > 0 => rng.range(1, budget.min(6)),
            4 => 0,
            _ => rng.range(1, 6),
        };
        if status < 5 {
            left[temporality] -= nb;
        }
        figures.push(Figure { status, temporality, gender, nb });
    }
    figures
}

fn capacity_json(rng: &mut Rng, figure: &Figure, unit: &Unit, updated: &str) -> Value {
    let coded = |url: &str, system: &str, code: Code| {
        obj! {"url": url, "valueCodeableConcept": concept(system, code)}
    };
    let mut ext = Vec::with_capacity(12);
    ext.push(coded("capacityType", R329, NATURE[usize::from(unit.place)]));
    ext.push(coded("capacityStatus", R330, STATUT_CAPA[figure.status]));
    ext.push(coded("temporalityCapacity", R331, TEMPORALITE[figure.temporality]));
    ext.push(obj! {"url": "nbCapacity", "valueInteger": figure.nb});
    ext.push(coded("capacitySourceType", R335, SOURCE[rng.weighted(&[60, 20, 10, 10])]));
    if let Some(gender) = figure.gender {
        ext.push(coded("genderCapacityAvailable", R332, GENRE[gender]));
    }
    ext.push(obj! {"url": "capacityUpdateDate", "valueDateTime": updated});
    if figure.status == 4 {
        ext.push(coded("capacityClosingType", R333, FERMETURE[rng.weighted(&[60, 25, 15])]));
    }
    if figure.status == 5 {
        ext.push(coded("additionalBedType", R334, *rng.pick(&LIT_SUPP)));
        if rng.percent(50) {
            ext.push(coded("crisisType", R336, *rng.pick(&CRISE)));
        }
    }
    let assignment = if rng.percent(95) { 0 } else { rng.range(1, 2) as usize };
    ext.push(coded("temporaryAssignement", R337, AFFECTATION[assignment]));
    if rng.percent(3) {
        ext.push(obj! {"url": "comment", "valueString": *rng.pick(&COMMENTS)});
    }
    obj! {"url": EXT_CAPACITY, "extension": ext}
}

/// A HealthcareService line: offer `offer` of `unit`, with its (technical id, functional number)
/// and the (id, not inactive) of its Location.
fn offer_json(
    rng: &mut Rng,
    anchor: i64,
    eg: &Org,
    (unit, offer): (&Unit, usize),
    (id, number): (u64, u64),
    (location_id, active): (u64, bool),
) -> Value {
    let region = eg.dep().region();
    let latest = anchor - rng.seconds(1, WINDOW);
    let created = instant(latest - rng.seconds(YEAR, 5 * YEAR));
    let (name, mode) = unit.offers[offer.min(2)];
    let code = *rng.pick(&SPECIALTIES);
    let specialty = if code == "183" {
        obj! {"system": ACTIVITE_OPERATIONNELLE, "code": code, "display": SPECIALTY_183}
    } else {
        obj! {"system": ACTIVITE_OPERATIONNELLE, "code": code}
    };
    let (low, high) = unit.ages;
    let age_range = obj! {
        "url": "ageRange",
        "valueRange": obj! {"low": obj! {"value": low}, "high": obj! {"value": high}},
    };
    obj! {
        "resourceType": "HealthcareService",
        "id": id.to_string(),
        "meta": meta(&instant(latest), PROFILE_HS, region),
        "extension": arr![
            obj! {"url": EXT_CREATION, "valueDateTime": created},
            obj! {"url": EXT_SENSITIVE, "valueBoolean": rng.percent(3)},
            obj! {"url": EXT_PATIENT_TYPE, "extension": arr![age_range]},
        ],
        "identifier": arr![obj! {"system": HS_ID_SYSTEM, "value": format!("{region}/{number}")}],
        "active": active,
        "providedBy": obj! {"reference": format!("Organization/{}", eg.id)},
        "type": arr![concept(CHAMP_ACTIVITE, CHAMP[unit.champ])],
        "specialty": arr![obj! {"coding": arr![specialty]}],
        "location": arr![obj! {"reference": format!("Location/{location_id}")}],
        "name": name,
        "characteristic": arr![concept(MODE_PEC, mode)],
    }
}

fn meta(last: &str, profile: &str, region: &str) -> Value {
    let display = REGIONS.iter().find(|(code, _)| *code == region).map_or("", |(_, name)| name);
    obj! {
        "lastUpdated": last,
        "profile": arr![profile],
        "tag": arr![obj! {"system": REGION_SYSTEM, "code": region, "display": display}],
    }
}

fn coding(system: &str, (code, display): Code) -> Value {
    obj! {"system": system, "code": code, "display": display}
}

fn concept(system: &str, code: Code) -> Value {
    obj! {"coding": arr![coding(system, code)]}
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// `YYYY-MM-DDThh:mm:ssZ` for seconds since the Unix epoch (proleptic Gregorian, UTC).
fn instant(secs: i64) -> String {
    let (days, time) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    // Civil-from-days over 400-year eras (the classic algorithm by Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", time / 3600, time % 3600 / 60, time % 60)
}

fn write_line(w: &mut impl Write, value: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")
}
