//! Development and benchmark tools, kept apart from the serving path: the development PKI shaped
//! like IGC-Santé (`pki`) and its files on disk with their renewal (`pki_files`), the query-plan
//! report of `ror-capacity explain` (`explain`), and the benchmark ceiling route (`ceiling`).
//! Nothing of the server's request path uses them; `startup` mounts the ceiling route when asked.

pub mod ceiling;
pub mod explain;
pub mod pki;
pub mod pki_files;
