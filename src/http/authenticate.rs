//! The authentication middleware: makes each FHIR request's [`Principal`] from its certificate
//! (the TLS client certificate, or a trusted proxy's header) and the consumer registry, or refuses
//! it (its audit line is `telemetry`'s). Also the extractor handlers take the consumer with.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use crate::auth::mtls::{self, PeerCertificate};
use crate::auth::registry::{ClientIdentity, Consumer};
use crate::auth::trust::{self, ClientTrust, Verdict};
use crate::auth::{Authenticator, ProxyTrust};
use crate::error::AppError;

/// The authenticated consumer of a request.
#[derive(Debug, Clone)]
pub struct Principal(pub Arc<Consumer>);

impl FromRequest for Principal {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The middleware puts it there on every FHIR route; its absence is a server bug: fail closed.
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| AppError::Forbidden("no authenticated consumer".into())),
        )
    }
}

fn refused(why: String) -> AppError {
    log::warn!(target: "audit", "refused client certificate: {why}");
    AppError::Forbidden(why)
}

/// The identity a request presents: the certificate header on a connection from a trusted proxy
/// (verified like a TLS client certificate), otherwise the connection's verified certificate
/// (refused when the CRLs revoked it since the handshake, unusable while its CRL is out of date).
fn presented_identity(
    req: &ServiceRequest,
    proxy: Option<&ProxyTrust>,
    trust: Option<&ClientTrust>,
) -> Result<ClientIdentity, AppError> {
    if let Some(proxy) = proxy.filter(|p| p.trusts(req)) {
        let Some(trust) = trust else {
            // `startup` refuses trusted proxies without client CAs; fail closed anyway.
            return Err(AppError::Forbidden("forwarded certificates cannot be verified".into()));
        };
        let (leaf, chain) = proxy.forwarded_certificate(req).map_err(refused)?;
        return match trust.verify(&leaf, &chain) {
            Verdict::Trusted => mtls::identity(&leaf).ok_or_else(|| refused("unreadable certificate".into())),
            Verdict::RevocationUnknown(why) => Err(AppError::RevocationUnknown(why)),
            Verdict::Refused(why) => Err(refused(format!("the certificate in {} was refused: {why}", proxy.header))),
        };
    }
    let peer = req
        .conn_data::<PeerCertificate>()
        .ok_or_else(|| AppError::Forbidden("a client certificate is required".into()))?;
    if peer.revocation_unknown {
        return Err(AppError::RevocationUnknown(trust::stale_reason(&peer.cert)));
    }
    if trust.is_some_and(|t| t.is_revoked(&peer.cert)) {
        return Err(refused(format!("the certificate of {} has been revoked", peer.identity.subject)));
    }
    Ok(peer.identity.clone())
}

/// Resolves the consumer of a request, or the reason to refuse it.
fn authenticate(req: &ServiceRequest, mode: &Authenticator) -> Result<Arc<Consumer>, AppError> {
    match mode {
        Authenticator::Insecure { profile } => Ok(Arc::new(Consumer::unauthenticated("insecure-dev", *profile))),
        Authenticator::Registry { registry, proxy } => {
            let trust = req.app_data::<web::Data<ClientTrust>>().map(|t| t.get_ref());
            let identity = presented_identity(req, proxy.as_ref(), trust)?;
            let reg = registry.get();
            match reg.find(&identity) {
                Some(c) => Ok(Arc::new(c.clone())),
                None => {
                    log::warn!(target: "audit", "unregistered certificate subject=\"{}\" issuer=\"{}\"", identity.subject, identity.issuer);
                    Err(AppError::Forbidden("this certificate is not registered as a consumer".into()))
                }
            }
        }
    }
}

/// Middleware: authenticates FHIR requests (the [`Principal`] goes in the request's extensions,
/// where handlers and the audit line find it) or answers the refusal.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if matches!(req.path(), "/health" | "/ready") {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let consumer = match req.app_data::<web::Data<Authenticator>>() {
        None => Err(AppError::Forbidden("authentication is not configured".into())),
        Some(mode) => authenticate(&req, mode),
    };
    match consumer {
        Err(e) => {
            let (http_req, _) = req.into_parts();
            Ok(ServiceResponse::new(http_req, e.error_response()).map_into_right_body())
        }
        Ok(c) => {
            req.extensions_mut().insert(Principal(c));
            Ok(next.call(req).await?.map_into_left_body())
        }
    }
}
