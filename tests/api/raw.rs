//! A raw HTTP/1 exchange over `std::net::TcpStream`: the bytes are sent exactly as given (reqwest
//! would refuse or normalise most hostile requests), and the answer is read to the end.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// What the server answered.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body, decoded as its `Content-Encoding` says (gzip, br); `None` when it does not decode.
    pub fn decoded(&self) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut out = Vec::new();
        match self.header("content-encoding") {
            None => return Some(self.body.clone()),
            Some("gzip") => flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out).ok()?,
            Some("br") => brotli::Decompressor::new(&self.body[..], 4096).read_to_end(&mut out).ok()?,
            Some(_) => return None,
        };
        Some(out)
    }

    /// The body as JSON, if it is (once decoded).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.decoded()?).ok()
    }

    /// The body as text (lossy, once decoded), for messages.
    pub fn text(&self) -> String {
        let body = self.decoded().unwrap_or_else(|| self.body.clone());
        let t = String::from_utf8_lossy(&body);
        t.chars().take(600).collect()
    }
}

/// The `host:port` of a test server's base URL (`http://host:port/fhir`).
pub fn authority(base: &str) -> String {
    let rest = base.trim_start_matches("http://");
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Sends `request` on a new connection, then reads until the server closes it (requests should
/// say `Connection: close`) or `timeout` passes. Write errors are ignored: a server may answer and
/// close before reading a huge request to its end. `Err` when no status line came back.
pub fn exchange(addr: &str, request: &[u8], timeout: Duration) -> Result<RawResponse, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = std::time::Instant::now() + timeout;
    let end = loop {
        match s.read(&mut chunk) {
            Ok(0) => break None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break Some(e.to_string()),
        }
        if std::time::Instant::now() > deadline {
            break Some("timed out".to_owned());
        }
    };
    let _ = s.shutdown(Shutdown::Both);
    parse(&buf).ok_or_else(|| format!("no HTTP response ({} bytes read, then {:?})", buf.len(), end))
}

fn parse(mut buf: &[u8]) -> Option<RawResponse> {
    loop {
        let r = parse_one(buf)?;
        // An interim answer (`100 Continue`) is followed by the final one.
        if !(100..200).contains(&r.status) {
            return Some(r);
        }
        let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
        buf = &buf[split + 4..];
    }
}

fn parse_one(buf: &[u8]) -> Option<RawResponse> {
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(RawResponse { status, headers, body: buf[split + 4..].to_vec() })
}
