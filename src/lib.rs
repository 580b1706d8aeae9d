//! ror-capacity: a read-only FHIR R4 facade over the bed and place capacity data of the French
//! *Répertoire Opérationnel des Ressources* (ROR).
//!
//! The modules are layers (lowest first: `base`, `error` and `fhir`, `search`, `auth`, `config`, `db`,
//! `service`, `import` and `generate`, `http`, `dev`, `startup`); each names only modules below it, which
//! `tests/architecture.rs` checks. The README's Architecture section is their map.

pub mod auth;
pub mod base;
pub mod config;
pub mod db;
pub mod dev;
pub mod error;
pub mod fhir;
pub mod generate;
pub mod http;
pub mod import;
pub mod search;
pub mod service;
pub mod startup;
