//! The service layer: what a request means once HTTP is set aside. For now the search pipeline's
//! rules around the database call (a consumer's own limits, what a cursor is bound to, and the
//! searchset Bundle: links, `_elements` subsets, included resources, warnings); the import
//! pipeline is `crate::import`.

pub mod search;
