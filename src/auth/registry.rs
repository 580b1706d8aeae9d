//! The consumer registry: which client certificates may connect, and with which access profile.
//!
//! File format (TOML), one `[[consumer]]` table per consumer:
//! ```toml
//! [[consumer]]
//! name = "samu-44"                                   # unique, used in the audit log
//! subject = "C=FR, O=CHU de Nantes, CN=samu-44"      # subject DN, as printed by the server
//! issuer = "C=FR, O=ASIP-SANTE, CN=AC IGC-SANTE ..." # issuer DN
//! fingerprint_sha256 = "AB:CD:…"                     # SHA-256 of the DER certificate (colons optional)
//! profile = 1                                        # ROR access profile 0-5
//! regions = ["52", "53"]                             # optional: source regions (`_tag`) it may see
//! max_count = 50                                     # optional: its own maximum `_count`
//! [consumer.interactions]                            # optional: per type, among "read", "search"
//! Location = ["read", "search"]
//! ```
//! Matching rule: a consumer entry matches a certificate when every criterion it gives matches;
//! an entry must give the subject **and** the issuer, or the fingerprint (or all three). DNs are
//! compared as `C=…, O=…, CN=…` strings in certificate order, short attribute names, ", " between.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use super::policy::Profile;
use super::stable_file::{self, Stamp};
use crate::fhir::ResourceType;

/// An interaction a consumer may be granted (serialised as the registry names it: `read`, `search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interaction {
    /// `GET /{type}/{id}`.
    Read,
    /// Searches.
    Search,
}

/// The identity read from a verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// SHA-256 fingerprint of the DER certificate, upper-case hex without separators.
    pub fingerprint_sha256: String,
}

/// A registered consumer, as a request's principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Name.
    pub name: String,
    /// Access profile.
    pub profile: Profile,
    /// Allowed source regions (`None`: all).
    pub regions: Option<Vec<String>>,
    /// Allowed interactions per type (`None`: read and search on every type).
    pub interactions: Option<BTreeMap<String, Vec<Interaction>>>,
    /// Own maximum `_count`.
    pub max_count: Option<usize>,
    subject: Option<String>,
    issuer: Option<String>,
    fingerprint: Option<String>,
}

impl Consumer {
    /// A consumer not bound to any certificate (plain-HTTP development mode).
    pub fn unauthenticated(name: &str, profile: Profile) -> Self {
        Self {
            name: name.to_owned(),
            profile,
            regions: None,
            interactions: None,
            max_count: None,
            subject: None,
            issuer: None,
            fingerprint: None,
        }
    }

    /// Whether `interaction` on `rt` is granted.
    pub fn allows(&self, rt: ResourceType, interaction: Interaction) -> bool {
        match &self.interactions {
            None => true,
            Some(map) => map.get(rt.as_str()).is_some_and(|list| list.contains(&interaction)),
        }
    }

    fn matches(&self, id: &ClientIdentity) -> bool {
        let fp_ok = self.fingerprint.as_ref().is_none_or(|f| *f == id.fingerprint_sha256);
        let dn_ok = match (&self.subject, &self.issuer) {
            (Some(s), Some(i)) => *s == id.subject && *i == id.issuer,
            _ => true,
        };
        fp_ok && dn_ok
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: String,
    subject: Option<String>,
    issuer: Option<String>,
    fingerprint_sha256: Option<String>,
    profile: u8,
    regions: Option<Vec<String>>,
    max_count: Option<usize>,
    interactions: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    consumer: Vec<FileEntry>,
}

/// The parsed registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    consumers: Vec<Consumer>,
}

fn normalize_fingerprint(f: &str) -> Option<String> {
    let hex: String = f.chars().filter(|c| *c != ':').collect::<String>().to_ascii_uppercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

impl Registry {
    /// Parses a registry; every problem is reported with the consumer concerned.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut consumers = Vec::new();
        for (i, e) in file.consumer.into_iter().enumerate() {
            let at = format!("consumer #{} ({:?})", i + 1, e.name);
            if e.name.trim().is_empty() {
                return Err(format!("{at}: empty name"));
            }
            if consumers.iter().any(|c: &Consumer| c.name == e.name) {
                return Err(format!("{at}: duplicate name"));
            }
            let profile = Profile::new(e.profile).ok_or_else(|| format!("{at}: profile must be 0 to 5"))?;
            let fingerprint = match &e.fingerprint_sha256 {
                None => None,
                Some(f) => Some(
                    normalize_fingerprint(f).ok_or_else(|| format!("{at}: fingerprint_sha256 is not 32 hex bytes"))?,
                ),
            };
            let has_dn = e.subject.is_some() && e.issuer.is_some();
            if !has_dn && fingerprint.is_none() {
                return Err(format!("{at}: give subject and issuer, or fingerprint_sha256"));
            }
            if e.subject.is_some() != e.issuer.is_some() {
                return Err(format!("{at}: subject and issuer go together"));
            }
            let interactions = match e.interactions {
                None => None,
                Some(map) => {
                    let mut out = BTreeMap::new();
                    for (ty, list) in map {
                        if ResourceType::parse(&ty).is_none() {
                            return Err(format!("{at}: unknown resource type {ty:?} in interactions"));
                        }
                        let mut granted = Vec::new();
                        for s in list {
                            granted.push(match s.as_str() {
                                "read" => Interaction::Read,
                                "search" => Interaction::Search,
                                other => return Err(format!("{at}: interaction {other:?} (read or search)")),
                            });
                        }
                        out.insert(ty, granted);
                    }
                    Some(out)
                }
            };
            if e.max_count == Some(0) {
                return Err(format!("{at}: max_count must be at least 1"));
            }
            consumers.push(Consumer {
                name: e.name,
                profile,
                regions: e.regions,
                interactions,
                max_count: e.max_count,
                subject: e.subject,
                issuer: e.issuer,
                fingerprint,
            });
        }
        Ok(Self { consumers })
    }

    /// The consumer matching `id`, if registered.
    pub fn find(&self, id: &ClientIdentity) -> Option<&Consumer> {
        self.consumers.iter().find(|c| c.matches(id))
    }

    /// Number of consumers.
    pub fn len(&self) -> usize {
        self.consumers.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.consumers.is_empty()
    }
}

/// A registry file, reloaded when it changes; a broken file keeps the previous registry, and a
/// file still being written is not read (see [`stable_file`]): a half-written file can parse as a
/// less restricted consumer (an entry cut before its `regions`).
#[derive(Debug)]
pub struct LiveRegistry {
    path: PathBuf,
    current: RwLock<(Arc<Registry>, Option<Stamp>)>,
    /// Reloads and refused versions.
    pub reloads: crate::base::reloads::ReloadCounts,
}

impl LiveRegistry {
    /// Loads `path` (it must parse at start; a file still changing is waited for a few seconds).
    pub fn load(path: &Path) -> Result<Arc<Self>, String> {
        let snap = stable_file::read_settled(path, std::time::Duration::from_secs(5))?;
        let text = String::from_utf8(snap.bytes).map_err(|_| format!("{}: not UTF-8", path.display()))?;
        let registry = Registry::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Arc::new(Self {
            path: path.to_owned(),
            current: RwLock::new((Arc::new(registry), Some(snap.stamp))),
            reloads: Default::default(),
        }))
    }

    /// The current registry.
    pub fn get(&self) -> Arc<Registry> {
        match self.current.read() {
            Ok(g) => g.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// Reloads the file if it changed and is complete (unchanged for [`stable_file::QUIET`], two
    /// reads agree). Returns whether a new registry is in use. A file still changing is left for
    /// the next call.
    pub fn reload_if_changed(&self) -> bool {
        if self.path.as_os_str().is_empty() {
            return false;
        }
        let stamp = Stamp::of(&self.path).ok();
        let known = match self.current.read() {
            Ok(g) => g.1,
            Err(p) => p.into_inner().1,
        };
        if stamp == known {
            return false;
        }
        let (parsed, stamp) = match stable_file::read_stable(&self.path, stable_file::QUIET) {
            Ok(None) => return false,
            Ok(Some(snap)) => (
                String::from_utf8(snap.bytes).map_err(|_| "not UTF-8".to_owned()).and_then(|t| Registry::parse(&t)),
                Some(snap.stamp),
            ),
            Err(e) => (Err(e.to_string()), stamp),
        };
        let mut guard = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        guard.1 = stamp;
        match parsed {
            Ok(r) => {
                log::info!("consumer registry {} reloaded: {} consumer(s)", self.path.display(), r.len());
                guard.0 = Arc::new(r);
                self.reloads.note(true);
                true
            }
            Err(e) => {
                log::error!(
                    "consumer registry {} NOT reloaded, the previous one stays in use: {e}",
                    self.path.display()
                );
                self.reloads.note(false);
                false
            }
        }
    }

    /// Starts a thread that checks the file every `every`.
    pub fn watch(self: &Arc<Self>, every: std::time::Duration) {
        let me = Arc::downgrade(self);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(every);
                match me.upgrade() {
                    Some(r) => {
                        r.reload_if_changed();
                    }
                    None => break,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(subject: &str, fp: &str) -> ClientIdentity {
        ClientIdentity { subject: subject.into(), issuer: "C=FR, CN=CA".into(), fingerprint_sha256: fp.into() }
    }

    #[test]
    fn parses_and_matches() {
        let fp = "AB".repeat(32);
        let text = format!(
            "[[consumer]]\nname = \"a\"\nsubject = \"C=FR, CN=a\"\nissuer = \"C=FR, CN=CA\"\nprofile = 2\nregions = [\"52\"]\n\
             [[consumer]]\nname = \"b\"\nfingerprint_sha256 = \"{}\"\nprofile = 5\n[consumer.interactions]\nLocation = [\"search\"]\n",
            fp.to_lowercase()
        );
        let r = Registry::parse(&text).unwrap();
        assert_eq!(r.find(&id("C=FR, CN=a", "00")).unwrap().name, "a");
        let b = r.find(&id("C=FR, CN=zzz", &fp)).unwrap();
        assert_eq!(b.profile.number(), 5);
        assert!(b.allows(ResourceType::Location, Interaction::Search));
        assert!(!b.allows(ResourceType::Location, Interaction::Read));
        assert!(r.find(&id("C=FR, CN=nobody", "00")).is_none());
    }

    #[test]
    fn refuses_broken_entries() {
        for bad in [
            "[[consumer]]\nname = \"a\"\nprofile = 1\n",
            "[[consumer]]\nname = \"a\"\nsubject = \"x\"\nprofile = 1\nfingerprint_sha256 = \"zz\"\n",
            "[[consumer]]\nname = \"a\"\nsubject = \"x\"\nissuer = \"y\"\nprofile = 9\n",
            "[[consumer]]\nname = \"a\"\nsubject = \"x\"\nissuer = \"y\"\nprofile = 1\nunknown = 1\n",
            "[[consumer]]\nname = \"a\"\nsubject = \"x\"\nissuer = \"y\"\nprofile = 1\n[consumer.interactions]\nPatient = [\"read\"]\n",
            "not toml at all [",
        ] {
            assert!(Registry::parse(bad).is_err(), "{bad}");
        }
    }

    fn aged(path: &Path) {
        let f = std::fs::File::options().append(true).open(path).unwrap();
        f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn a_half_written_registry_is_not_used() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("ror-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("consumers.toml");
        let whole = "[[consumer]]\nname = \"a\"\nsubject = \"C=FR, CN=a\"\nissuer = \"C=FR, CN=CA\"\nprofile = 2\nregions = [\"52\"]\n";
        std::fs::write(&path, whole).unwrap();
        aged(&path);
        let live = LiveRegistry::load(&path).unwrap();
        let regions = |l: &LiveRegistry| l.get().find(&id("C=FR, CN=a", "00")).unwrap().regions.clone();
        assert_eq!(regions(&live), Some(vec!["52".to_owned()]));
        // Rewritten in place; caught after `profile = 2`, which parses as a consumer of every region.
        let (head, tail) = whole.split_at(whole.find("regions").unwrap());
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(head.as_bytes()).unwrap();
        assert!(Registry::parse(head).unwrap().find(&id("C=FR, CN=a", "00")).unwrap().regions.is_none());
        assert!(!live.reload_if_changed(), "a file modified just now is not read");
        aged(&path);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(stable_file::INTERVAL / 3);
            f.write_all(tail.as_bytes()).unwrap();
        });
        assert!(!live.reload_if_changed(), "a file that changes between two reads is not used");
        writer.join().unwrap();
        assert_eq!(regions(&live), Some(vec!["52".to_owned()]));
        aged(&path);
        assert!(live.reload_if_changed());
        assert_eq!(regions(&live), Some(vec!["52".to_owned()]));
    }
}
