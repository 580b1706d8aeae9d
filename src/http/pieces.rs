//! A searchset Bundle sent part by part ([`Pieces`]): the resources' JSON goes to the connection
//! as it was composed, without first being copied into one body. actix-http copies what a body
//! hands it into its write buffer until that holds `h1_write_buffer_size` bytes (`listener`), and
//! writes that to TLS, 112 KiB at a time instead of the whole answer at once (a 2.3 MB regulator's
//! answer: 24 `sendto` calls on a new connection, 14 for one body; 0.93 of its CPU, BENCHMARKS.md).
//!
//! The body answers to `try_into_bytes` with itself (a body that streams): the compression
//! middleware then leaves it as it is. So a handler sends it only to a client that takes the
//! answer unencoded, and says `Vary: Accept-Encoding` itself ([`searchset_body`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::HttpResponse;
use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::web::Bytes;

use crate::fhir::bundle::{Part, Pieces};

/// The parts of a Bundle, as the response's chunks.
#[derive(Debug)]
pub struct PiecesBody {
    chunks: VecDeque<Bytes>,
    size: u64,
}

impl PiecesBody {
    /// The chunks of `pieces`: the envelope becomes one buffer that its parts share, each resource
    /// its own (moved, not copied).
    pub fn new(pieces: Pieces) -> Self {
        let envelope = Bytes::from(pieces.envelope);
        let chunks: VecDeque<Bytes> = pieces
            .parts
            .into_iter()
            .map(|p| match p {
                Part::Envelope(r) => envelope.slice(r),
                Part::Resource(json) => Bytes::from(json),
            })
            .filter(|b| !b.is_empty())
            .collect();
        let size = chunks.iter().map(|b| b.len() as u64).sum();
        Self { chunks, size }
    }
}

impl MessageBody for PiecesBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().chunks.pop_front().map(Ok))
    }
}

/// The response body of a Bundle for a client whose answer goes in `encoding`: unencoded, the
/// parts as they are (and `Vary: Accept-Encoding`, which the compression middleware adds to the
/// bodies it sees whole); encoded, the parts joined, for the compression middleware to encode.
pub fn searchset_body(
    mut res: actix_web::HttpResponseBuilder,
    pieces: Pieces,
    encoding: ContentEncoding,
) -> HttpResponse {
    if encoding != ContentEncoding::Identity || pieces.len() < super::compress::MIN_BYTES {
        return res.body(pieces.join());
    }
    res.insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
    res.body(PiecesBody::new(pieces))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::bundle::{Entry, SearchMode, Searchset};

    fn bundle(n: usize) -> Searchset {
        Searchset {
            id: "b".into(),
            last_updated: "2026-01-01T00:00:00Z".into(),
            total: Some(n as u64),
            self_url: "https://h/fhir/Location".into(),
            next_url: None,
            entries: (0..n)
                .map(|i| Entry {
                    resource_type: "Location",
                    id: format!("p{i}"),
                    json: format!(r#"{{"resourceType":"Location","id":"p{i}","name":"{}"}}"#, "x".repeat(i * 100)),
                    mode: SearchMode::Match,
                    distance_km: None,
                })
                .collect(),
        }
    }

    #[actix_web::test]
    async fn the_chunks_are_the_bundle() {
        for n in [0, 1, 40] {
            let whole = bundle(n).to_json("https://h/fhir");
            let body = PiecesBody::new(bundle(n).into_pieces("https://h/fhir"));
            assert_eq!(body.size(), BodySize::Sized(whole.len() as u64));
            let sent = actix_web::body::to_bytes(body).await.expect("an infallible body");
            assert_eq!(sent, whole.as_bytes(), "{n} entries");
            let v: serde_json::Value = serde_json::from_slice(&sent).expect("JSON");
            assert_eq!(v["entry"].as_array().map_or(0, Vec::len), n);
        }
    }

    #[actix_web::test]
    async fn only_unencoded_answers_go_in_parts() {
        use actix_web::body::MessageBody as _;
        let big = || bundle(40).into_pieces("https://h/fhir");
        let parts = searchset_body(HttpResponse::Ok(), big(), ContentEncoding::Identity);
        assert_eq!(parts.headers().get(header::VARY).and_then(|v| v.to_str().ok()), Some("accept-encoding"));
        assert!(parts.into_body().try_into_bytes().is_err(), "sent in parts");
        let whole = searchset_body(HttpResponse::Ok(), big(), ContentEncoding::Gzip);
        assert!(whole.headers().get(header::VARY).is_none(), "the compression middleware says it");
        assert!(whole.into_body().try_into_bytes().is_ok(), "whole, for the encoder");
    }
}
