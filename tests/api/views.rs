//! What each access profile sees of a place's `meta.lastUpdated` (and `Last-Modified`, the
//! `_lastUpdated` search and sort) moves only with what that profile may see; Observation ids say
//! nothing of the figures a profile may not see, and stay put while a figure does not change.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, dataset, enc, scratch_dir};

const CAPACITY: &str = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-supported-capacity";
const PROFILES: [u8; 4] = [0, 1, 2, 5];

/// A capacity figure: a generated one with its status, temporary assignment and count replaced.
fn figure(template: &Value, status: &str, assignment: &str, count: i64) -> Value {
    let mut f = template.clone();
    for sub in f["extension"].as_array_mut().unwrap() {
        let code = match sub["url"].as_str().unwrap() {
            "capacityStatus" => status,
            "temporaryAssignement" => assignment,
            "nbCapacity" => {
                sub["valueInteger"] = json!(count);
                continue;
            }
            _ => continue,
        };
        let coding = &mut sub["valueCodeableConcept"]["coding"][0];
        coding["code"] = json!(code);
        coding.as_object_mut().unwrap().remove("display");
    }
    f
}

/// The place with `figures` as its capacity, and `name`.
fn place(base: &Value, figures: &[Value], name: &str) -> Value {
    let mut p = base.clone();
    let ext = p["extension"].as_array_mut().unwrap();
    ext.retain(|e| e["url"] != CAPACITY);
    ext.extend(figures.iter().cloned());
    p["name"] = json!(name);
    p
}

/// One server per profile of [`PROFILES`], all over one database (the servers stop before it goes).
struct Views {
    servers: BTreeMap<u8, TestApp>,
    db: Arc<TestDb>,
    id: String,
    base: Value,
    template: Value,
    n: u32,
}

impl Views {
    fn new(backend: Backend) -> Self {
        let data = dataset().clone();
        let db = Arc::new(TestDb::new(backend));
        db.import(&[&data.path]).unwrap();
        let sensitive = data.sensitive_locations();
        let (id, base) = data
            .locations
            .iter()
            .find(|(id, l)| !sensitive.contains(*id) && l.to_string().contains(CAPACITY))
            .map(|(id, l)| (id.clone(), l.clone()))
            .unwrap();
        let template = base["extension"].as_array().unwrap().iter().find(|e| e["url"] == CAPACITY).unwrap().clone();
        let servers = PROFILES
            .iter()
            .map(|&p| {
                let app = TestApp::builder(backend)
                    .database(db.clone())
                    .empty()
                    .insecure_profile(p)
                    .config(|c| c.pool_size = 2)
                    .start();
                (p, app)
            })
            .collect();
        Self { servers, db, id, base, template, n: 0 }
    }

    fn import(&mut self, resources: &[Value]) {
        self.n += 1;
        let path = scratch_dir("views-import").join(format!("step{}.ndjson", self.n));
        let text: Vec<String> = resources.iter().map(Value::to_string).collect();
        std::fs::write(&path, text.join("\n")).unwrap();
        self.db.import(&[&path]).unwrap();
    }

    fn import_place(&mut self, figures: &[Value], name: &str) {
        let p = place(&self.base, figures, name);
        self.import(&[p]);
    }

    /// What each profile sees of the place: (meta.lastUpdated, Last-Modified, Observation ids).
    fn seen(&self) -> BTreeMap<u8, (String, String, Vec<String>)> {
        self.servers
            .iter()
            .map(|(p, app)| {
                let r = app.get(&format!("Location/{}", self.id));
                assert_eq!(r.status, 200, "{}", r.body);
                let lu = r.body["meta"]["lastUpdated"].as_str().unwrap().to_owned();
                let lm = r.headers["last-modified"].to_str().unwrap().to_owned();
                let obs = app.get(&format!("Observation?subject=Location/{}", self.id));
                let mut ids: Vec<String> = obs.body["entry"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["resource"]["id"].as_str().unwrap().to_owned())
                    .collect();
                ids.sort();
                // The place's own figures (read and search) are the ones its Observations show.
                let on_place = |body: &Value| {
                    body["extension"].as_array().into_iter().flatten().filter(|e| e["url"] == CAPACITY).count()
                };
                assert_eq!(on_place(&r.body), ids.len(), "profile {p}: the read's figures");
                let found = app.get(&format!("Location?_id={}", self.id));
                assert_eq!(on_place(&found.body["entry"][0]["resource"]), ids.len(), "profile {p}: the search's");
                (*p, (lu, lm, ids))
            })
            .collect()
    }

    /// The profiles whose view of the place moved between `before` and now, checked through reads,
    /// `Last-Modified`, `_lastUpdated=gt` and `_sort=-_lastUpdated`.
    fn moved(&self, before: &BTreeMap<u8, (String, String, Vec<String>)>) -> Vec<u8> {
        let now = self.seen();
        let mut moved = Vec::new();
        for (p, app) in &self.servers {
            let (lu0, lm0, _) = &before[p];
            let (lu1, lm1, _) = &now[p];
            let search = app.get(&format!("Location?_id={}&_lastUpdated=gt{}&_summary=count", self.id, enc(lu0)));
            let found = search.body["total"].as_u64().unwrap() == 1;
            assert_eq!(lu0 != lu1, found, "profile {p}: lastUpdated {lu0} -> {lu1}, found by gt: {found}");
            if lu0 == lu1 {
                assert_eq!(lm0, lm1, "profile {p}: Last-Modified moved alone");
            } else {
                assert!(lu1 > lu0, "profile {p}: went backwards {lu0} -> {lu1}");
                // The latest change this profile saw is this place's.
                let newest = app.get("Location?_sort=-_lastUpdated&_count=1");
                assert_eq!(newest.body["entry"][0]["resource"]["id"], self.id.as_str(), "profile {p}");
                moved.push(*p);
            }
        }
        moved
    }
}

fn last_updated_follows_what_each_profile_sees(backend: Backend) {
    let mut v = Views::new(backend);
    let t = v.template.clone();
    // 01/01 is seen by profiles 0, 1, 2; 06 (supplémentaire) by 1 only; 02 with assignment 02 by 1, 2.
    let (a, b, c) = (figure(&t, "01", "01", 10), figure(&t, "06", "01", 5), figure(&t, "02", "02", 7));
    v.import_place(&[a.clone(), b.clone(), c.clone()], "Lieu témoin");
    let s0 = v.seen();
    // Item 2: ids are the same for every profile that sees a figure, and only those ids.
    assert_eq!(s0[&1].2.len(), 3);
    assert_eq!(s0[&0].2.len(), 1);
    assert_eq!(s0[&2].2.len(), 2);
    for p in [0, 2] {
        assert!(s0[&p].2.iter().all(|id| s0[&1].2.contains(id)), "profile {p}: {:?}", s0[&p].2);
    }
    assert!(s0[&5].2.is_empty());

    // A hidden figure's count changes (the source moves its own meta.lastUpdated too): only 1.
    let mut next = place(&v.base, &[a.clone(), figure(&t, "06", "01", 6), c.clone()], "Lieu témoin");
    next["meta"]["lastUpdated"] = json!("2026-11-30T10:00:00Z");
    v.import(&[next]);
    assert_eq!(v.moved(&s0), vec![1]);
    let s1 = v.seen();
    assert_eq!(s1[&1].2, s0[&1].2, "a new count keeps the Observation id");

    // A figure seen by 1 and 2 changes: 1 and 2.
    v.import_place(&[a.clone(), figure(&t, "06", "01", 6), figure(&t, "02", "02", 8)], "Lieu témoin");
    assert_eq!(v.moved(&s1), vec![1, 2]);
    let s2 = v.seen();

    // The 06 figure disappears: only 1 saw it.
    v.import_place(&[a.clone(), figure(&t, "02", "02", 8)], "Lieu témoin");
    assert_eq!(v.moved(&s2), vec![1]);
    let s3 = v.seen();
    assert_eq!(s3[&2].2, s2[&2].2, "profile 2's ids do not move when a figure it never saw goes");

    // The figure everyone with capacity sees changes: 0, 1, 2 — not 5.
    v.import_place(&[figure(&t, "01", "01", 11), figure(&t, "02", "02", 8)], "Lieu témoin");
    assert_eq!(v.moved(&s3), vec![0, 1, 2]);
    let s4 = v.seen();

    // The place itself changes: everyone.
    v.import_place(&[figure(&t, "01", "01", 11), figure(&t, "02", "02", 8)], "Lieu témoin renommé");
    assert_eq!(v.moved(&s4), vec![0, 1, 2, 5]);
    let s5 = v.seen();

    // An offer makes it a sensitive unit: every profile that saw figures sees them go, not 5.
    let mut offer = v.servers[&1].data.services.values().next().unwrap().clone();
    offer["id"] = json!("views-sensitive-offer");
    offer["location"] = json!([{ "reference": format!("Location/{}", v.id) }]);
    let ext = offer["extension"].as_array_mut().unwrap();
    ext.retain(|e| !e["url"].as_str().unwrap().ends_with("ror-healthcareservice-sensitive-unit"));
    ext.push(json!({
        "url": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-healthcareservice-sensitive-unit",
        "valueBoolean": true
    }));
    v.import(&[offer.clone()]);
    assert_eq!(v.moved(&s5), vec![0, 1, 2]);
    let s6 = v.seen();
    assert!(s6.values().all(|(_, _, ids)| ids.is_empty()), "a sensitive place shows no figure");

    // While sensitive, its figures change for nobody.
    v.import_place(&[figure(&t, "01", "01", 12), figure(&t, "06", "01", 1)], "Lieu témoin renommé");
    assert_eq!(v.moved(&s6), Vec::<u8>::new());
    let s7 = v.seen();
    assert!(s7.values().all(|(_, _, ids)| ids.is_empty()), "re-imported, a sensitive place still shows no figure");

    // The offer is no longer a sensitive unit: the figures come back to those who may see them.
    let ext = offer["extension"].as_array_mut().unwrap();
    ext.retain(|e| !e["url"].as_str().unwrap().ends_with("ror-healthcareservice-sensitive-unit"));
    v.import(&[offer]);
    assert_eq!(v.moved(&s7), vec![0, 1, 2]);
    let s8 = v.seen();
    assert_eq!((s8[&0].2.len(), s8[&1].2.len(), s8[&2].2.len(), s8[&5].2.len()), (1, 2, 1, 0));
}

/// A database written before per-view instants (each place's instant inside its JSON, positional
/// Observation ids, no views) is brought to the current form at start, serving the same places.
fn earlier_rows_are_upgraded(backend: Backend) {
    use diesel::connection::SimpleConnection;
    let v = Views::new(backend);
    let app = &v.servers[&1];
    let before = app.get(&format!("Location/{}", v.id)).body;
    let ids = v.seen()[&1].2.clone();
    // Put the place back in the earlier form, as the previous version wrote it.
    let url = v.db.db_url();
    let mut conn = ror_capacity::db::connect(&url, false).unwrap();
    let lu = before["meta"]["lastUpdated"].as_str().unwrap();
    let id = &v.id;
    let splice = match backend {
        Backend::Sqlite => format!("substr(json_head, 1, lu_at) || '{lu}' || substr(json_head, lu_at + 1)"),
        Backend::Postgres => format!("substr(json_head, 1, lu_at::int) || '{lu}' || substr(json_head, lu_at::int + 1)"),
    };
    conn.batch_execute(&format!(
        "UPDATE locations SET json_head = {splice}, lu_at = NULL WHERE id = '{id}';
         DELETE FROM location_views WHERE location_id = '{id}';
         UPDATE capacities SET observation_id = location_id || '-cap-' || CAST(seq AS TEXT) WHERE location_id = '{id}';"
    ))
    .unwrap();
    drop(conn);
    ror_capacity::startup::migrate(&url).unwrap();
    let after = app.get(&format!("Location/{}", v.id)).body;
    assert_eq!(after, before);
    assert_eq!(v.seen()[&1].2, ids);
    for p in PROFILES {
        assert_eq!(v.servers[&p].get(&format!("Location/{}", v.id)).status, 200, "profile {p}");
    }
}

/// What every profile is served of a place: its read, and its Observations searched.
fn served(v: &Views) -> BTreeMap<u8, (Value, Value)> {
    let obs = format!("Observation?subject=Location/{}&_sort=_id", v.id);
    v.servers
        .iter()
        .map(|(p, app)| (*p, (app.get(&format!("Location/{}", v.id)).body, app.get(&obs).body["entry"].clone())))
        .collect()
}

/// A database written before figures were stored once (each figure's extension in `capacities`,
/// the place without its piece) is brought to the current form by the migration, serving every
/// profile the same place and the same Observations.
fn figures_stored_twice_are_upgraded(backend: Backend) {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    let mut v = Views::new(backend);
    // A place with a figure that profile 2 may not see (status 06) among others.
    let figures =
        [figure(&v.template, "01", "01", 12), figure(&v.template, "06", "01", 3), figure(&v.template, "02", "02", 5)];
    v.import_place(&figures, "Before the pieces");
    let before = served(&v);
    assert_ne!(before[&1].0, before[&2].0, "profile 2 sees fewer figures");
    let url = v.db.db_url();
    let mut conn = ror_capacity::db::connect(&url, false).unwrap();
    let id = v.id.clone();
    // Read before going back: the packed pieces leave with their column.
    let packed: Vec<u8> = match &mut conn {
        ror_capacity::db::DbConn::Sqlite(c) => ror_capacity::db::schema::locations::table
            .find(&id)
            .select(ror_capacity::db::schema::locations::figures_lz4)
            .first::<Option<Vec<u8>>>(c),
        ror_capacity::db::DbConn::Postgresql(c) => ror_capacity::db::schema::locations::table
            .find(&id)
            .select(ror_capacity::db::schema::locations::figures_lz4)
            .first::<Option<Vec<u8>>>(c),
    }
    .unwrap()
    .unwrap();
    let piece = ror_capacity::fhir::figures::unpack(&packed).unwrap();
    for (version, what) in [
        ("20261207000002", "the first figure of each kind marked"),
        ("20261207000001", "the région walk testing figures itself"),
        ("20261206000006", "deferred foreign keys"),
        ("20261206000005", "the text queue written by the import"),
        ("20261206000004", "the migration packing the pieces"),
        ("20261206000003", "the migration storing figures once"),
    ] {
        assert_eq!(ror_capacity::db::migrate::revert_last(&mut conn).unwrap(), version, "{what}");
    }
    let extensions = ror_capacity::fhir::figures::split(&piece);
    assert_eq!(extensions.len(), 3);
    let q = |sql: &str| diesel::sql_query(sql.to_owned());
    for (seq, json) in extensions.iter().enumerate() {
        let update = q("UPDATE capacities SET extension_json = $1 WHERE location_id = $2 AND seq = $3")
            .bind::<Text, _>(*json)
            .bind::<Text, _>(&id)
            .bind::<BigInt, _>(i64::try_from(seq + 1).unwrap());
        let n = match &mut conn {
            ror_capacity::db::DbConn::Sqlite(c) => update.execute(c),
            ror_capacity::db::DbConn::Postgresql(c) => update.execute(c),
        };
        assert_eq!(n.unwrap(), 1);
    }
    let forget = q("UPDATE locations SET figures_json = NULL, figure_statuses = NULL, figure_assignments = NULL \
                    WHERE id = $1")
    .bind::<Text, _>(&id);
    let n = match &mut conn {
        ror_capacity::db::DbConn::Sqlite(c) => forget.execute(c),
        ror_capacity::db::DbConn::Postgresql(c) => forget.execute(c),
    };
    assert_eq!(n.unwrap(), 1);
    drop(conn);
    ror_capacity::startup::migrate(&url).unwrap();
    assert_eq!(served(&v), before);
    // The pieces the migration rebuilt as text were packed by the start-up.
    use ror_capacity::db::schema::locations::dsl as l;
    let mut conn = ror_capacity::db::connect(&url, false).unwrap();
    let unpacked = match &mut conn {
        ror_capacity::db::DbConn::Sqlite(c) => {
            l::locations.filter(l::figures_json.is_not_null()).count().get_result::<i64>(c)
        }
        ror_capacity::db::DbConn::Postgresql(c) => {
            l::locations.filter(l::figures_json.is_not_null()).count().get_result::<i64>(c)
        }
    };
    assert_eq!(unpacked.unwrap(), 0_i64);
}

crate::each_backend!(
    last_updated_follows_what_each_profile_sees,
    earlier_rows_are_upgraded,
    figures_stored_twice_are_upgraded
);
