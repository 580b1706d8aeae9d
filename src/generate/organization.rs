//! FINESS organizations of the synthetic dataset: the EJ (entités juridiques) and their EG (entités
//! géographiques), where they are, what they are called, their FINESS numbers and their JSON.

use serde_json::Value;

use super::catalog::{
    CLINIC_NAMES, EHPAD_NAMES, FINESS_SYSTEM, KIND_WEIGHTS, ORG_ID_TYPE_SYSTEM, POLYCLINIC_NAMES, PROFILE_ORG,
    REHAB_NAMES,
};
use super::geo::{DEPARTEMENTS, Departement, STREET_NAMES};
use super::{Rng, meta};

/// An organization kept in memory while the locations are written (a few dozen bytes per
/// organization, i.e. per 6 locations).
pub(super) struct Org {
    pub(super) id: u64,
    /// Index in [`DEPARTEMENTS`].
    pub(super) dep: usize,
    /// Index in `KIND_WEIGHTS` / `KIND_UNITS`.
    pub(super) kind: usize,
    pub(super) finess: String,
    pub(super) name: String,
    /// Short name used as a suffix of some unit names ("CHU Nantes").
    pub(super) short: String,
    /// The EJ of an EG.
    pub(super) parent: Option<u64>,
}

impl Org {
    pub(super) fn dep(&self) -> &'static Departement {
        &DEPARTEMENTS[self.dep]
    }
}

/// N/20 EJ and N/8 EG (at least one of each); every EJ owns at least one EG of its region.
pub(super) fn organizations(locations: usize, rng: &mut Rng) -> (Vec<Org>, Vec<Org>) {
    let (n_ej, n_eg) = ((locations / 20).max(1), (locations / 8).max(1));
    let mut counters = [0u64; DEPARTEMENTS.len()];
    let mut ejs = Vec::with_capacity(n_ej);
    for k in 0..n_ej {
        let dep = pick_departement(rng, None);
        let kind = match rng.weighted(&KIND_WEIGHTS) {
            // University hospitals only in the larger départements.
            1 if DEPARTEMENTS[dep].weight < 6 => 0,
            kind => kind,
        };
        let (name, short) = establishment_name(rng, kind, DEPARTEMENTS[dep].city);
        let finess = finess(dep, &mut counters);
        ejs.push(Org { id: 3_000_001 + k as u64, dep, kind, finess, name, short, parent: None });
    }
    let mut egs = Vec::with_capacity(n_eg);
    for k in 0..n_eg {
        let ej = ejs.get(k).unwrap_or_else(|| rng.pick(&ejs));
        let dep = if rng.percent(75) { ej.dep } else { pick_departement(rng, Some(ej.dep().region())) };
        let name =
            if rng.percent(60) { format!("{} - site {}", ej.name, rng.pick(&STREET_NAMES)) } else { ej.name.clone() };
        egs.push(Org {
            id: 3_000_001 + (n_ej + k) as u64,
            dep,
            kind: ej.kind,
            finess: finess(dep, &mut counters),
            name,
            short: ej.short.clone(),
            parent: Some(ej.id),
        });
    }
    (ejs, egs)
}

/// A département index, weighted by population, optionally within one region.
fn pick_departement(rng: &mut Rng, region: Option<&str>) -> usize {
    let candidates = || DEPARTEMENTS.iter().enumerate().filter(|(_, d)| region.is_none_or(|r| d.region() == r));
    let mut r = rng.below(candidates().map(|(_, d)| u64::from(d.weight)).sum());
    for (i, d) in candidates() {
        if r < u64::from(d.weight) {
            return i;
        }
        r -= u64::from(d.weight);
    }
    0
}

/// A FINESS number: the département code ("44", "2A", "974"), a per-département sequence number
/// filling the body to 8 characters, and a check digit. The sequence is the département's
/// organization counter times 283 modulo 10^width (a bijection, so numbers stay unique while a
/// département holds fewer than 10^5 organizations).
///
/// Check digit (this generator's rule): the Luhn key of the first 8 characters, where the Corsican
/// letters count as A = 1 and B = 2.
fn finess(dep: usize, counters: &mut [u64]) -> String {
    let code = DEPARTEMENTS[dep].code;
    counters[dep] += 1;
    let width = 8 - code.len();
    let seq = counters[dep] * 283 % 10u64.pow(width as u32);
    let body = format!("{code}{seq:0width$}");
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(pos, c)| {
            let v = match c {
                'A' => 1,
                'B' => 2,
                _ => c.to_digit(10).unwrap_or(0),
            };
            if pos % 2 == 0 { (2 * v) / 10 + (2 * v) % 10 } else { v }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// "de Nantes", "d'Angers", "du Mans".
fn of_city(city: &str) -> String {
    if let Some(rest) = city.strip_prefix("Le ") {
        format!("du {rest}")
    } else if city.starts_with(['A', 'E', 'É', 'I', 'O', 'U']) {
        format!("d'{city}")
    } else {
        format!("de {city}")
    }
}

/// Full and short name of an EJ of the given kind.
fn establishment_name(rng: &mut Rng, kind: usize, city: &str) -> (String, String) {
    let name = match kind {
        0 => {
            return (format!("Centre hospitalier {}", of_city(city)), format!("CH {city}"));
        }
        1 => return (format!("CHU {}", of_city(city)), format!("CHU {city}")),
        2 => format!("Clinique {}", rng.pick(&CLINIC_NAMES)),
        3 => format!("Polyclinique {}", rng.pick(&POLYCLINIC_NAMES)),
        4 => format!("EHPAD {}", rng.pick(&EHPAD_NAMES)),
        _ if rng.percent(50) => format!("Centre de rééducation fonctionnelle {}", of_city(city)),
        _ => format!("Centre de rééducation {}", rng.pick(&REHAB_NAMES)),
    };
    (name.clone(), name)
}

pub(super) fn organization_json(org: &Org, last: &str) -> Value {
    let id_type = if org.parent.is_some() { "FINEG" } else { "FINEJ" };
    let mut value = obj! {
        "resourceType": "Organization",
        "id": org.id.to_string(),
        "meta": meta(last, PROFILE_ORG, org.dep().region()),
        "identifier": arr![obj! {
            "type": obj! {"coding": arr![obj! {"system": ORG_ID_TYPE_SYSTEM, "code": id_type}]},
            "system": FINESS_SYSTEM,
            "value": org.finess.as_str(),
        }],
        "active": true,
        "name": org.name.as_str(),
    };
    if let (Some(parent), Value::Object(object)) = (org.parent, &mut value) {
        object.insert("partOf".to_owned(), obj! {"reference": format!("Organization/{parent}")});
    }
    value
}
