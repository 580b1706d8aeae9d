//! The bottom layer: what every other layer may use, and which uses nothing of the crate (see
//! `tests/architecture.rs`). For now the clock; instants, resource types and issue codes are to
//! move here (issue 10).

pub mod clock;
