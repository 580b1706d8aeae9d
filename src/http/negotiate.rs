//! Content negotiation: JSON only (`application/fhir+json`, `application/json`, `_format=json`).

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::AppError;

fn acceptable_media(m: &str) -> bool {
    let m = m.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    matches!(
        m.as_str(),
        "" | "*/*" | "application/*" | "application/fhir+json" | "application/json" | "application/json+fhir"
    )
}

/// Checks `_format` (if given) and the `Accept` header.
pub fn check(req: &HttpRequest, format: Option<&str>) -> Result<(), AppError> {
    if let Some(f) = format {
        let ok = matches!(f, "json" | "application/json" | "application/fhir+json" | "application/json+fhir");
        if !ok {
            return Err(AppError::NotAcceptable(format!("_format={f} is not supported: this server speaks JSON only")));
        }
        return Ok(());
    }
    // Several Accept fields are one list (RFC 9110 section 5.3).
    let mut fields = req.headers().get_all(header::ACCEPT).peekable();
    if fields.peek().is_none() {
        return Ok(());
    }
    let Ok(fields) = fields.map(|v| v.to_str()).collect::<Result<Vec<_>, _>>() else {
        return Err(AppError::NotAcceptable("unreadable Accept header".into()));
    };
    if fields.iter().flat_map(|f| f.split(',')).any(acceptable_media) {
        return Ok(());
    }
    let accept = fields.join(", ");
    let shown: String = accept.chars().take(200).collect();
    let more = if shown.len() < accept.len() { "…" } else { "" };
    Err(AppError::NotAcceptable(format!(
        "Accept: {shown}{more} cannot be served: this server speaks application/fhir+json only"
    )))
}
