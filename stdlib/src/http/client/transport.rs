//! The wire: pooled hyper clients (one for `http`, one for `https` built on first use), the TLS
//! roots, one exchange with its redirects and body limit, and failures as error variants.
//!
//! Each `http.Client` owns one `Transport`, so its connections are pooled and reused across
//! requests (and across redirects). The hyper clients spawn their connection futures with
//! `TokioExecutor`, which works on the current-thread runtime the VM runs on.

use std::cell::OnceCell;
use std::error::Error;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use cn_runtime::object::Variant;
use cn_runtime::Value;

use super::url;

type Body = Full<Bytes>;
type PlainClient = Client<HttpConnector, Body>;
type TlsClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// A failure as scripts see it: `Err(<kind>(message))`.
pub(super) struct HttpError {
    kind: &'static str,
    message: String,
}

impl HttpError {
    /// What went wrong, as the script's `Err` says it.
    pub(super) fn message(&self) -> &str {
        &self.message
    }

    /// The kind of error (`ConnectError`).
    pub(super) fn kind(&self) -> &'static str {
        self.kind
    }

    pub(super) fn new(kind: &'static str, message: impl Into<String>) -> HttpError {
        HttpError {
            kind,
            message: message.into(),
        }
    }

    /// The error variant (`ConnectError("GET http://...: connection refused")`).
    pub(super) fn into_value(self) -> Value {
        Variant::value("http", self.kind, vec![Value::str(self.message)])
    }
}

/// One request, ready to send (again, when it is retried: its parts are cheap to clone).
#[derive(Clone)]
pub(super) struct Prepared {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub timeout: Option<Duration>,
    pub max_body: u64,
}

/// What came back.
pub(super) struct Received {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub url: String,
    pub body: Bytes,
}

/// Redirect handling of a client.
#[derive(Clone, Copy)]
pub(super) struct Redirects {
    pub follow: bool,
    pub max: u32,
}

/// The pooled connections of one `http.Client`.
pub(super) struct Transport {
    extra_roots: Vec<CertificateDer<'static>>,
    plain: OnceCell<PlainClient>,
    tls: OnceCell<Result<TlsClient, String>>,
}

impl Transport {
    /// A transport trusting the system roots plus `extra_roots`.
    pub(super) fn new(extra_roots: Vec<CertificateDer<'static>>) -> Transport {
        Transport {
            extra_roots,
            plain: OnceCell::new(),
            tls: OnceCell::new(),
        }
    }

    /// Starts sending `request` on the pool for its scheme.
    fn send(&self, request: Request<Body>) -> Result<ResponseFuture, HttpError> {
        if request.uri().scheme_str() == Some("https") {
            match self.tls.get_or_init(|| self.tls_client()) {
                Ok(client) => Ok(client.request(request)),
                Err(message) => Err(HttpError::new("TlsError", message.clone())),
            }
        } else {
            let client = self.plain.get_or_init(|| builder().build(connector()));
            Ok(client.request(request))
        }
    }

    fn tls_client(&self) -> Result<TlsClient, String> {
        let mut roots = system_roots().clone();
        roots.add_parsable_certificates(self.extra_roots.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(connector());
        Ok(builder().build(https))
    }
}

fn builder() -> hyper_util::client::legacy::Builder {
    let mut builder = Client::builder(TokioExecutor::new());
    builder
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE);
    builder
}

fn connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    connector
}

/// The system's trusted roots, loaded once per process; webpki's (Mozilla's) when the system
/// has none.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

/// Reads the certificates of a PEM file (a `ca_file`).
pub(super) fn read_ca_file(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read '{path}': {e}"))?;
    let mut reader = io::BufReader::new(file);
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot read '{path}': {e}"))?;
    if certs.is_empty() {
        return Err(format!("'{path}' holds no PEM certificate"));
    }
    let mut store = RootCertStore::empty();
    let (_, invalid) = store.add_parsable_certificates(certs.iter().cloned());
    if invalid > 0 {
        return Err(format!("'{path}' holds a certificate that is not valid"));
    }
    Ok(certs)
}

/// Sends `request`, following redirects as `redirects` says, and reads the body; all of it
/// within `request.timeout`.
pub(super) async fn exchange(
    transport: &Transport,
    redirects: Redirects,
    request: Prepared,
) -> Result<Received, HttpError> {
    let what = format!("{} {}", request.method, request.uri);
    match request.timeout {
        Some(limit) => tokio::time::timeout(limit, follow(transport, redirects, request))
            .await
            .unwrap_or_else(|_| {
                Err(HttpError::new(
                    "Timeout",
                    format!("{what}: no response within {}", duration_text(limit)),
                ))
            }),
        None => follow(transport, redirects, request).await,
    }
}

fn duration_text(duration: Duration) -> String {
    let mut text = String::new();
    cn_runtime::format::write_duration(&mut text, duration.as_nanos().min(i64::MAX as u128) as i64);
    text
}

async fn follow(
    transport: &Transport,
    redirects: Redirects,
    request: Prepared,
) -> Result<Received, HttpError> {
    let Prepared {
        mut method,
        mut uri,
        mut headers,
        mut body,
        max_body,
        ..
    } = request;
    let mut count = 0;
    loop {
        let what = format!("{method} {uri}");
        let mut outgoing = Request::new(Full::new(body.clone()));
        *outgoing.method_mut() = method.clone();
        *outgoing.uri_mut() = uri.clone();
        *outgoing.headers_mut() = headers.clone();
        let response = transport
            .send(outgoing)?
            .await
            .map_err(|e| classify(&e, &what, uri.host().unwrap_or_default()))?;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .filter(|_| redirects.follow && matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308))
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        let Some(location) = location else {
            let (parts, incoming) = response.into_parts();
            // A HEAD response's Content-Length describes a body that is not sent.
            let declared = (method != Method::HEAD)
                .then(|| content_length(&parts.headers))
                .flatten();
            let body = read_body(incoming, declared, max_body, &what).await?;
            return Ok(Received {
                status,
                headers: parts.headers,
                url: uri.to_string(),
                body,
            });
        };
        drop(response);
        if count == redirects.max {
            return Err(HttpError::new(
                "TooManyRedirects",
                format!("{what}: stopped after {count} redirects"),
            ));
        }
        count += 1;
        let next = url::resolve(&uri, &location).map_err(|e| {
            HttpError::new(
                "InvalidUrl",
                format!("{what}: redirect to invalid url \"{location}\": {e}"),
            )
        })?;
        if matches!(status.as_u16(), 301..=303) && method != Method::HEAD {
            // As browsers, Go and Python do: the next request is a GET without the body.
            method = Method::GET;
            body = Bytes::new();
            headers.remove(header::CONTENT_TYPE);
            headers.remove(header::CONTENT_LENGTH);
            headers.remove(header::CONTENT_ENCODING);
        }
        let same_host = next.host() == uri.host() && next.port_u16() == uri.port_u16();
        let downgrade = uri.scheme_str() == Some("https") && next.scheme_str() != Some("https");
        if !same_host || downgrade {
            // Credentials are not handed to another host (or over plain http).
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::PROXY_AUTHORIZATION);
            headers.remove(header::COOKIE);
        }
        uri = next;
    }
}

/// Reads a whole body, failing with `BodyError` past `max` bytes (at once when the declared
/// length is larger).
async fn read_body(
    mut incoming: Incoming,
    declared: Option<u64>,
    max: u64,
    what: &str,
) -> Result<Bytes, HttpError> {
    let too_large = || {
        HttpError::new(
            "BodyError",
            format!(
                "{what}: the response body is larger than max_body ({})",
                size_text(max)
            ),
        )
    };
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut buffer = BytesMut::with_capacity(declared.unwrap_or(0).min(1 << 20) as usize);
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| {
            HttpError::new(
                "BodyError",
                format!("{what}: reading the response body failed: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() as u64 + data.len() as u64 > max {
                return Err(too_large());
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `64 MiB`, `1000 bytes`.
pub(super) fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const KIB: u64 = 1 << 10;
    if bytes >= MIB && bytes & (MIB - 1) == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes & (KIB - 1) == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Turns a hyper-util client error into the variant scripts match on, by what its chain of
/// causes holds: a rustls error is `TlsError`, hyper-util's "dns error" is `DnsError`, other
/// failures to connect are `ConnectError`, and a response hyper could not parse is
/// `ProtocolError`.
fn classify(error: &hyper_util::client::legacy::Error, what: &str, host: &str) -> HttpError {
    let mut io_error: Option<&io::Error> = None;
    let mut hyper_error: Option<&hyper::Error> = None;
    let mut causes: Vec<String> = Vec::new();
    let mut current: Option<&(dyn Error + 'static)> = error.source();
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return HttpError::new("TlsError", format!("{what}: TLS: {tls}"));
        }
        if e.to_string() == "dns error" {
            let cause = e.source().map(|c| format!(": {c}")).unwrap_or_default();
            return HttpError::new(
                "DnsError",
                format!("{what}: cannot resolve host '{host}'{cause}"),
            );
        }
        if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
            hyper_error.get_or_insert(hyper);
        }
        // `io::Error::source` skips the error it wraps, which is where rustls's is.
        current = match e.downcast_ref::<io::Error>() {
            Some(io) => {
                if io.to_string().starts_with("tls handshake") {
                    // tokio-rustls: the server closed the connection mid-handshake.
                    return HttpError::new("TlsError", format!("{what}: TLS: {io}"));
                }
                io_error.get_or_insert(io);
                match io.get_ref() {
                    Some(inner) => Some(inner as &(dyn Error + 'static)),
                    None => e.source(),
                }
            }
            None => e.source(),
        };
        causes.push(e.to_string());
    }
    if let Some(io) = io_error {
        let reason = match io.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            io::ErrorKind::ConnectionReset => "connection reset by peer".to_string(),
            io::ErrorKind::ConnectionAborted => "connection aborted".to_string(),
            io::ErrorKind::TimedOut => "connecting timed out".to_string(),
            io::ErrorKind::UnexpectedEof => {
                "connection closed before the response was complete".to_string()
            }
            _ => io.to_string(),
        };
        return HttpError::new("ConnectError", format!("{what}: {reason}"));
    }
    if let Some(hyper) = hyper_error {
        if hyper.is_parse() || hyper.is_parse_status() || hyper.is_user() {
            return HttpError::new("ProtocolError", format!("{what}: {hyper}"));
        }
        if hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled() {
            return HttpError::new(
                "ConnectError",
                format!("{what}: connection closed before the response was complete"),
            );
        }
    }
    let detail = if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    };
    HttpError::new("ConnectError", format!("{what}: {detail}"))
}
