//! Remembered search totals. A `total` is a function of the search, of what its consumer may see
//! and of the data: a count made under one data generation (see `db::read::generation`, raised by
//! every import) is the count of any later request of the same search by the same consumer under
//! that generation. Counting is the costly part of a large first page (a
//! region's places with a free bed: every candidate probed, where the page stops at 200), and
//! consumers repeat their searches (a regulator's screen, a synchronising walk that starts again).
//!
//! Entries are keyed by the search's cursor binding (consumer, profile, regions, page size and the
//! canonical query), never shared between consumers, so that whether a count was remembered says
//! nothing about another consumer's requests. The cache is bounded by the bytes of its keys.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// Bytes an entry costs besides its key.
const ENTRY_OVERHEAD: u64 = 64;

#[derive(Clone)]
struct KeyBytes;

impl Weighter<String, (i64, u64)> for KeyBytes {
    fn weight(&self, key: &String, _: &(i64, u64)) -> u64 {
        key.len() as u64 + ENTRY_OVERHEAD
    }
}

/// Totals remembered per search and consumer, with the generation they were counted under.
pub struct CountMemo {
    cache: Cache<String, (i64, u64), KeyBytes>,
}

impl CountMemo {
    /// A memo holding at most about `max_bytes` of entries (0: remembers nothing).
    pub fn new(max_bytes: u64) -> Self {
        let estimated = usize::try_from(max_bytes / 512).unwrap_or(usize::MAX).max(1);
        Self { cache: Cache::with_weighter(estimated, max_bytes, KeyBytes) }
    }

    /// The total of search `key` counted under `generation`, if remembered.
    pub fn get(&self, key: &str, generation: i64) -> Option<u64> {
        self.cache.get(key).filter(|(g, _)| *g == generation).map(|(_, n)| n)
    }

    /// Remembers `total` for `key` under `generation`.
    pub fn put(&self, key: &str, generation: i64, total: u64) {
        self.cache.insert(key.to_owned(), (generation, total));
    }
}

/// A memo and the key of one search in it.
#[derive(Clone)]
pub struct Remembered {
    /// The memo.
    pub memo: Arc<CountMemo>,
    /// The search's cursor binding.
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_is_remembered_under_its_generation_only() {
        let m = CountMemo::new(1 << 20);
        assert_eq!(m.get("a", 1), None);
        m.put("a", 1, 42);
        assert_eq!(m.get("a", 1), Some(42));
        assert_eq!(m.get("a", 2), None, "a later generation counts again");
        assert_eq!(m.get("b", 1), None);
        m.put("a", 2, 43);
        assert_eq!(m.get("a", 2), Some(43));
        assert_eq!(m.get("a", 1), None, "one entry per search: the newer generation replaced it");
    }

    #[test]
    fn the_memo_stays_within_its_bytes() {
        let m = CountMemo::new(64 * 1024);
        for i in 0..10_000u64 {
            m.put(&format!("{i:0>200}"), 1, i);
        }
        assert!(m.cache.weight() <= 64 * 1024, "{}", m.cache.weight());
        let off = CountMemo::new(0);
        off.put("a", 1, 1);
        assert_eq!(off.get("a", 1), None);
    }
}
