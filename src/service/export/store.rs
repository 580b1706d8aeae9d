//! The export directory: one folder per job, named by its id, holding `job.json` (the [`Job`],
//! replaced atomically at each change of state) and its NDJSON files. Nothing of the served data
//! is written here, and nothing here is read by searches.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::job::{ERROR_FILE, Job, OutputFile, file_name};
use super::write::Sink;
use crate::fhir::ResourceType;

const RECORD: &str = "job.json";

/// Whether `id` has the form of a job id (so that it can name a folder).
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The folder of job `id` (a [`valid_id`]).
pub fn job_dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Writes `job`'s record: to a temporary file, synced, then renamed over the old one, so that a
/// crash leaves the old record or the new one.
pub fn save(root: &Path, job: &Job) -> std::io::Result<()> {
    let dir = job_dir(root, &job.id);
    std::fs::create_dir_all(&dir)?;
    let tmp = dir.join("job.json.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&serde_json::to_vec_pretty(job).map_err(std::io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(RECORD))
}

/// Every job recorded under `root` (folders without a readable record are removed: a kick-off
/// interrupted before its record was written).
pub fn load_all(root: &Path) -> std::io::Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|n| valid_id(n)) else { continue };
        let record = std::fs::read(path.join(RECORD)).ok().and_then(|b| serde_json::from_slice::<Job>(&b).ok());
        match record {
            Some(job) if job.id == name => jobs.push(job),
            _ => {
                log::warn!("export folder {} has no readable job record: removed", path.display());
                remove(root, name);
            }
        }
    }
    Ok(jobs)
}

/// Removes job `id`'s folder. A file being downloaded stays readable to its reader until closed.
pub fn remove(root: &Path, id: &str) {
    let dir = job_dir(root, id);
    if let Err(e) = std::fs::remove_dir_all(&dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::warn!("cannot remove export folder {}: {e}", dir.display());
    }
}

/// Removes the NDJSON files of job `id` (its record stays): before it is written again.
pub fn clear_files(root: &Path, id: &str) -> std::io::Result<()> {
    let dir = job_dir(root, id);
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// Whether the files of a finished job are as they were written: each one whose length was
/// recorded still has it. The files are not synced to disk when written (without that flush a
/// national export took 2.50 s instead of 2.93, BENCHMARKS.md), only the job's record is: after a crash of the
/// machine, a finished job whose files did not all reach the disk is found here.
pub fn intact(root: &Path, job: &Job) -> bool {
    let dir = job_dir(root, &job.id);
    job.output.iter().chain(&job.error).all(|f| match f.bytes {
        Some(n) => std::fs::metadata(dir.join(&f.file)).is_ok_and(|m| m.len() == n),
        None => true,
    })
}

/// One open file of a [`FileSink`].
struct Open {
    rt: ResourceType,
    writer: BufWriter<File>,
    count: u64,
    bytes: u64,
}

/// Writes a job's files: one per type, opened when its first resource comes.
pub struct FileSink {
    dir: PathBuf,
    /// By type name (the manifest lists the files in that order).
    files: BTreeMap<&'static str, Open>,
}

impl FileSink {
    /// A sink writing into job `id`'s folder.
    pub fn new(root: &Path, id: &str) -> Self {
        Self { dir: job_dir(root, id), files: BTreeMap::new() }
    }

    fn file(&mut self, rt: ResourceType) -> std::io::Result<&mut Open> {
        if !self.files.contains_key(rt.as_str()) {
            let f = File::create(self.dir.join(file_name(rt)))?;
            self.files
                .insert(rt.as_str(), Open { rt, writer: BufWriter::with_capacity(1 << 20, f), count: 0, bytes: 0 });
        }
        self.files.get_mut(rt.as_str()).ok_or_else(|| std::io::Error::other("export file not open"))
    }

    /// Writes the error file: one OperationOutcome per line.
    pub fn put_outcome(&mut self, outcome: &serde_json::Value) -> std::io::Result<()> {
        let path = self.dir.join(ERROR_FILE);
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(f, "{outcome}")
    }

    /// Flushes every file (to the system: see [`intact`]); the files written, by type, with
    /// their lengths.
    pub fn finish(self) -> std::io::Result<Vec<OutputFile>> {
        let mut out = Vec::new();
        for (name, open) in self.files {
            open.writer.into_inner().map_err(std::io::IntoInnerError::into_error)?;
            out.push(OutputFile {
                resource_type: name.to_owned(),
                file: file_name(open.rt),
                count: open.count,
                bytes: Some(open.bytes),
            });
        }
        Ok(out)
    }
}

impl Sink for FileSink {
    fn put(&mut self, rt: ResourceType, pieces: &[&str]) -> std::io::Result<()> {
        let open = self.file(rt)?;
        for piece in pieces {
            open.writer.write_all(piece.as_bytes())?;
            open.bytes += piece.len() as u64;
        }
        open.writer.write_all(b"\n")?;
        open.count += 1;
        open.bytes += 1;
        Ok(())
    }
}
