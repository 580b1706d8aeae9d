//! Answers remembered under a data generation. A search's `total`, and the validator (`ETag`) of
//! its answer, are functions of the search, of what its consumer may see and of the data: what was
//! computed under one data generation (see `db::read::generation`, raised by every import) holds
//! for any later request of the same search by the same consumer under that generation.
//!
//! - Totals: counting is the costly part of a large first page (a region's places with a free bed:
//!   every candidate probed, where the page stops at 200), and consumers repeat their searches (a
//!   regulator's screen, a synchronising walk that starts again).
//! - Validators: a client polling with `If-None-Match` the answer it holds is told `304` after
//!   one read of the generation, without the search running again.
//!
//! Entries are keyed by the search's cursor binding (consumer, profile, regions, page size and the
//! canonical query), never shared between consumers, so that whether something was remembered says
//! nothing about another consumer's requests. Each memo is bounded by the bytes of its entries.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// Bytes an entry costs besides its key and value.
const ENTRY_OVERHEAD: u64 = 64;

/// What a remembered value weighs.
pub trait Weight {
    /// Bytes held besides the value's own size.
    fn heap_bytes(&self) -> u64;
}

impl Weight for u64 {
    fn heap_bytes(&self) -> u64 {
        0
    }
}

impl Weight for String {
    fn heap_bytes(&self) -> u64 {
        self.len() as u64
    }
}

#[derive(Clone)]
struct Bytes;

impl<V: Weight> Weighter<String, (i64, V)> for Bytes {
    fn weight(&self, key: &String, value: &(i64, V)) -> u64 {
        key.len() as u64 + value.1.heap_bytes() + ENTRY_OVERHEAD
    }
}

/// Values remembered per key, with the generation they were computed under.
pub struct GenerationMemo<V: Weight + Clone> {
    cache: Cache<String, (i64, V), Bytes>,
}

impl<V: Weight + Clone> GenerationMemo<V> {
    /// A memo holding at most about `max_bytes` of entries (0: remembers nothing).
    pub fn new(max_bytes: u64) -> Self {
        let estimated = usize::try_from(max_bytes / 512).unwrap_or(usize::MAX).max(1);
        Self { cache: Cache::with_weighter(estimated, max_bytes, Bytes) }
    }

    /// The value of `key` computed under `generation`, if remembered.
    pub fn get(&self, key: &str, generation: i64) -> Option<V> {
        self.cache.get(key).filter(|(g, _)| *g == generation).map(|(_, v)| v)
    }

    /// Remembers `value` for `key` under `generation`.
    pub fn put(&self, key: &str, generation: i64, value: V) {
        self.cache.insert(key.to_owned(), (generation, value));
    }
}

/// A memo and the key of one search in it.
pub struct Remembered<V: Weight + Clone> {
    /// The memo.
    pub memo: Arc<GenerationMemo<V>>,
    /// The search's key.
    pub key: String,
}

impl<V: Weight + Clone> Clone for Remembered<V> {
    fn clone(&self) -> Self {
        Self { memo: self.memo.clone(), key: self.key.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_remembered_under_its_generation_only() {
        let m = GenerationMemo::<u64>::new(1 << 20);
        assert_eq!(m.get("a", 1), None);
        m.put("a", 1, 42);
        assert_eq!(m.get("a", 1), Some(42));
        assert_eq!(m.get("a", 2), None, "a later generation computes again");
        assert_eq!(m.get("b", 1), None);
        m.put("a", 2, 43);
        assert_eq!(m.get("a", 2), Some(43));
        assert_eq!(m.get("a", 1), None, "one entry per key: the newer generation replaced it");
    }

    #[test]
    fn a_memo_stays_within_its_bytes() {
        let m = GenerationMemo::<String>::new(64 * 1024);
        for i in 0..10_000u64 {
            m.put(&format!("{i:0>200}"), 1, "W/\"0123456789abcdef\"".to_owned());
        }
        assert!(m.cache.weight() <= 64 * 1024, "{}", m.cache.weight());
        let off = GenerationMemo::<u64>::new(0);
        off.put("a", 1, 1);
        assert_eq!(off.get("a", 1), None);
    }
}
