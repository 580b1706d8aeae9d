//! What goes wrong with a request, or deserves a caveat: OperationOutcome issues before they are
//! rendered (`fhir::outcome`), shared by every layer that finds one.

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
    /// The FHIR code of the severity.
    pub fn as_str(self) -> &'static str {
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

    /// An information issue.
    pub fn information(code: &'static str, diagnostics: impl Into<String>) -> Self {
        Self { severity: Severity::Information, code, diagnostics: diagnostics.into(), expression: None }
    }

    /// Adds the element or parameter concerned.
    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression = Some(expression.into());
        self
    }
}
