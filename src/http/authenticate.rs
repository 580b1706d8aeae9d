//! The authentication middleware: makes each FHIR request's [`Principal`] from its certificate
//! (the TLS client certificate, or a trusted proxy's header) and the consumer registry, or refuses
//! it; writes one audit line per request. Also the extractor handlers take the consumer with.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use super::RequestId;
use super::error::AppError;
use crate::auth::mtls::{self, PeerCertificate};
use crate::auth::registry::{ClientIdentity, Consumer};
use crate::auth::trust::{self, ClientTrust, Verdict};
use crate::auth::{AuditCapture, AuthMode, ProxyTrust};

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

/// Number of resources in a response, for the audit line (set by handlers).
#[derive(Debug, Clone, Copy)]
pub struct ResourceCount(pub usize);

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
fn authenticate(req: &ServiceRequest, mode: &AuthMode) -> Result<Arc<Consumer>, AppError> {
    match mode {
        AuthMode::Insecure { profile } => Ok(Arc::new(Consumer::unauthenticated("insecure-dev", *profile))),
        AuthMode::Registry { registry, proxy } => {
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

/// Middleware: authenticates FHIR requests and writes one audit line per request.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let target = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.to_string()).unwrap_or_default();
    let exempt = matches!(req.path(), "/health" | "/ready");
    let mode = req.app_data::<web::Data<AuthMode>>().map(|m| m.get_ref().clone());
    let consumer = match (&mode, exempt) {
        (_, true) => None,
        (None, false) => Some(Err(AppError::Forbidden("authentication is not configured".into()))),
        (Some(m), false) => Some(authenticate(&req, m)),
    };
    let (who, profile) = match &consumer {
        Some(Ok(c)) => (c.name.clone(), c.profile.number().to_string()),
        _ => ("-".to_owned(), "-".to_owned()),
    };
    let res = match consumer {
        Some(Err(e)) => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(http_req, e.error_response()).map_into_right_body()
        }
        Some(Ok(c)) => {
            req.extensions_mut().insert(Principal(c));
            next.call(req).await?.map_into_left_body()
        }
        None => next.call(req).await?.map_into_left_body(),
    };
    let count = res.response().extensions().get::<ResourceCount>().map_or(0, |c| c.0);
    let line = format!(
        "time={} request_id={request_id} consumer={who} profile={profile} method={method} target={target:?} status={} resources={count} duration_us={}",
        crate::base::instant::format_instant(crate::base::clock::now_us()),
        res.status().as_u16(),
        started.elapsed().as_micros()
    );
    if let Some(capture) = res.request().app_data::<web::Data<AuditCapture>>()
        && let Ok(mut lines) = capture.0.lock()
    {
        lines.push(line.clone());
    }
    log::info!(target: "audit", "{line}");
    Ok(res)
}
