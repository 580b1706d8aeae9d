//! Bulk Data `$export` (HL7 Bulk Data Access 2.0.0): the kick-off's parameters ([`request`]),
//! what a consumer's export reads ([`plan`]), the writing of its files from one snapshot
//! ([`write`]), the jobs ([`job`], recorded by [`store`]) and the workers and limits around them
//! ([`jobs`]). The HTTP side is `http::export`.

pub mod job;
pub mod jobs;
pub mod plan;
pub mod request;
pub mod store;
pub mod write;

pub use jobs::{Exports, Poll, Refusal};
