//! Decoding of a query string or an `application/x-www-form-urlencoded` body into `name=value`
//! pairs, strictly: a `%` not followed by two hexadecimal digits, or escapes that do not decode to
//! UTF-8 (invalid or overlong sequences), refuse the request instead of being kept literally or
//! replaced by U+FFFD (which would silently search for another value); so does a NUL character.

use crate::fhir::outcome::Issue;

/// The pairs of `q`, in order (`+` is a space; empty segments between `&` are skipped, as in
/// form encoding). A segment without `=` has an empty value.
pub fn decode_pairs(q: &str) -> Result<Vec<(String, String)>, Issue> {
    let mut pairs = Vec::new();
    for segment in q.split('&').filter(|s| !s.is_empty()) {
        let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &str) -> Result<String, Issue> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let pair = bytes.get(i + 1).copied().and_then(hex).zip(bytes.get(i + 2).copied().and_then(hex));
                let Some((hi, lo)) = pair else {
                    return Err(Issue::error(
                        "invalid",
                        "the query has a '%' that is not followed by two hexadecimal digits (write a literal % as %25)",
                    ));
                };
                out.push((hi << 4) | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    if out.contains(&0) {
        // PostgreSQL text cannot hold it, and no FHIR string contains it.
        return Err(Issue::error("invalid", "the query contains a NUL character (%00)"));
    }
    String::from_utf8(out)
        .map_err(|_| Issue::error("invalid", "the query has percent-escapes that do not decode to UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> Vec<(String, String)> {
        decode_pairs(q).unwrap()
    }

    #[test]
    fn decodes_like_forms() {
        assert_eq!(
            ok("a=1&b=x+y&&c"),
            vec![("a".into(), "1".into()), ("b".into(), "x y".into()), ("c".into(), String::new())]
        );
        assert_eq!(
            ok("name=%C3%A9t%c3%a9&x=a%2Cb%7Cc"),
            vec![("name".into(), "été".into()), ("x".into(), "a,b|c".into())]
        );
        assert_eq!(ok("k=a=b"), vec![("k".into(), "a=b".into())]);
        assert!(ok("").is_empty());
    }

    #[test]
    fn refuses_bad_escapes_and_non_utf8() {
        for bad in ["a=%zz", "a=%", "a=%4", "a=%ff", "a=%C0%AF", "%ED%A0%80=1", "a=%E9t%E9", "a=x%00", "%00=1"] {
            assert!(decode_pairs(bad).is_err(), "{bad}");
        }
    }
}
