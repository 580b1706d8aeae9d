//! One export job as it is stored (`job.json` in the job's folder): who started it, what it
//! exports, where it stands, and its files; and the manifest a finished job answers with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::request::ExportSpec;
use crate::auth::policy::Profile;
use crate::auth::registry::{Consumer, Interaction};
use crate::base::instant::format_instant;
use crate::fhir::ResourceType;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for a worker.
    Queued,
    /// Being written.
    Running,
    /// Written: its files can be downloaded until it expires.
    Done,
    /// Stopped by an error (its message is [`Job::failure`]).
    Failed,
}

/// The consumer a job belongs to, and sees the data as: its name, profile, regions and grants at
/// kick-off. A request whose consumer differs in any of them (another certificate, or the same
/// one after its registration changed) does not see the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Registered name.
    pub name: String,
    /// Access profile number.
    pub profile: u8,
    /// Regions it is limited to, sorted (`None`: all).
    pub regions: Option<Vec<String>>,
    /// Interactions per type (`None`: all).
    pub interactions: Option<BTreeMap<String, Vec<Interaction>>>,
}

impl Owner {
    /// The owner a request of `c` is.
    pub fn of(c: &Consumer) -> Self {
        let mut regions = c.regions.clone();
        if let Some(r) = regions.as_mut() {
            r.sort();
        }
        Self { name: c.name.clone(), profile: c.profile.number(), regions, interactions: c.interactions.clone() }
    }

    /// The consumer the job's data is read as (`None` if the stored profile is not one).
    pub fn consumer(&self) -> Option<Consumer> {
        let mut c = Consumer::unauthenticated(&self.name, Profile::new(self.profile)?);
        c.regions = self.regions.clone();
        c.interactions = self.interactions.clone();
        Some(c)
    }
}

/// One file of a finished job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// The type of its resources (`OperationOutcome` for the error file).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Its name in the job's folder (and in its URL).
    pub file: String,
    /// Resources in it.
    pub count: u64,
    /// Its length in bytes when written (`None`: not recorded, as for the error file), checked
    /// when the server starts again ([`super::store::intact`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Its id (random, unguessable: 32 hex digits).
    pub id: String,
    /// Who started it.
    pub owner: Owner,
    /// The kick-off URL, as received (without the body of a POST).
    pub request: String,
    /// What it exports.
    pub spec: ExportSpec,
    /// Where it stands.
    pub state: State,
    /// When it was accepted (µs).
    pub created_us: i64,
    /// When it was finished or failed (µs).
    pub finished_us: Option<i64>,
    /// The instant of its snapshot (µs), once written.
    pub transaction_us: Option<i64>,
    /// Its files, once written.
    pub output: Vec<OutputFile>,
    /// Its error files (OperationOutcome NDJSON).
    pub error: Vec<OutputFile>,
    /// Why it failed (said to its owner).
    pub failure: Option<String>,
}

/// The file name of a type's resources.
pub fn file_name(rt: ResourceType) -> String {
    format!("{}.ndjson", rt.as_str())
}

/// The name of the error file.
pub const ERROR_FILE: &str = "OperationOutcome.ndjson";

impl Job {
    /// The completion manifest: files under `files_base` (`…/$export-file/<id>`).
    pub fn manifest(&self, files_base: &str) -> serde_json::Value {
        let list = |files: &[OutputFile]| -> Vec<serde_json::Value> {
            files
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "type": f.resource_type,
                        "url": format!("{files_base}/{}", f.file),
                        "count": f.count,
                    })
                })
                .collect()
        };
        serde_json::json!({
            "transactionTime": format_instant(self.transaction_us.unwrap_or(self.created_us)),
            "request": self.request,
            "requiresAccessToken": false,
            "output": list(&self.output),
            "error": list(&self.error),
        })
    }

    /// Whether `name` is one of its files.
    pub fn has_file(&self, name: &str) -> bool {
        self.output.iter().chain(&self.error).any(|f| f.file == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_round_trip_to_the_same_consumer() {
        let mut c = Consumer::unauthenticated("samu-35", Profile::new(2).unwrap());
        c.regions = Some(vec!["53".into(), "11".into()]);
        c.interactions = Some(BTreeMap::from([("Location".to_owned(), vec![Interaction::Search, Interaction::Read])]));
        let owner = Owner::of(&c);
        assert_eq!(owner.regions, Some(vec!["11".to_owned(), "53".to_owned()]));
        let back = owner.consumer().unwrap();
        assert_eq!(Owner::of(&back), owner);
        assert_eq!(back.interactions, c.interactions);
        let mut other = c.clone();
        other.profile = Profile::new(3).unwrap();
        assert_ne!(Owner::of(&other), owner);
    }
}
