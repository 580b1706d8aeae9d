//! Paging cursors: the position after the last entry of a page, signed with HMAC-SHA256 and bound
//! to the query it belongs to, so a tampered or foreign cursor is refused instead of giving
//! silently wrong pages. No result set is kept on the server.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// The keyset position: the sort value (when sorting by `_lastUpdated`) and the id of the last entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorKey {
    /// `last_updated` of the last entry, for `_lastUpdated` sorts.
    pub last_updated: Option<i64>,
    /// Id of the last entry.
    pub id: String,
    /// Number of matches counted when the search started (carried so later pages need no count).
    pub total: Option<u64>,
    /// For `_sort=near`: the last entry's sort value (the bits of its dot product with the centre).
    pub score_bits: Option<u64>,
}

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a cursor this server wrote.
    #[error("the paging cursor is malformed")]
    Malformed,
    /// The signature does not match this query (tampered, from another search, or from before a
    /// restart of a server without a configured cursor secret).
    #[error("the paging cursor does not belong to this search (tampered, foreign or expired)")]
    BadSignature,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

fn mac(secret: &[u8], binding: &str, payload: &[u8]) -> Option<Vec<u8>> {
    let key = PKey::hmac(secret).ok()?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).ok()?;
    signer.update(binding.as_bytes()).ok()?;
    signer.update(b"\n").ok()?;
    signer.update(payload).ok()?;
    signer.sign_to_vec().ok()
}

/// Encodes `key` for the search identified by `binding` (its canonical query and consumer).
pub fn encode(secret: &[u8], binding: &str, key: &CursorKey) -> String {
    let lu = key.last_updated.map(|v| v.to_string()).unwrap_or_default();
    let total = key.total.map(|v| v.to_string()).unwrap_or_default();
    let payload = match key.score_bits {
        None => format!("2:{lu}:{total}:{}", key.id),
        Some(bits) => format!("3:{lu}:{total}:{bits}:{}", key.id),
    };
    let sig = mac(secret, binding, payload.as_bytes()).unwrap_or_default();
    format!("{}.{}", b64url(payload.as_bytes()), b64url(sig.get(..16).unwrap_or_default()))
}

/// Verifies and decodes a cursor.
pub fn decode(secret: &[u8], binding: &str, token: &str) -> Result<CursorKey, CursorError> {
    let (p, s) = token.split_once('.').ok_or(CursorError::Malformed)?;
    let payload = b64url_decode(p).ok_or(CursorError::Malformed)?;
    let sig = b64url_decode(s).ok_or(CursorError::Malformed)?;
    let expected = mac(secret, binding, &payload).ok_or(CursorError::Malformed)?;
    let expected = expected.get(..16).ok_or(CursorError::Malformed)?;
    if sig.len() != expected.len() || !openssl::memcmp::eq(&sig, expected) {
        return Err(CursorError::BadSignature);
    }
    let text = String::from_utf8(payload).map_err(|_| CursorError::Malformed)?;
    let (version, rest) = text.split_once(':').ok_or(CursorError::Malformed)?;
    // Version 1 (no total) is still read: a server restarted with the same secret keeps its cursors.
    let (lu, total, score, id) = match version {
        "1" => {
            let (lu, id) = rest.split_once(':').ok_or(CursorError::Malformed)?;
            (lu, "", "", id)
        }
        "2" => {
            let mut parts = rest.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(lu), Some(total), Some(id)) => (lu, total, "", id),
                _ => return Err(CursorError::Malformed),
            }
        }
        "3" => {
            let mut parts = rest.splitn(4, ':');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(lu), Some(total), Some(score), Some(id)) if !score.is_empty() => (lu, total, score, id),
                _ => return Err(CursorError::Malformed),
            }
        }
        _ => return Err(CursorError::Malformed),
    };
    Ok(CursorKey {
        last_updated: optional_number(lu)?,
        id: id.to_owned(),
        total: optional_number(total)?,
        score_bits: optional_number(score)?,
    })
}

fn optional_number<T: std::str::FromStr>(v: &str) -> Result<Option<T>, CursorError> {
    if v.is_empty() { Ok(None) } else { v.parse().map(Some).map_err(|_| CursorError::Malformed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = CursorKey {
            last_updated: Some(1_700_000_000_000_000),
            id: "1000042".into(),
            total: Some(12),
            score_bits: None,
        };
        let t = encode(b"secret", "identifier=a", &key);
        assert_eq!(decode(b"secret", "identifier=a", &t), Ok(key.clone()));
        assert_eq!(decode(b"secret", "identifier=b", &t), Err(CursorError::BadSignature));
        assert_eq!(decode(b"other", "identifier=a", &t), Err(CursorError::BadSignature));
        let mut bytes = t.into_bytes();
        bytes[2] ^= 1;
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(decode(b"secret", "identifier=a", &tampered).is_err());
        assert_eq!(decode(b"secret", "x", "garbage"), Err(CursorError::Malformed));
        assert_eq!(b64url_decode(&b64url(b"ab")).unwrap(), b"ab");
        let key = CursorKey { last_updated: None, id: "a:b".into(), total: None, score_bits: None };
        assert_eq!(decode(b"s", "", &encode(b"s", "", &key)), Ok(key.clone()));
        let near = CursorKey { score_bits: Some(0.999_f64.to_bits()), total: Some(3), ..key };
        assert_eq!(decode(b"s", "", &encode(b"s", "", &near)), Ok(near));
        // A version-1 cursor (no total) is still understood.
        let payload = b"1:5:x:y";
        let sig = mac(b"s", "q", payload).unwrap();
        let old = format!("{}.{}", b64url(payload), b64url(&sig[..16]));
        let expected = CursorKey { last_updated: Some(5), id: "x:y".into(), total: None, score_bits: None };
        assert_eq!(decode(b"s", "q", &old), Ok(expected));
    }
}
