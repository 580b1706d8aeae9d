//! Reading a request body within a size limit and a deadline. actix-http times the arrival of a
//! request head, not of its body: a client that announces a body and stops sending it would hold
//! its connection (and the request) forever. It gets a 408 OperationOutcome instead, and the
//! connection is closed.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, Payload};

use crate::error::AppError;

/// The body of `req`: at most `limit` bytes (413 past it), all arrived within `deadline` (408).
pub async fn read(req: &HttpRequest, payload: Payload, limit: usize, deadline: Duration) -> Result<Bytes, AppError> {
    let too_large = || AppError::TooLarge(format!("the request body is larger than {} KiB", limit / 1024));
    let announced = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match actix_web::rt::time::timeout(deadline, payload.to_bytes_limited(limit)).await {
        Ok(Ok(Ok(body))) => Ok(body),
        Ok(Ok(Err(_))) => {
            Err(AppError::invalid("invalid", "the request body could not be read (malformed chunked encoding?)"))
        }
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(AppError::Timeout(format!("the request body did not arrive within {} s", deadline.as_secs()))),
    }
}
