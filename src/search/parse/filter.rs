//! `_filter`: its expression (parsed by `search::filter`) made a tree of conditions, each test
//! read by the same reader as the search parameter it names (`param op value` becomes
//! `param[:modifier]=[prefix]value`). Tests joined by `and` on capacity parameters describe one
//! figure, as the capacity parameters of a request do.

use super::{Param, condition, merge_chained_figures, merge_figures};
use crate::fhir::ResourceType;
use crate::fhir::outcome::Issue;
use crate::search::filter::{FilterExpr, FilterLimits, FilterOp, parse_filter};
use crate::search::registry::{self, ParamType};
use crate::search::{Condition, FilterNode};

/// The condition of `_filter=raw` on `rt`; the parameters it tests are added to `names`.
pub(super) fn condition_of(rt: ResourceType, raw: &str, names: &mut Vec<String>) -> Result<Condition, Issue> {
    let expr = parse_filter(raw, FilterLimits::default()).map_err(|e| {
        Issue::error(if e.too_costly { "too-costly" } else { "invalid" }, format!("_filter: {e}")).at("_filter")
    })?;
    Ok(Condition::Filter(Box::new(lower(rt, &expr, names)?)))
}

fn lower(rt: ResourceType, e: &FilterExpr, names: &mut Vec<String>) -> Result<FilterNode, Issue> {
    Ok(match e {
        FilterExpr::And(items) => {
            let mut leaves = Vec::new();
            let mut others = Vec::new();
            for item in items {
                match lower(rt, item, names)? {
                    FilterNode::Leaf(c) => leaves.push(c),
                    node => others.push(node),
                }
            }
            merge_figures(&mut leaves);
            merge_chained_figures(&mut leaves);
            let mut nodes: Vec<FilterNode> = leaves.into_iter().map(FilterNode::Leaf).collect();
            nodes.extend(others);
            if nodes.len() == 1 { nodes.remove(0) } else { FilterNode::And(nodes) }
        }
        FilterExpr::Or(items) => FilterNode::Or(items.iter().map(|i| lower(rt, i, names)).collect::<Result<_, _>>()?),
        FilterExpr::Not(inner) => FilterNode::Not(Box::new(lower(rt, inner, names)?)),
        FilterExpr::Test { param, op, value } => test(rt, param, *op, value, names)?,
    })
}

fn refused(message: String) -> Issue {
    Issue::error("not-supported", message).at("_filter")
}

/// One `param op value`.
fn test(
    rt: ResourceType,
    param: &str,
    op: FilterOp,
    value: &str,
    names: &mut Vec<String>,
) -> Result<FilterNode, Issue> {
    let shown: String = param.chars().take(60).collect();
    let (target, base) = match param.strip_prefix("location.") {
        Some(chained) if rt == ResourceType::HealthcareService => (ResourceType::Location, chained),
        _ => (rt, param),
    };
    let Some(sp) = registry::find(target, base).filter(|p| p.condition.is_some()) else {
        return Err(refused(format!("_filter: {shown} is not a supported search parameter of {}", rt.as_str())));
    };
    let o = op.as_str();
    let unsupported = || refused(format!("_filter: the operator {o} is not supported on {shown}"));
    // Commas separate OR values in a search value: the filter's value is one value.
    let v = value.replace(',', "\\,");
    let (modifier, v, negate) = match (sp.kind, op) {
        (ParamType::String, FilterOp::Eq) => (Some("exact"), v, false),
        (ParamType::String, FilterOp::Ne) => (Some("exact"), v, true),
        (ParamType::String, FilterOp::Sw) => (None, v, false),
        (ParamType::String, FilterOp::Co) => (Some("contains"), v, false),
        (ParamType::Date | ParamType::Number, _) if sp.prefixes.contains(&o) => (None, format!("{o}{v}"), false),
        (ParamType::Token, FilterOp::Ne) if sp.modifiers.contains(&"not") => (Some("not"), v, false),
        (ParamType::Token | ParamType::Reference, FilterOp::Ne) => (None, v, true),
        (ParamType::Token | ParamType::Reference | ParamType::Special, FilterOp::Eq) => (None, v, false),
        _ => return Err(unsupported()),
    };
    if !names.iter().any(|n| n == param) {
        names.push(param.to_owned());
    }
    let full = match modifier {
        Some(m) => format!("{param}:{m}"),
        None => param.to_owned(),
    };
    let c = condition(rt, &Param::new(&full, &v))
        .map_err(|i| Issue { diagnostics: format!("_filter: {}", i.diagnostics), ..i })?
        .ok_or_else(unsupported)?;
    let leaf = FilterNode::Leaf(c);
    Ok(if negate { FilterNode::Not(Box::new(leaf)) } else { leaf })
}
