//! The database a server or a command works on, parsed once from its URL: the backend is chosen
//! by the scheme (`sqlite://` or `postgres://`), never by trying each backend in turn.

/// Which backend a URL designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbUrl {
    /// The backend.
    pub backend: Backend,
    /// What the driver receives: a file path for SQLite, the URL for PostgreSQL.
    pub target: String,
}

/// A database URL without a supported scheme.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("unsupported database URL (expected sqlite://PATH or postgres://…)")]
pub struct BadDatabaseUrl;

impl DbUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, BadDatabaseUrl> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(BadDatabaseUrl);
            }
            return Ok(Self { backend: Backend::Sqlite, target: path.to_owned() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { backend: Backend::Postgres, target: url.to_owned() });
        }
        Err(BadDatabaseUrl)
    }

    /// A URL safe to print: the PostgreSQL password, if any, is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => redact_password(&self.target),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_by_scheme() {
        let u = DbUrl::parse("sqlite://./x.db").unwrap();
        assert_eq!(u.backend, Backend::Sqlite);
        assert_eq!(u.target, "./x.db");
        let u = DbUrl::parse("postgres://u:secret@h/db").unwrap();
        assert_eq!(u.backend, Backend::Postgres);
        assert_eq!(u.redacted(), "postgres://u:***@h/db");
        assert!(DbUrl::parse("x.db").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
        assert!(DbUrl::parse("mysql://h/db").is_err());
    }
}
