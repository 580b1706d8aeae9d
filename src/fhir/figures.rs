//! A place's capacity figures as stored once: its capacity extensions in one comma-separated
//! piece, LZ4-compressed ([`pack`]: `locations.figures_lz4`), and for each figure the facts its
//! Observation is made of (`capacities`), from which the Observation is rendered when it is read.

use super::extract::CapacityRecord;

/// The capacity extensions of a stored piece (`{…},{…}`), in order: the piece split at the commas
/// between its top-level JSON values. An empty piece has none. Strings (most of the bytes: URLs,
/// codes, displays) are skipped to their closing quote with `memchr`.
pub fn split(piece: &str) -> Vec<&str> {
    let bytes = piece.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i + 1),
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                out.push(&piece[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < piece.len() || !out.is_empty() {
        out.push(&piece[start..]);
    }
    out
}

/// The index of the quote closing a string whose text starts at `from` (the end of `bytes` when
/// it is not closed).
fn string_end(bytes: &[u8], mut from: usize) -> usize {
    while let Some(k) = memchr::memchr2(b'"', b'\\', bytes.get(from..).unwrap_or_default()) {
        if bytes[from + k] == b'"' {
            return from + k;
        }
        from += k + 2;
    }
    bytes.len()
}

/// The largest piece [`unpack`] accepts: far beyond any place's figures (a few kilobytes each),
/// so that a damaged length prefix cannot make it allocate gigabytes.
const MAX_PIECE: usize = 64 << 20;

/// A stored piece that does not unpack (damaged, or written by something else).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("packed capacity figures unreadable: {0}")]
pub struct Unreadable(&'static str);

/// `piece` as stored: its length (4 bytes, little-endian), then its LZ4 block. The extensions
/// repeat the same URLs and codes: 6.7 kB of five figures pack into about 0.9 kB.
pub fn pack(piece: &str) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(piece.as_bytes())
}

/// Unpacks pieces one after the other into one buffer, which only grows: a page of places is
/// unpacked without an allocation, a copy or a clearing per place.
#[derive(Debug, Default)]
pub struct Unpacker {
    buf: Vec<u8>,
}

impl Unpacker {
    /// The piece [`pack`] made of `packed`, valid until the next call.
    pub fn unpack(&mut self, packed: &[u8]) -> Result<&str, Unreadable> {
        let (len, block) = packed.split_first_chunk::<4>().ok_or(Unreadable("no length"))?;
        let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| Unreadable("length"))?;
        if len > MAX_PIECE {
            return Err(Unreadable("length beyond any piece"));
        }
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        let out = self.buf.get_mut(..len).ok_or(Unreadable("length"))?;
        let written = lz4_flex::block::decompress_into(block, out).map_err(|_| Unreadable("LZ4 block"))?;
        if written != len {
            return Err(Unreadable("shorter than its length"));
        }
        // Most of an export's bytes: checked with SIMD instructions (`simdutf8`), several times
        // faster than the standard library's check on these mostly ASCII texts.
        simdutf8::basic::from_utf8(out).map_err(|_| Unreadable("not UTF-8"))
    }
}

/// The piece [`pack`] made of `packed`, as a new string (one place at a time: the import).
pub fn unpack(packed: &[u8]) -> Result<String, Unreadable> {
    Unpacker::default().unpack(packed).map(str::to_owned)
}

/// What an Observation of a capacity figure shows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The place.
    pub location_id: &'a str,
    /// `capacityType`.
    pub capacity_type: &'a str,
    /// `capacityStatus`.
    pub capacity_status: &'a str,
    /// `temporalityCapacity`.
    pub temporality: &'a str,
    /// `genderCapacityAvailable`.
    pub gender: Option<&'a str>,
    /// `nbCapacity`.
    pub nb_capacity: i32,
    /// `capacityUpdateDate`, as given.
    pub update_date: &'a str,
    /// The place's région code (its `meta.tag`).
    pub region: Option<&'a str>,
}

impl<'a> Facts<'a> {
    /// The facts of figure `cap` of place `location_id` in `region`.
    pub fn of(location_id: &'a str, region: Option<&'a str>, cap: &'a CapacityRecord) -> Self {
        Self {
            location_id,
            capacity_type: &cap.capacity_type,
            capacity_status: &cap.capacity_status,
            temporality: &cap.temporality,
            gender: cap.gender.as_deref(),
            nb_capacity: cap.nb_capacity,
            update_date: &cap.update_date,
            region,
        }
    }

    /// Reads the facts the database wrote as one text (see `db::sql`'s Observation select list):
    /// `place|type|status|temporality|gender|nb|date|region`, where an optional value is `=` and
    /// the value, or nothing when absent. The région comes last: it is the one value the import
    /// does not check against a code list or a syntax.
    pub fn decode(text: &'a str) -> Option<Self> {
        let mut it = text.splitn(8, '|');
        let mut next = || it.next();
        let (location_id, capacity_type, capacity_status, temporality) = (next()?, next()?, next()?, next()?);
        let gender = optional(next()?)?;
        let nb_capacity = next()?.parse().ok()?;
        let update_date = next()?;
        let region = optional(next()?)?;
        Some(Self {
            location_id,
            capacity_type,
            capacity_status,
            temporality,
            gender,
            nb_capacity,
            update_date,
            region,
        })
    }
}

/// `=value` → `Some(value)`, `` → `None`, anything else is not a stored value.
fn optional(field: &str) -> Option<Option<&str>> {
    if field.is_empty() { Some(None) } else { field.strip_prefix('=').map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    #[test]
    fn splits_at_top_level_commas_only() {
        assert!(split("").is_empty());
        assert_eq!(split(r#"{"a":1}"#), [r#"{"a":1}"#]);
        let piece = r#"{"u":"x,y","e":[{"v":"}\",{"}],"n":{"a":[1,2]}},{"u":"\\"},{"w":"é,"}"#;
        assert_eq!(
            split(piece),
            [r#"{"u":"x,y","e":[{"v":"}\",{"}],"n":{"a":[1,2]}}"#, r#"{"u":"\\"}"#, r#"{"w":"é,"}"#]
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            ".*".prop_map(Value::from),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-z,\"\\\\{}]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn a_joined_list_of_objects_splits_back(objects in prop::collection::vec(
            prop::collection::btree_map("[a-z,\"\\\\{}\\[\\]]{0,5}", json_value(), 0..4), 0..6)
        ) {
            let texts: Vec<String> =
                objects.into_iter().map(|m| Value::Object(m.into_iter().collect()).to_string()).collect();
            let piece = texts.join(",");
            prop_assert_eq!(split(&piece), texts.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    proptest! {
        #[test]
        fn a_packed_piece_unpacks_to_itself(piece in ".{0,3000}") {
            prop_assert_eq!(unpack(&pack(&piece)), Ok(piece));
        }

        #[test]
        fn an_unpacker_unpacks_each_piece_whatever_came_before(pieces in prop::collection::vec(".{0,600}", 1..6)) {
            let mut unpacker = Unpacker::default();
            for piece in &pieces {
                prop_assert_eq!(unpacker.unpack(&pack(piece)).ok(), Some(piece.as_str()));
            }
        }

        #[test]
        fn damaged_bytes_are_refused_or_unpack_to_a_string(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            // Never a panic, never an allocation beyond the bound.
            let _ = unpack(&bytes);
        }
    }

    #[test]
    fn a_piece_of_figures_packs_small_and_damage_is_named() {
        let figure = r#"{"url":"https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-location-capacity","extension":[{"url":"capacityType","valueCode":"01"}]}"#;
        let piece = [figure; 5].join(",");
        let packed = pack(&piece);
        assert!(packed.len() * 4 < piece.len(), "{} bytes packed from {}", packed.len(), piece.len());
        assert_eq!(unpack(&packed).unwrap(), piece);
        assert_eq!(unpack(&pack("")).unwrap(), "");
        assert_eq!(unpack(&packed[..3]), Err(Unreadable("no length")));
        let mut huge = packed.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(unpack(&huge), Err(Unreadable("length beyond any piece")));
        let mut long = packed.clone();
        long[..4].copy_from_slice(&u32::try_from(piece.len() + 1).unwrap().to_le_bytes());
        assert!(unpack(&long).is_err());
        assert!(unpack(&packed[..packed.len() - 2]).is_err());
        let latin1 = lz4_flex::block::compress_prepend_size(&[0xe9, 0x41]);
        assert_eq!(unpack(&latin1), Err(Unreadable("not UTF-8")));
    }

    #[test]
    fn facts_read_back_from_their_stored_text() {
        let f = Facts::decode("p-1|01|02|03|=M|12|2025-01-02T03:04:05Z|=a|b").unwrap();
        assert_eq!(
            f,
            Facts {
                location_id: "p-1",
                capacity_type: "01",
                capacity_status: "02",
                temporality: "03",
                gender: Some("M"),
                nb_capacity: 12,
                update_date: "2025-01-02T03:04:05Z",
                region: Some("a|b"),
            }
        );
        let none = Facts::decode("p|01|02|03||0|2025|").unwrap();
        assert_eq!((none.gender, none.region), (None, None));
        for bad in ["", "p|01|02|03", "p|01|02|03|M|1|d|", "p|01|02|03||x|d|", "p|01|02|03||1|d|r"] {
            assert_eq!(Facts::decode(bad), None, "{bad}");
        }
    }
}
