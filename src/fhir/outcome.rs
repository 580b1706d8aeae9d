//! OperationOutcome construction.

use serde_json::{Value, json};

/// Issue severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The request failed.
    Error,
    /// The request succeeded with a caveat.
    Warning,
    /// For information.
    Information,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Information => "information",
        }
    }
}

/// One OperationOutcome issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Severity.
    pub severity: Severity,
    /// FHIR issue-type code (`invalid`, `not-found`, `not-supported`, `forbidden`, `exception`, …).
    pub code: &'static str,
    /// Human-readable detail (never internal error text).
    pub diagnostics: String,
    /// FHIRPath or parameter name the issue is about.
    pub expression: Option<String>,
}

impl Issue {
    /// An error issue.
    pub fn error(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self { severity: Severity::Error, code, diagnostics: diagnostics.into(), expression: None }
    }

    /// A warning issue.
    pub fn warning(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, code, diagnostics: diagnostics.into(), expression: None }
    }

    /// Adds the element or parameter concerned.
    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression = Some(expression.into());
        self
    }
}

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
