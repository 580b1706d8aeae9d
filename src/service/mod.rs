//! The service layer: what a request means once HTTP is set aside.
//!
//! - [`access`]: what a consumer may do (types, interactions, parameters, the types a search
//!   reaches), checked before any database work;
//! - [`query`]: a read and a search as the database is asked them (one snapshot, the page, the
//!   count when needed, includes within their cap);
//! - [`memo`]: totals and answer validators remembered per search and consumer under a data
//!   generation;
//! - [`visibility`]: what a consumer sees of a place (its figures, its `lastUpdated`);
//! - [`search`]: the rules around a search (a consumer's own page size, what a cursor is bound to)
//!   and the searchset Bundle with its links, `_elements` subsets, included resources and warnings.
//!
//! The import pipeline is `crate::import`.

pub mod access;
pub mod aggregates;
pub mod export;
pub mod memo;
pub mod query;
pub mod search;
pub mod visibility;
