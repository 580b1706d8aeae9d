//! Giving the allocator's free memory back to the system.
//!
//! glibc keeps what a thread frees in that thread's arena for later use, and hands memory back to
//! the system only from the top of an arena. After bursts of large answers (région and offer
//! searches at 16 connections, ~2 MB each, built on the blocking threads), then two exports, the
//! server held 122 MB, of which `malloc_trim` gave back 80 (BENCHMARKS.md).
//! `malloc_trim(0)` returns the free pages of every arena, wherever they lie.

/// Returns the allocator's free pages to the system; whether any were returned. Safe to call from
/// any thread at any time (glibc locks each arena while it trims it); it costs a walk of the free
/// lists, so the caller picks quiet moments.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code, reason = "glibc's malloc_trim has no safe binding; see the SAFETY note")]
pub fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes a plain integer and touches no memory in use: it gives back
    // pages that lie wholly inside free chunks, under each arena's own lock.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators: nothing to do here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releasing_is_harmless_while_memory_is_in_use() {
        let kept: Vec<Vec<u8>> = (0..64).map(|i| vec![u8::try_from(i).unwrap_or(0); 64 * 1024]).collect();
        let freed: Vec<Vec<u8>> = (0..64).map(|_| vec![7u8; 64 * 1024]).collect();
        drop(freed);
        let _ = release_free_memory();
        for (i, block) in kept.iter().enumerate() {
            assert!(block.iter().all(|b| usize::from(*b) == i));
        }
    }
}
