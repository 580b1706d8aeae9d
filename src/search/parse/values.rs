//! The grammar of parameter values: comma lists with escapes, tokens, ids, references, dates,
//! and the refusal of modifiers where none is accepted.

use crate::fhir::is_valid_id;
use crate::fhir::outcome::Issue;
use crate::search::TokenValue;
use crate::search::date::parse_date_param;

/// Splits on an unescaped `sep`, then unescapes `\,` `\|` `\$` `\\`.
pub(super) fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) if n == sep => cur.push(n),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            }
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ (',' | '|' | '$' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn values(name: &str, raw: &str) -> Result<Vec<String>, Issue> {
    let parts = split_escaped(raw, ',');
    if parts.iter().any(String::is_empty) {
        return Err(Issue::error("invalid", format!("parameter {name}: empty value")).at(name));
    }
    Ok(parts)
}

pub(super) fn token(name: &str, raw: &str) -> Result<TokenValue, Issue> {
    let pieces = split_escaped(raw, '|');
    match pieces.as_slice() {
        [code] => Ok(TokenValue { system: None, code: Some(unescape(code)) }),
        [system, code] => {
            if system.is_empty() && code.is_empty() {
                return Err(Issue::error("invalid", format!("parameter {name}: \"|\" alone is not a token")).at(name));
            }
            Ok(TokenValue {
                system: Some(unescape(system)),
                code: if code.is_empty() { None } else { Some(unescape(code)) },
            })
        }
        _ => Err(Issue::error("invalid", format!("parameter {name}: a token is code, system|code or |code")).at(name)),
    }
}

pub(super) fn tokens(name: &str, raw: &str) -> Result<Vec<TokenValue>, Issue> {
    values(name, raw)?.iter().map(|v| token(name, v)).collect()
}

pub(super) fn ids(name: &str, raw: &str) -> Result<Vec<String>, Issue> {
    let vals = values(name, raw)?;
    for v in &vals {
        if !is_valid_id(v) {
            return Err(Issue::error("invalid", format!("parameter {name}: {v:?} is not a valid id")).at(name));
        }
    }
    Ok(vals)
}

/// Reference values: `id`, `Type/id` or an absolute URL ending in `Type/id`.
pub(super) fn references(name: &str, raw: &str, target: &str) -> Result<Vec<String>, Issue> {
    let mut out = Vec::new();
    for v in values(name, raw)? {
        let segs: Vec<&str> = v.rsplit('/').take(2).collect();
        let id = match segs.as_slice() {
            [id] => *id,
            [id, ty] if *ty == target => *id,
            _ => {
                return Err(
                    Issue::error("invalid", format!("parameter {name}: {v:?} is not a reference to {target}")).at(name)
                );
            }
        };
        if !is_valid_id(id) {
            return Err(Issue::error("invalid", format!("parameter {name}: {id:?} is not a valid id")).at(name));
        }
        out.push(id.to_owned());
    }
    Ok(out)
}

pub(super) fn dates(name: &str, raw: &str) -> Result<Vec<crate::search::date::DateCondition>, Issue> {
    values(name, raw)?
        .iter()
        .map(|v| {
            parse_date_param(v)
                .map(|p| p.condition())
                .map_err(|e| Issue::error("invalid", format!("parameter {name}: {e}")).at(name))
        })
        .collect()
}

pub(super) fn numbers(name: &str, raw: &str) -> Result<Vec<crate::search::number::NumberCondition>, Issue> {
    values(name, raw)?
        .iter()
        .map(|v| {
            crate::search::number::parse_number_param(v)
                .map_err(|e| Issue::error("invalid", format!("parameter {name}: {e}")).at(name))
        })
        .collect()
}

pub(super) fn no_modifier(name: &str, modifier: Option<&str>) -> Result<(), Issue> {
    match modifier {
        None => Ok(()),
        Some(m) => Err(Issue::error("not-supported", format!("modifier :{m} is not supported on {name}")).at(name)),
    }
}
