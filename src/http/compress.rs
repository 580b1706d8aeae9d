//! Response compression: Brotli or gzip when the client asks for it (`Accept-Encoding`), the body
//! as it is otherwise. Never a `406` because of `Accept-Encoding` (actix's `Compress` middleware
//! answers one when negotiation fails, e.g. `identity;q=0` alone): what the client refuses
//! entirely is answered unencoded, as RFC 9110 §12.5.3 allows. Bodies under [`MIN_BYTES`], bodies
//! already encoded or streamed, and `204`/`206`/`304` answers are sent as they are; every body
//! that could have been compressed says `Vary: Accept-Encoding`. The encoders are the `flate2`
//! and `brotli` crates (the ones actix's own compression uses), at fast settings: a search page is
//! ~2 MB of JSON and the server's core is the limit.

use std::io::Write;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue, Preference, Quality};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

/// Bodies smaller than this are not worth a compressor's header and CPU.
pub const MIN_BYTES: usize = 1024;

/// Bodies larger than this are compressed on a blocking thread, off the worker's event loop.
const INLINE_BYTES: usize = 64 * 1024;

/// Brotli's quality and window (quality 4: a third of gzip's bytes on the S1 walk, which it made
/// 2.4 times slower than gzip with the server on one core).
pub(super) const BROTLI_QUALITY: u32 = 4;
const BROTLI_WINDOW: u32 = 22;

/// How much the client accepts `encoding`: its own entry's quality, else that of `*`, else none.
fn quality(accept: &AcceptEncoding, encoding: ContentEncoding) -> Quality {
    let of = |pred: &dyn Fn(&Preference<Encoding>) -> bool| accept.0.iter().find(|q| pred(&q.item)).map(|q| q.quality);
    of(&|p| matches!(p, Preference::Specific(Encoding::Known(e)) if *e == encoding))
        .or_else(|| of(&|p| matches!(p, Preference::Any)))
        .unwrap_or(Quality::ZERO)
}

/// The encoding of the answer to a request carrying `accept`: the one of gzip and Brotli the
/// client prefers, **gzip on a tie** (actix's own negotiation prefers Brotli): Brotli sends a third
/// of gzip's bytes, but the S1 walk at 120k with the server on one core ran at 5,400 places/s with
/// it against 13,000 with gzip (BENCHMARKS.md), so it goes to clients that rank it first. Identity when the client accepts neither, or sends no `Accept-Encoding`.
pub fn choose(accept: Option<&AcceptEncoding>) -> ContentEncoding {
    let Some(accept) = accept else { return ContentEncoding::Identity };
    let (gzip, br) = (quality(accept, ContentEncoding::Gzip), quality(accept, ContentEncoding::Brotli));
    if gzip == Quality::ZERO && br == Quality::ZERO {
        ContentEncoding::Identity
    } else if br > gzip {
        ContentEncoding::Brotli
    } else {
        ContentEncoding::Gzip
    }
}

/// `body` in `encoding` (identity: unchanged).
pub fn encode(encoding: ContentEncoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match encoding {
        ContentEncoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 6), flate2::Compression::fast());
            e.write_all(body)?;
            e.finish()
        }
        ContentEncoding::Brotli => {
            let mut out = Vec::with_capacity(body.len() / 8);
            {
                let mut e = brotli::CompressorWriter::new(&mut out, 64 * 1024, BROTLI_QUALITY, BROTLI_WINDOW);
                e.write_all(body)?;
                e.flush()?;
            }
            Ok(out)
        }
        _ => Ok(body.to_vec()),
    }
}

/// Whether a response may be compressed at all (and so varies with `Accept-Encoding`).
fn compressible(res: &ServiceResponse<impl MessageBody>) -> bool {
    let status = res.status();
    !(status == StatusCode::NO_CONTENT
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::SWITCHING_PROTOCOLS
        || res.headers().contains_key(header::CONTENT_ENCODING))
}

/// Middleware: negotiates, then compresses the answer's body when it is worth it.
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let encoding = choose(req.get_header::<AcceptEncoding>().as_ref());
    let res = next.call(req).await?;
    if !compressible(&res) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => return Ok(ServiceResponse::new(req, res.set_body(body.boxed()))),
    };
    if bytes.len() < MIN_BYTES {
        return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))));
    }
    res.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if encoding == ContentEncoding::Identity {
        return Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))));
    }
    let encoded = if bytes.len() <= INLINE_BYTES {
        encode(encoding, &bytes)
    } else {
        let input = bytes.clone();
        web::block(move || encode(encoding, &input)).await.unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    };
    match encoded {
        Ok(out) => {
            res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.as_str()));
            Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(out))))
        }
        // An encoder failing on memory is not the client's fault: the body goes as it is.
        Err(e) => {
            log::warn!("compressing a {} response failed, sent unencoded: {e}", encoding.as_str());
            Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::Header;
    use actix_web::test::TestRequest;

    fn accept(value: &str) -> Option<AcceptEncoding> {
        let req = TestRequest::default().insert_header((header::ACCEPT_ENCODING, value)).to_http_request();
        AcceptEncoding::parse(&req).ok()
    }

    #[test]
    fn negotiation_never_fails() {
        assert_eq!(choose(None), ContentEncoding::Identity);
        assert_eq!(choose(accept("gzip").as_ref()), ContentEncoding::Gzip);
        assert_eq!(choose(accept("br;q=0.5, gzip;q=0.8").as_ref()), ContentEncoding::Gzip);
        assert_eq!(choose(accept("gzip, deflate, br").as_ref()), ContentEncoding::Gzip);
        assert_eq!(choose(accept("br, gzip;q=0.9").as_ref()), ContentEncoding::Brotli);
        assert_eq!(choose(accept("br").as_ref()), ContentEncoding::Brotli);
        assert_eq!(choose(accept("gzip;q=0, *").as_ref()), ContentEncoding::Brotli);
        assert_eq!(choose(accept("*").as_ref()), ContentEncoding::Gzip);
        // What would be a 406 with actix's Compress: identity refused, nothing offered accepted.
        assert_eq!(choose(accept("identity;q=0").as_ref()), ContentEncoding::Identity);
        assert_eq!(choose(accept("*;q=0").as_ref()), ContentEncoding::Identity);
        assert_eq!(choose(accept("compress, x-unknown;q=1").as_ref()), ContentEncoding::Identity);
    }

    #[test]
    fn encodings_round_trip() {
        let body = br#"{"resourceType":"Bundle","entry":[]}"#.repeat(100);
        let gz = encode(ContentEncoding::Gzip, &body).unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        assert_eq!(out, body);
        let br = encode(ContentEncoding::Brotli, &body).unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&br[..], 4096), &mut out).unwrap();
        assert_eq!(out, body);
        assert!(gz.len() < body.len() / 4 && br.len() < body.len() / 4);
    }
}
