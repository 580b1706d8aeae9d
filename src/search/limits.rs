//! The limits of one search request: page sizes, values, parameters, includes, body.

/// Limits of the search API.
#[derive(Debug, Clone)]
pub struct SearchLimits {
    /// `_count` used when the request has none.
    pub default_count: usize,
    /// Largest page; a larger `_count` is clamped to it with a warning.
    pub max_count: usize,
    /// Largest number of comma-separated (OR) values over one search request.
    pub max_or_values: usize,
    /// Largest number of resources added by `_include` / `_revinclude` to one page.
    pub max_included: usize,
    /// Largest number of parameters (`name=value` pairs, repeated ones and ignored ones included)
    /// in one search request.
    pub max_parameters: usize,
    /// Largest number of names in `_elements`.
    pub max_elements: usize,
    /// Longest single search value (one of the comma-separated values), in characters; also the
    /// longest parameter name. SQLite refuses LIKE patterns past 50,000 bytes, and no identifier,
    /// name or code comes near this.
    pub max_value_len: usize,
    /// Largest POST `_search` body, in bytes.
    pub max_body_bytes: usize,
    /// Time a POST `_search` body has to arrive once its head has (408 past it).
    pub body_timeout: std::time::Duration,
}

impl Default for SearchLimits {
    fn default() -> Self {
        Self {
            default_count: 200,
            max_count: 200,
            max_or_values: 1000,
            max_included: 2000,
            max_parameters: 100,
            max_elements: 50,
            max_value_len: 1000,
            max_body_bytes: 256 * 1024,
            body_timeout: std::time::Duration::from_secs(10),
        }
    }
}
