//! The bottom layer: what every other layer may use, and which uses nothing of the crate (see
//! `tests/architecture.rs`): the clock, FHIR instants, OperationOutcome issues and entity tags.

pub mod clock;
pub mod instant;
pub mod issue;
pub mod logging;
pub mod memory;
pub mod progress;
pub mod reloads;
pub mod validator;
