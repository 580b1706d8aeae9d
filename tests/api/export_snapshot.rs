//! An export reads one snapshot: a place changed while its export is being written lands wholly on
//! one side of the export's `transactionTime` (the export has it as it was; an export `_since`
//! that instant has it as it became). The export is driven through the library, so the change can
//! be made between two of its pages, on a real database of each backend.

use ror_capacity::auth::policy::Profile;
use ror_capacity::auth::registry::Consumer;
use ror_capacity::base::clock::now_us;
use ror_capacity::base::instant::format_instant;
use ror_capacity::db;
use ror_capacity::fhir::ResourceType;
use ror_capacity::search::limits::SearchLimits;
use ror_capacity::service::export::plan::plan;
use ror_capacity::service::export::request::parse_kickoff;
use ror_capacity::service::export::write::{Sink, export};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestDb, dataset, scratch_dir};

#[derive(Default)]
struct Lines(Vec<Value>);

impl Sink for Lines {
    fn put(&mut self, rt: ResourceType, pieces: &[&str]) -> std::io::Result<()> {
        assert_eq!(rt, ResourceType::Location);
        self.0.push(serde_json::from_str(&pieces.concat()).unwrap());
        Ok(())
    }
}

fn name_of(lines: &Lines, id: &str) -> Option<String> {
    lines.0.iter().find(|r| r["id"] == id).map(|r| r["name"].as_str().unwrap_or_default().to_owned())
}

fn a_change_during_an_export_lands_on_one_side(backend: Backend) {
    let data = dataset().clone();
    let db = TestDb::new(backend);
    db.import(&[&data.path]).unwrap();
    let url = db.db_url();
    // The last place in id order: the export writes it after the change.
    let (id, original) = data.locations.iter().next_back().map(|(k, v)| (k.clone(), v.clone())).unwrap();
    let consumer = Consumer::unauthenticated("c", Profile::new(1).unwrap());
    let run = |since: Option<String>, on_first_page: &mut dyn FnMut()| {
        let mut pairs = vec![("_type".to_owned(), "Location".to_owned())];
        pairs.extend(since.map(|s| ("_since".to_owned(), s)));
        let spec = parse_kickoff(&pairs, None, false).unwrap();
        let plan = plan(&spec, &consumer, &SearchLimits::default()).unwrap();
        let mut conn = db::connect(&url, true).unwrap();
        let mut lines = Lines::default();
        let mut pages = 0;
        let mut on_page = |_| {
            pages += 1;
            if pages == 1 {
                on_first_page();
            }
            true
        };
        let t = export(&mut conn, &plan, 10, &mut lines, &mut on_page).unwrap();
        (t, lines)
    };

    let mut changed_us = 0;
    let (t, before) = run(None, &mut || {
        changed_us = now_us();
        let mut place = original.clone();
        place["name"] = json!("Changed during an export");
        place["meta"]["lastUpdated"] = json!(format_instant(changed_us));
        let path = scratch_dir("export-snapshot").join("change.ndjson");
        std::fs::write(&path, place.to_string()).unwrap();
        db.import(&[&path]).unwrap();
    });
    assert_eq!(before.0.len(), data.locations.len());
    assert_eq!(name_of(&before, &id), original["name"].as_str().map(str::to_owned), "the export has it as it was");
    assert!(t < changed_us, "transactionTime precedes the change");

    let (_, delta) = run(Some(format_instant(t)), &mut || {});
    assert_eq!(name_of(&delta, &id).as_deref(), Some("Changed during an export"), "the next delta has it as it became");
}

crate::each_backend!(a_change_during_an_export_lands_on_one_side);
