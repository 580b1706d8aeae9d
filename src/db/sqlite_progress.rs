//! SQLite's progress handler, installed on every connection this process opens, so that a
//! statement stops (`SQLITE_INTERRUPT`) once the budget of the request running it is spent or
//! cancelled (see [`super::budget`]).
//!
//! diesel does not expose the `sqlite3*` handle of its connections, so the handler is installed
//! from an automatic extension: SQLite calls it with the handle of each connection it opens. This
//! and `base::memory` (one call to glibc) are the crate's only `unsafe` code; each block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;

use libsqlite3_sys as ffi;

/// Virtual-machine instructions between two checks of the budget (a check reads the clock: about
/// 25 ns every few microseconds of work).
const CHECK_EVERY: c_int = 1000;

/// Called by SQLite every [`CHECK_EVERY`] instructions; non-zero interrupts the statement.
unsafe extern "C" fn on_progress(_: *mut c_void) -> c_int {
    // `current_must_stop` never panics (a panic must not unwind into C).
    c_int::from(super::budget::current_must_stop())
}

/// Called by SQLite for each connection it opens, with the connection's handle.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the live handle SQLite passes to an automatic extension; registering a
    // progress handler on it is what the API is for. The handler takes no argument (null).
    unsafe { ffi::sqlite3_progress_handler(db, CHECK_EVERY, Some(on_progress), std::ptr::null_mut()) };
    ffi::SQLITE_OK
}

/// Registers the handler for every connection opened from now on (once per process).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `on_open` has the signature SQLite expects of an entry point and lives for the
        // whole process; `sqlite3_auto_extension` is thread-safe.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            log::error!("cannot install SQLite's progress handler (code {rc}): statements have no time budget");
        }
    });
}
