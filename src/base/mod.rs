//! The bottom layer: what every other layer may use, and which uses nothing of the crate (see
//! `tests/architecture.rs`): the clock and FHIR instants.

pub mod clock;
pub mod instant;
