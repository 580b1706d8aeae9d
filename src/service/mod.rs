//! The service layer: what a request means once HTTP is set aside. For now what a consumer may do
//! (`access`: types, interactions, parameters, the types a search reaches), and the rules around a
//! search's database call (`search`: a consumer's own page size, what a cursor is bound to, and
//! the searchset Bundle with its links, `_elements` subsets, included resources and warnings). The
//! import pipeline is `crate::import`.

pub mod access;
pub mod search;
