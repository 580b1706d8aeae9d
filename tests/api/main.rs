//! One integration-test binary: a real server on a random port, over a real SQLite file and a real
//! PostgreSQL database, with the same checks on both.

// Test code fails loudly on purpose: an unwrap that fires is a failed test with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod aggregates;
mod budget;
mod capacity_search;
mod conditional;
mod config_file;
mod contains;
mod corpus;
mod crl;
mod demo;
mod errors;
mod export;
mod export_snapshot;
mod filter_search;
mod grants;
mod helpers;
mod hostile;
mod import;
mod import_batches;
mod import_metrics;
mod logs;
mod lookup;
mod map;
mod metadata;
mod migrations;
mod paging;
mod params;
mod pg_restart;
mod pki;
mod place_search;
mod progress;
mod proxy;
mod raw;
mod replica;
mod scenarios;
mod search_props;
mod shutdown;
mod tls;
mod tls_metrics;
mod views;
