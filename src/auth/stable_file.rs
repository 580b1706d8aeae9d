//! Reading a file that another process may be rewriting in place (the consumer registry, CRLs).
//!
//! A read only counts when the file is complete as far as can be told from outside: it has not been
//! modified for [`QUIET`], and two reads [`INTERVAL`] apart give the same bytes, the same size and
//! the same modification time. A writer that pauses longer than that in the middle of a file
//! defeats it: replacing a file atomically (write a temporary file, then rename it over) is the
//! safe way, and what the README asks for.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long a changed file must stay unmodified before it is read.
pub const QUIET: Duration = Duration::from_secs(1);
/// Time between the two reads that must agree.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    /// The stamp of `path` now.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let m = std::fs::metadata(path)?;
        Ok(Self { modified: m.modified().ok(), len: m.len() })
    }

    /// Whether the file was modified less than `quiet` ago (a modification time in the future,
    /// from a skewed clock, does not hold the file back forever).
    fn recent(&self, quiet: Duration) -> bool {
        self.modified.and_then(|m| SystemTime::now().duration_since(m).ok()).is_some_and(|age| age < quiet)
    }
}

/// A complete read of a file.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The version they were read from.
    pub stamp: Stamp,
}

/// Reads `path` if it looks complete: unmodified for `quiet`, and two reads [`INTERVAL`] apart
/// agree. `Ok(None)`: the file is still changing, try again later.
pub fn read_stable(path: &Path, quiet: Duration) -> std::io::Result<Option<Snapshot>> {
    let first = Stamp::of(path)?;
    if first.recent(quiet) {
        return Ok(None);
    }
    let bytes = std::fs::read(path)?;
    std::thread::sleep(INTERVAL);
    let again = std::fs::read(path)?;
    let second = Stamp::of(path)?;
    let whole = u64::try_from(bytes.len()).is_ok_and(|n| n == first.len);
    Ok((first == second && whole && bytes == again).then_some(Snapshot { bytes, stamp: first }))
}

/// Reads `path` at start: waits (up to `patience`) for it to stop changing.
pub fn read_settled(path: &Path, patience: Duration) -> Result<Snapshot, String> {
    let started = std::time::Instant::now();
    loop {
        match read_stable(path, Duration::ZERO) {
            Ok(Some(s)) => return Ok(s),
            Ok(None) if started.elapsed() < patience => {}
            Ok(None) => return Err(format!("{} keeps changing; it was not read", path.display())),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ror-stable-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("f")
    }

    fn age(path: &Path, by: Duration) {
        let f = std::fs::File::options().append(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn a_fresh_file_waits_then_reads() {
        let p = scratch("fresh");
        std::fs::write(&p, b"abc").unwrap();
        assert!(read_stable(&p, QUIET).unwrap().is_none(), "just written: wait");
        age(&p, Duration::from_secs(5));
        assert_eq!(read_stable(&p, QUIET).unwrap().unwrap().bytes, b"abc");
    }

    #[test]
    fn a_file_written_during_the_read_is_not_taken() {
        let p = scratch("growing");
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(b"[[consumer]]\nprofile = 2\n").unwrap();
        age(&p, Duration::from_secs(5));
        let writer = std::thread::spawn(move || {
            std::thread::sleep(INTERVAL / 3);
            f.write_all(b"regions = [\"52\"]\n").unwrap();
        });
        assert!(read_stable(&p, QUIET).unwrap().is_none(), "changed between the reads");
        writer.join().unwrap();
        age(&p, Duration::from_secs(5));
        let s = read_stable(&p, QUIET).unwrap().unwrap();
        assert!(s.bytes.ends_with(b"regions = [\"52\"]\n"));
    }
}
