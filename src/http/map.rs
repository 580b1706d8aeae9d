//! The capacity map page (`GET /map`, and `/` redirecting to it): an HTML page, its scripts, its
//! style sheet and the départements' boundaries, all embedded in the binary (nothing is fetched
//! from the internet). The page reads the FHIR API of the same server with the same client
//! certificate, so it shows exactly what that certificate may see; the page and its assets hold no
//! data. They are behind the same authentication middleware as `/fhir` (registered in the same
//! `App`): a request without a registered certificate never gets them.
//!
//! Each asset is answered with its content type, a strong `ETag` (XXH3-128 of its bytes, computed
//! once), `Cache-Control: no-cache` (the browser revalidates, and `If-None-Match` answers `304`),
//! `X-Content-Type-Options: nosniff` and, on the page, a Content-Security-Policy that allows only
//! this origin. Compression is the server's middleware's (`compress.rs`), like every answer.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use super::conditional;
use crate::error::AppError;

/// An embedded file of the page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!("../../assets/map/", $name)) }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page itself (served at `/map`).
const PAGE: Asset = asset!("index.html", "text/html; charset=utf-8");

/// Everything the page loads, served at `/map/assets/{name}`.
const ASSETS: &[Asset] = &[
    asset!("map.css", "text/css; charset=utf-8"),
    asset!("main.js", JS),
    asset!("fhir.js", JS),
    asset!("projection.js", JS),
    asset!("choropleth.js", JS),
    asset!("places.js", JS),
    asset!("live.js", JS),
    asset!("departements.json", "application/json"),
];

/// Only this origin, for scripts, styles, images and requests; no framing, no plugins, no forms
/// elsewhere. The page has no inline script or style.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The strong validator of an asset (computed once per asset).
fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        std::iter::once(&PAGE)
            .chain(ASSETS)
            .map(|a| format!("\"{:032x}\"", twox_hash::XxHash3_128::oneshot(a.bytes)))
            .collect()
    });
    tags.get(index).map_or("\"\"", String::as_str)
}

/// The answer for an embedded asset (`index` 0 is the page, then [`ASSETS`] in order).
fn answer(req: &HttpRequest, asset: &Asset, index: usize) -> HttpResponse {
    let tag = etag(index);
    let fresh = conditional::fresh(req, tag, None);
    let mut res = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if index == 0 {
        res.insert_header((header::CONTENT_SECURITY_POLICY, CSP)).insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    if fresh {
        return res.finish();
    }
    res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))).body(asset.bytes)
}

/// `GET /map`: the page.
pub async fn page(req: HttpRequest) -> HttpResponse {
    answer(&req, &PAGE, 0)
}

/// `GET /map/assets/{name}`: one of the page's files, or 404.
pub async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let found = ASSETS.iter().enumerate().find(|(_, a)| a.name == name.as_str());
    match found {
        Some((i, a)) => Ok(answer(&req, a, i + 1)),
        None => Err(AppError::NotFound("no such file of the map page".into())),
    }
}

/// `GET /`: to the map.
pub async fn root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/map"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish()
}

/// The map's routes: `/`, `/map` (and `/map/`), `/map/assets/{name}`; GET and HEAD only.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(super::readable(web::resource("/"), root))
        .service(super::readable(web::resource(["/map", "/map/"]), page))
        .service(super::readable(web::resource("/map/assets/{name}"), asset));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_named_once_and_tagged_apart() {
        let mut names: Vec<_> = ASSETS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ASSETS.len());
        let mut tags: Vec<_> = (0..=ASSETS.len()).map(etag).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 1);
    }

    #[test]
    fn the_page_loads_only_embedded_files() {
        let html = std::str::from_utf8(PAGE.bytes).unwrap_or_default();
        for src in html.split("src=\"").skip(1).chain(html.split("href=\"").skip(1)) {
            let url = src.split('"').next().unwrap_or_default();
            let name = url.strip_prefix("/map/assets/").unwrap_or_else(|| panic!("{url} is not an asset"));
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} is not embedded");
        }
    }
}
