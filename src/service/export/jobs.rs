//! The export jobs of a server: accepted within limits, written by worker threads on connections
//! of their own (never the serving pool's), polled, cancelled, expired; recorded in the export
//! directory so that a restart resumes what was queued or running (written again from a new
//! snapshot) and keeps what was finished until it expires.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::job::{ERROR_FILE, Job, OutputFile, Owner, State};
use super::plan::plan;
use super::request::ExportSpec;
use super::store::{self, FileSink};
use super::write::{self, ExportError};
use crate::base::clock::now_us;
use crate::config::ExportSettings;
use crate::db::{self, DbUrl};
use crate::fhir::outcome::{Issue, operation_outcome};
use crate::search::limits::SearchLimits;

/// Why a kick-off was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Too many jobs unfinished (the consumer's, or all): retry after the delay.
    #[error("{0}")]
    TooMany(String, Duration),
    /// The job could not be recorded.
    #[error("cannot record the export job: {0}")]
    Io(#[from] std::io::Error),
}

/// What a poll of a job finds.
#[derive(Debug)]
pub enum Poll {
    /// Queued or running: what it has done, and when to ask again.
    Pending(String, Duration),
    /// Polled again sooner than allowed: when to ask again.
    TooSoon(Duration),
    /// Finished: the job, and when its files expire (µs).
    Done(Box<Job>, i64),
    /// Failed, and why.
    Failed(String),
}

/// A job and what its worker shares with the pollers.
struct Entry {
    job: Job,
    written: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    last_poll: Option<Instant>,
}

impl Entry {
    fn new(job: Job) -> Self {
        Self { job, written: Arc::default(), cancel: Arc::default(), last_poll: None }
    }
}

#[derive(Default)]
struct Jobs {
    entries: HashMap<String, Entry>,
    queue: VecDeque<String>,
}

struct Shared {
    settings: ExportSettings,
    root: PathBuf,
    url: DbUrl,
    limits: SearchLimits,
    jobs: Mutex<Jobs>,
    wake: Condvar,
    stopping: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn save(&self, job: &Job) {
        if let Err(e) = store::save(&self.root, job) {
            log::error!(export_id = job.id.as_str(); "export: cannot record its state: {e}");
        }
    }
}

/// The export jobs of one server. Dropping it stops the workers (a job being written stays
/// recorded as running, and is written again at the next start).
pub struct Exports {
    shared: Arc<Shared>,
    _temporary: Option<tempfile::TempDir>,
}

impl Drop for Exports {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
    }
}

impl Exports {
    /// Opens the export directory of `settings` (a temporary one, removed on exit, when it names
    /// none), resumes its unfinished jobs and starts the workers.
    pub fn open(settings: &ExportSettings, url: &DbUrl, limits: &SearchLimits) -> std::io::Result<Self> {
        let (root, temporary) = match &settings.dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::Builder::new().prefix("ror-capacity-exports-").tempdir()?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(&root)?;
        let shared = Arc::new(Shared {
            settings: settings.clone(),
            root,
            url: url.clone(),
            limits: limits.clone(),
            jobs: Mutex::new(Jobs::default()),
            wake: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        resume(&shared)?;
        for n in 0..settings.workers {
            let s = shared.clone();
            std::thread::Builder::new().name(format!("ror-export-{n}")).spawn(move || work(&s))?;
        }
        let s = shared.clone();
        std::thread::Builder::new().name("ror-export-expiry".into()).spawn(move || sweep(&s))?;
        Ok(Self { shared, _temporary: temporary })
    }

    /// The export directory.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// Accepts a job for `owner`, within the limits on unfinished jobs; its id.
    pub fn submit(&self, owner: Owner, request: String, spec: ExportSpec) -> Result<String, Refusal> {
        let s = &self.shared;
        let mut jobs = s.lock();
        let unfinished: Vec<&Entry> =
            jobs.entries.values().filter(|e| matches!(e.job.state, State::Queued | State::Running)).collect();
        let retry = s.settings.poll_interval.max(Duration::from_secs(1)) * 5;
        if unfinished.iter().filter(|e| e.job.owner.name == owner.name).count() >= s.settings.max_jobs_per_consumer {
            return Err(Refusal::TooMany(
                format!(
                    "this consumer already has {} export(s) unfinished, the most allowed: wait for one to finish, or \
                     cancel it (DELETE on its polling URL)",
                    s.settings.max_jobs_per_consumer
                ),
                retry,
            ));
        }
        if unfinished.len() >= s.settings.max_jobs {
            return Err(Refusal::TooMany(
                "the server is running as many exports as it allows; retry later".into(),
                retry,
            ));
        }
        let job = Job {
            id: new_id()?,
            owner,
            request,
            spec,
            state: State::Queued,
            created_us: now_us(),
            finished_us: None,
            transaction_us: None,
            output: Vec::new(),
            error: Vec::new(),
            failure: None,
        };
        store::save(&s.root, &job)?;
        let id = job.id.clone();
        jobs.queue.push_back(id.clone());
        jobs.entries.insert(id.clone(), Entry::new(job));
        drop(jobs);
        s.wake.notify_all();
        Ok(id)
    }

    /// Where job `id` of `owner` stands (`None`: no such job for this owner).
    pub fn poll(&self, id: &str, owner: &Owner) -> Option<Poll> {
        let s = &self.shared;
        let mut jobs = s.lock();
        let entry = jobs.entries.get_mut(id).filter(|e| e.job.owner == *owner)?;
        let interval = s.settings.poll_interval;
        Some(match entry.job.state {
            State::Done => Poll::Done(Box::new(entry.job.clone()), expires_us(&entry.job, s.settings.expiry)),
            State::Failed => Poll::Failed(entry.job.failure.clone().unwrap_or_else(|| "the export failed".into())),
            _ if entry.last_poll.is_some_and(|t| t.elapsed() < interval / 2) => Poll::TooSoon(interval),
            state => {
                entry.last_poll = Some(Instant::now());
                // Nothing of other consumers' jobs (how many wait ahead) is said.
                let progress = match state {
                    State::Queued => "queued".to_owned(),
                    _ => format!("{} resources written", entry.written.load(Ordering::Relaxed)),
                };
                Poll::Pending(progress, interval)
            }
        })
    }

    /// Cancels (or, when finished, deletes) job `id` of `owner` and removes its files; `false`
    /// when there is no such job for this owner.
    pub fn cancel(&self, id: &str, owner: &Owner) -> bool {
        let s = &self.shared;
        let mut jobs = s.lock();
        if !jobs.entries.get(id).is_some_and(|e| e.job.owner == *owner) {
            return false;
        }
        if let Some(entry) = jobs.entries.remove(id) {
            entry.cancel.store(true, Ordering::SeqCst);
        }
        jobs.queue.retain(|q| q != id);
        drop(jobs);
        store::remove(&s.root, id);
        true
    }

    /// The path of file `name` of finished job `id` of `owner`.
    pub fn file(&self, id: &str, owner: &Owner, name: &str) -> Option<PathBuf> {
        let jobs = self.shared.lock();
        let entry = jobs.entries.get(id).filter(|e| e.job.owner == *owner && e.job.state == State::Done)?;
        entry.job.has_file(name).then(|| store::job_dir(&self.shared.root, id).join(name))
    }
}

/// When `job`'s files expire (µs): `expiry` after it finished (or, never finished, was accepted).
fn expires_us(job: &Job, expiry: Duration) -> i64 {
    let expiry = i64::try_from(expiry.as_micros()).unwrap_or(i64::MAX);
    job.finished_us.unwrap_or(job.created_us).saturating_add(expiry)
}

/// A random job id: 128 bits from the system generator, as 32 lower-case hex digits.
fn new_id() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).map_err(std::io::Error::other)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Loads the recorded jobs: unfinished ones are queued again (oldest first), expired ones removed.
fn resume(s: &Shared) -> std::io::Result<()> {
    let mut recorded = store::load_all(&s.root)?;
    recorded.sort_by_key(|j| j.created_us);
    let now = now_us();
    let mut jobs = s.lock();
    for mut job in recorded {
        match job.state {
            State::Done | State::Failed => {
                if expires_us(&job, s.settings.expiry) <= now {
                    store::remove(&s.root, &job.id);
                    continue;
                }
                if job.state == State::Done && !store::intact(&s.root, &job) {
                    log::warn!(export_id = job.id.as_str(); "export's files incomplete after a restart (the machine stopped before they reached the disk): failed");
                    job.state = State::Failed;
                    job.failure =
                        Some("the export's files were lost when the server stopped; start a new export".into());
                    job.output.clear();
                    job.error.clear();
                    s.save(&job);
                }
            }
            State::Queued | State::Running => {
                log::info!(export_id = job.id.as_str(); "export interrupted by a restart: written again from a new snapshot");
                job.state = State::Queued;
                s.save(&job);
                jobs.queue.push_back(job.id.clone());
            }
        }
        jobs.entries.insert(job.id.clone(), Entry::new(job));
    }
    Ok(())
}

/// A worker: takes queued jobs one at a time until the server stops.
fn work(s: &Arc<Shared>) {
    loop {
        let (job, written, cancel) = {
            let mut jobs = s.lock();
            loop {
                if s.stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(id) = jobs.queue.pop_front()
                    && let Some(e) = jobs.entries.get_mut(&id)
                {
                    e.job.state = State::Running;
                    s.save(&e.job);
                    break (e.job.clone(), e.written.clone(), e.cancel.clone());
                }
                jobs = s
                    .wake
                    .wait_timeout(jobs, Duration::from_secs(1))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
        };
        let started = Instant::now();
        let outcome = run(s, &job, &written, &cancel);
        finish(s, job, outcome, started.elapsed());
    }
}

/// What a finished run found: the snapshot's instant, the files and the error files.
type Written = (i64, Vec<OutputFile>, Vec<OutputFile>);

/// Writes `job`'s files.
fn run(s: &Shared, job: &Job, written: &AtomicU64, cancel: &AtomicBool) -> Result<Written, ExportError> {
    store::clear_files(&s.root, &job.id)?;
    let consumer = job.owner.consumer().ok_or_else(|| std::io::Error::other("the job's profile is not known"))?;
    let plan = plan(&job.spec, &consumer, &s.limits)
        .map_err(|e| std::io::Error::other(format!("the export's parameters no longer hold: {e}")))?;
    let mut conn = db::connect(&s.url, true)?;
    let mut sink = FileSink::new(&s.root, &job.id);
    let mut errors = Vec::new();
    if !job.spec.ignored.is_empty() {
        let issues: Vec<Issue> = job
            .spec
            .ignored
            .iter()
            .map(|p| {
                Issue::warning("not-supported", format!("{p} is not supported: ignored (Prefer: handling=lenient)"))
            })
            .collect();
        sink.put_outcome(&operation_outcome(&issues))?;
        errors.push(OutputFile {
            resource_type: "OperationOutcome".into(),
            file: ERROR_FILE.into(),
            count: 1,
            bytes: None,
        });
    }
    let mut on_page = |n: u64| {
        written.store(n, Ordering::Relaxed);
        !cancel.load(Ordering::Relaxed) && !s.stopping.load(Ordering::Relaxed)
    };
    let transaction = write::export(&mut conn, &plan, s.settings.page, &mut sink, &mut on_page)?;
    Ok((transaction, sink.finish()?, errors))
}

/// Records how `job` ended (unless it was cancelled, or the server is stopping: then its record
/// stays as it is, and a restart writes it again).
fn finish(s: &Shared, mut job: Job, outcome: Result<Written, ExportError>, took: Duration) {
    let mut jobs = s.lock();
    let Some(entry) = jobs.entries.get_mut(&job.id) else {
        drop(jobs);
        store::remove(&s.root, &job.id); // cancelled while written
        return;
    };
    match outcome {
        Ok((transaction, output, error)) => {
            let n: u64 = output.iter().map(|f| f.count).sum();
            log::info!(export_id = job.id.as_str(); "export done: {n} resources in {:.1}s", took.as_secs_f64());
            job.state = State::Done;
            job.transaction_us = Some(transaction);
            job.output = output;
            job.error = error;
        }
        Err(ExportError::Cancelled) => return,
        Err(e) => {
            log::error!(export_id = job.id.as_str(); "export failed: {e}");
            job.state = State::Failed;
            job.failure = Some(match e {
                ExportError::Db(_) => "the export failed: the data could not be read; start a new export".into(),
                _ => "the export failed: its files could not be written; start a new export".into(),
            });
        }
    }
    job.finished_us = Some(now_us());
    s.save(&job);
    entry.job = job;
}

/// Removes expired jobs, until the server stops.
fn sweep(s: &Arc<Shared>) {
    let every = (s.settings.expiry / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    let mut jobs = s.lock();
    loop {
        jobs = s.wake.wait_timeout(jobs, every).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
        if s.stopping.load(Ordering::SeqCst) {
            return;
        }
        let now = now_us();
        let expired: Vec<String> = jobs
            .entries
            .values()
            .filter(|e| matches!(e.job.state, State::Done | State::Failed))
            .filter(|e| expires_us(&e.job, s.settings.expiry) <= now)
            .map(|e| e.job.id.clone())
            .collect();
        for id in expired {
            jobs.entries.remove(&id);
            store::remove(&s.root, &id);
            log::info!(export_id = id.as_str(); "export expired: its files removed");
        }
    }
}
