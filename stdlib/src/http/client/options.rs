//! Keyword arguments of the client: `http.Client(...)`'s settings and each request's options,
//! checked up front (a wrong type is a fault: a bug in the script, not a network failure).

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::CertificateDer;

use cn_runtime::{Args, Fault, Value};

use super::transport;
use super::url;

/// Default for `timeout=`: the whole exchange, redirects and body included.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default for `max_body=`.
pub(super) const DEFAULT_MAX_BODY: u64 = 64 << 20;
/// Default for `max_redirects=`.
pub(super) const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// Keywords every request takes.
pub(super) const REQUEST_OPTIONS: &[&str] =
    &["headers", "params", "json", "body", "timeout", "max_body"];

/// Keywords `http.Client` takes.
pub(super) const CLIENT_OPTIONS: &[&str] = &[
    "base_url",
    "timeout",
    "headers",
    "traced",
    "follow_redirects",
    "max_redirects",
    "max_body",
    "ca_file",
    "retry",
    "breaker",
];

/// The settings of one `http.Client` (the module functions use the defaults).
pub(super) struct ClientConfig {
    pub base_url: Option<String>,
    pub timeout: Option<Duration>,
    pub headers: HeaderMap,
    pub traced: bool,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub max_body: u64,
    pub ca_file: Option<String>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Retries of idempotent requests; `None` with `retry=nil`.
    pub retry: Option<crate::resilience::HttpRetry>,
    /// Circuit breakers per host, with `breaker=`.
    pub breakers: Option<crate::resilience::HostBreakers>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            base_url: None,
            timeout: Some(DEFAULT_TIMEOUT),
            headers: HeaderMap::new(),
            traced: true,
            follow_redirects: true,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_body: DEFAULT_MAX_BODY,
            ca_file: None,
            extra_roots: Vec::new(),
            retry: Some(crate::resilience::HttpRetry::standard()),
            breakers: None,
        }
    }
}

impl ClientConfig {
    /// `http.Client(base_url=, timeout=, headers=, traced=, follow_redirects=, max_redirects=,
    /// max_body=, ca_file=)`: keywords only.
    pub(super) fn parse(args: &Args<'_>) -> Result<ClientConfig, Fault> {
        let f = args.function;
        let mut config = ClientConfig::default();
        if let Some(value) = given(args, "base_url") {
            let base = string(f, "base_url", value)?;
            url::parse(base).map_err(|e| {
                Fault::new(format!("{f}: base_url \"{base}\" is not a usable url: {e}"))
            })?;
            config.base_url = Some(base.to_string());
        }
        if let Some(value) = args.named("timeout") {
            config.timeout = timeout(f, value)?;
        }
        if let Some(value) = given(args, "headers") {
            config.headers = headers(f, value)?;
        }
        if let Some(value) = given(args, "traced") {
            config.traced = boolean(f, "traced", value)?;
        }
        if let Some(value) = given(args, "follow_redirects") {
            config.follow_redirects = boolean(f, "follow_redirects", value)?;
        }
        if let Some(value) = given(args, "max_redirects") {
            config.max_redirects = count(f, "max_redirects", value)?
                .try_into()
                .unwrap_or(u32::MAX);
        }
        if let Some(value) = given(args, "max_body") {
            config.max_body = count(f, "max_body", value)?;
        }
        match args.named("retry") {
            None => {}
            Some(Value::Nil) => config.retry = None,
            Some(value) => {
                config.retry = Some(crate::resilience::HttpRetry::of(value).ok_or_else(|| {
                    Fault::new(format!(
                        "{f}: retry must be resilience.retry_policy(...) or nil, got {}",
                        value.type_name()
                    ))
                })?)
            }
        }
        if let Some(value) = given(args, "breaker") {
            config.breakers =
                Some(crate::resilience::HostBreakers::of(value).ok_or_else(|| {
                    Fault::new(format!(
                    "{f}: breaker must be resilience.circuit_breaker(...) (a breaker per host is \
                     made from it), got {}",
                    value.type_name()
                ))
                })?);
        }
        if let Some(value) = given(args, "ca_file") {
            let path = string(f, "ca_file", value)?;
            config.extra_roots = transport::read_ca_file(path)
                .map_err(|e| Fault::new(format!("{f}: ca_file: {e}")))?;
            config.ca_file = Some(path.to_string());
        }
        Ok(config)
    }
}

/// The options of one request.
pub(super) struct RequestOptions {
    pub headers: HeaderMap,
    pub params: Vec<(String, String)>,
    /// The body and the content type it implies.
    pub body: Option<(Bytes, &'static str)>,
    /// `None` when not given (the client's applies).
    pub timeout: Option<Option<Duration>>,
    pub max_body: Option<u64>,
}

impl RequestOptions {
    /// Reads `headers=`, `params=`, `json=`, `body=`, `timeout=`, `max_body=` (the caller has
    /// checked that no other keyword was given).
    pub(super) fn parse(args: &Args<'_>) -> Result<RequestOptions, Fault> {
        let f = args.function;
        let json = given(args, "json");
        let body = given(args, "body");
        let body = match (json, body) {
            (Some(_), Some(_)) => {
                return Err(Fault::new(format!("{f}: give json= or body=, not both")))
            }
            (Some(value), None) => {
                Some((Bytes::from(crate::json::encode(value)?), "application/json"))
            }
            (None, Some(Value::Bytes(data))) => {
                Some((Bytes::clone(data), "application/octet-stream"))
            }
            (None, Some(value)) => Some((
                Bytes::from(string(f, "body", value)?.clone()),
                "text/plain; charset=utf-8",
            )),
            (None, None) => None,
        };
        Ok(RequestOptions {
            headers: match given(args, "headers") {
                Some(value) => headers(f, value)?,
                None => HeaderMap::new(),
            },
            params: match given(args, "params") {
                Some(value) => params(f, value)?,
                None => Vec::new(),
            },
            body,
            timeout: args.named("timeout").map(|v| timeout(f, v)).transpose()?,
            max_body: given(args, "max_body")
                .map(|v| count(f, "max_body", v))
                .transpose()?,
        })
    }
}

/// Keyword `name` unless absent or `nil`.
fn given<'a>(args: &Args<'a>, name: &str) -> Option<&'a Value> {
    args.named(name).filter(|v| !matches!(v, Value::Nil))
}

fn string<'a>(f: &str, name: &str, value: &'a Value) -> Result<&'a String, Fault> {
    match value {
        Value::Str(s) => Ok(s),
        other => Err(Fault::new(format!(
            "{f}: {name}= must be str, not {}",
            other.type_name()
        ))),
    }
}

fn boolean(f: &str, name: &str, value: &Value) -> Result<bool, Fault> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(Fault::new(format!(
            "{f}: {name}= must be bool, not {}",
            other.type_name()
        ))),
    }
}

fn count(f: &str, name: &str, value: &Value) -> Result<u64, Fault> {
    match value {
        Value::Int(n) if *n >= 0 => Ok(*n as u64),
        Value::Int(_) => Err(Fault::new(format!("{f}: {name}= must not be negative"))),
        other => Err(Fault::new(format!(
            "{f}: {name}= must be int, not {}",
            other.type_name()
        ))),
    }
}

/// `timeout=`: a duration or a number of seconds; `nil` or zero means no limit.
fn timeout(f: &str, value: &Value) -> Result<Option<Duration>, Fault> {
    let seconds = match value {
        Value::Nil => return Ok(None),
        Value::Duration(nanos) => *nanos as f64 / 1e9,
        Value::Int(n) => *n as f64,
        Value::Float(x) if x.is_finite() => *x,
        other => {
            return Err(Fault::new(format!(
                "{f}: timeout= must be a duration or seconds, not {}",
                other.type_name()
            )))
        }
    };
    if seconds < 0.0 {
        return Err(Fault::new(format!("{f}: timeout= must not be negative")));
    }
    Ok((seconds > 0.0).then(|| Duration::from_secs_f64(seconds.min(1e10))))
}

/// A header value: a str, or an int or float (written out).
fn header_text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(_) => Some(cn_runtime::format::repr(value)),
        _ => None,
    }
}

/// `headers=`: a dict of str to str (a list of str sends the header once per value).
fn headers(f: &str, value: &Value) -> Result<HeaderMap, Fault> {
    let Value::Dict(dict) = value else {
        return Err(Fault::new(format!(
            "{f}: headers= must be a dict of str to str, not {}",
            value.type_name()
        )));
    };
    let mut map = HeaderMap::new();
    for (key, value) in dict.borrow().iter() {
        let Some(name) = key.value().as_str() else {
            return Err(Fault::new(format!(
                "{f}: header names must be str, not {}",
                key.value().type_name()
            )));
        };
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Fault::new(format!("{f}: '{name}' is not a valid header name")))?;
        let values = match value {
            Value::List(items) => items.borrow().clone(),
            Value::Tuple(items) => items.to_vec(),
            other => vec![other.clone()],
        };
        map.remove(&header);
        for value in values {
            let text = header_text(&value).ok_or_else(|| {
                Fault::new(format!(
                    "{f}: header '{name}' must be str, not {}",
                    value.type_name()
                ))
            })?;
            let value = HeaderValue::from_str(&text).map_err(|_| {
                Fault::new(format!(
                    "{f}: header '{name}' has a character not allowed in headers"
                ))
            })?;
            map.append(header.clone(), value);
        }
    }
    Ok(map)
}

/// `params=`: a dict of query parameters; values are str, int, float or bool, or a list of
/// them (the key repeats).
fn params(f: &str, value: &Value) -> Result<Vec<(String, String)>, Fault> {
    let Value::Dict(dict) = value else {
        return Err(Fault::new(format!(
            "{f}: params= must be a dict, not {}",
            value.type_name()
        )));
    };
    let mut out = Vec::new();
    for (key, value) in dict.borrow().iter() {
        let key = match key.value() {
            Value::Str(s) => s.to_string(),
            other => cn_runtime::format::repr(other),
        };
        let values = match value {
            Value::List(items) => items.borrow().clone(),
            Value::Tuple(items) => items.to_vec(),
            other => vec![other.clone()],
        };
        for value in values {
            let text = match &value {
                Value::Bool(b) => b.to_string(),
                other => header_text(other).ok_or_else(|| {
                    Fault::new(format!(
                        "{f}: param '{key}' must be str, int, float or bool, not {}",
                        other.type_name()
                    ))
                })?,
            };
            out.push((key.clone(), text));
        }
    }
    Ok(out)
}
