//! OperationOutcome construction from [`Issue`]s.

use serde_json::{Value, json};

pub use crate::base::issue::{Issue, Severity};

/// The OperationOutcome JSON for `issues`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut v = json!({ "severity": i.severity.as_str(), "code": i.code, "diagnostics": i.diagnostics });
            if let (Some(e), Value::Object(m)) = (&i.expression, &mut v) {
                m.insert("expression".to_owned(), json!([e]));
            }
            v
        })
        .collect();
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// The OperationOutcome JSON with an id (for a Bundle entry).
pub fn operation_outcome_with_id(id: &str, issues: &[Issue]) -> Value {
    let mut v = operation_outcome(issues);
    if let Value::Object(m) = &mut v {
        let issue = m.remove("issue");
        m.insert("id".to_owned(), Value::String(id.to_owned()));
        if let Some(i) = issue {
            m.insert("issue".to_owned(), i);
        }
    }
    v
}
