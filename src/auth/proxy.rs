//! Trusted reverse proxies that terminate TLS and pass the client certificate on in a header.
//!
//! On a connection from a trusted address the header is the only identity: it must be there
//! exactly once, hold a PEM certificate (URL-encoded, as nginx's `$ssl_client_escaped_cert`), and
//! that certificate is verified like a TLS client certificate (`trust::ClientTrust::verify`).
//! The proxy's own TLS certificate never stands in for a missing header.

use std::net::IpAddr;

use actix_web::dev::ServiceRequest;
use openssl::x509::X509;
use percent_encoding::percent_decode_str;

/// Most certificates accepted in one header (the leaf and intermediates).
const MAX_CERTIFICATES: usize = 8;

/// Trusted reverse proxies.
#[derive(Debug, Clone)]
pub struct ProxyTrust {
    /// Header carrying the URL-encoded PEM certificate (as nginx's `$ssl_client_escaped_cert`).
    pub header: String,
    /// Addresses the header is accepted from.
    pub addresses: Vec<IpAddr>,
}

impl ProxyTrust {
    /// Whether `req` came from a trusted proxy.
    pub fn trusts(&self, req: &ServiceRequest) -> bool {
        req.peer_addr().is_some_and(|a| self.addresses.contains(&a.ip()))
    }

    /// The certificate (and intermediates sent with it) in the header, or why there is none.
    pub fn forwarded_certificate(&self, req: &ServiceRequest) -> Result<(X509, Vec<X509>), String> {
        let name = self.header.as_str();
        let mut values = req.headers().get_all(name);
        let value =
            values.next().ok_or_else(|| format!("a request through a trusted proxy must carry the {name} header"))?;
        if values.next().is_some() {
            return Err(format!("the {name} header is present more than once"));
        }
        let raw = value.to_str().map_err(|_| format!("the {name} header is not ASCII"))?;
        let pem =
            percent_decode_str(raw).decode_utf8().map_err(|_| format!("the {name} header is not URL-encoded PEM"))?;
        let certs =
            X509::stack_from_pem(pem.as_bytes()).map_err(|_| format!("the {name} header does not parse as PEM"))?;
        if certs.len() > MAX_CERTIFICATES {
            return Err(format!("the {name} header holds more than {MAX_CERTIFICATES} certificates"));
        }
        let mut certs = certs.into_iter();
        let leaf = certs.next().ok_or_else(|| format!("the {name} header holds no certificate"))?;
        Ok((leaf, certs.collect()))
    }
}
