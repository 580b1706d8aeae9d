//! ror-capacity: a read-only FHIR R4 facade over the bed and place capacity data of the French
//! *Répertoire Opérationnel des Ressources* (ROR).
//!
//! Layers, from the wire inwards:
//! - [`auth`]: mutual TLS, the consumer registry and the access-profile rules;
//! - [`http`]: actix-web routes, content negotiation and the OperationOutcome error mapping;
//! - [`search`]: pure parsing of FHIR search requests and their translation to bound SQL;
//! - [`fhir`]: pure FHIR JSON mapping (the only place that touches fhir-sdk models);
//! - [`db`]: diesel connections (SQLite or PostgreSQL), migrations, writes and read queries;
//! - [`import`] and [`generate`]: loading national exports and writing synthetic datasets.

pub mod auth;
pub mod base;
pub mod config;
pub mod db;
pub mod fhir;
pub mod generate;
pub mod http;
pub mod import;
pub mod search;
pub mod startup;
