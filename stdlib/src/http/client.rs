//! The http client: `http.get/post/put/patch/delete/head(url, ...)`, `http.request(method,
//! url, ...)` and `http.Client(...)`, whose methods are the same functions with its settings.
//!
//! Every call **waits** and returns a Result: `Ok(http.Response)` for any response the server
//! gave — 404 and 500 included, `resp.ok` tells — or `Err(<Kind>(message))` when there was none:
//! `InvalidUrl`, `DnsError`, `ConnectError`, `TlsError`, `Timeout`, `TooManyRedirects`,
//! `BodyError`, `ProtocolError`. Wrong argument types fault. The body is read in full (up to
//! `max_body`) before the call returns, so `timeout` covers the whole exchange, as Go's
//! `http.Client.Timeout` does.
//!
//! Each `http.Client` pools its connections (hyper-util's pooled client; `https` through rustls
//! with the system's roots plus `ca_file`); the module functions share one default client per
//! VM. Layout: `options` reads keyword arguments, `url` joins and resolves URLs, `transport`
//! talks to the network, `response` is what scripts get back. The reference is
//! `spec/http_client.md`.

pub(super) mod in_process;
mod options;
mod response;
mod transport;
mod url;

use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::Method;

use cn_runtime::native::{Function, Member, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use options::{ClientConfig, RequestOptions, CLIENT_OPTIONS, REQUEST_OPTIONS};
use transport::{HttpError, Prepared, Redirects, Transport};

use super::deadline::{self, Deadline};
use crate::trace::ClientSpan;

pub(crate) use response::status_of;

/// `User-Agent` sent unless the script sets one.
const USER_AGENT: &str = concat!("cn/", env!("CARGO_PKG_VERSION"));

/// One request function: the module's `http.get` and the client's `get` alike.
struct RequestFn {
    name: &'static str,
    /// The method, or `None` when it is the first argument (`request`).
    method: Option<&'static str>,
    doc: &'static str,
}

/// Every request function, in the order `help()` lists them.
const REQUESTS: [RequestFn; 7] = [
    RequestFn {
        name: "get",
        method: Some("GET"),
        doc: "get(url, headers=, params=, timeout=, max_body=)\nSends a GET request and waits: `Ok(http.Response)` for any status, `Err(kind)` when there was no response.",
    },
    RequestFn {
        name: "post",
        method: Some("POST"),
        doc: "post(url, json=, body=, headers=, params=, timeout=, max_body=)\nSends a POST request with a JSON or raw body and waits for the response.",
    },
    RequestFn {
        name: "put",
        method: Some("PUT"),
        doc: "put(url, json=, body=, headers=, params=, timeout=, max_body=)\nSends a PUT request and waits for the response.",
    },
    RequestFn {
        name: "patch",
        method: Some("PATCH"),
        doc: "patch(url, json=, body=, headers=, params=, timeout=, max_body=)\nSends a PATCH request and waits for the response.",
    },
    RequestFn {
        name: "delete",
        method: Some("DELETE"),
        doc: "delete(url, headers=, params=, timeout=, max_body=)\nSends a DELETE request and waits for the response.",
    },
    RequestFn {
        name: "head",
        method: Some("HEAD"),
        doc: "head(url, headers=, params=, timeout=, max_body=)\nSends a HEAD request and waits for the response (no body).",
    },
    RequestFn {
        name: "request",
        method: None,
        doc: "request(method, url, json=, body=, headers=, params=, timeout=, max_body=)\nSends a request with any method and waits for the response.",
    },
];

impl RequestFn {
    /// What the function accepts: the URL (after the method for `request`) and the options.
    const fn params(&self) -> Params {
        let n = if self.method.is_some() { 1 } else { 2 };
        Params::exactly(n).keywords(REQUEST_OPTIONS)
    }
}

/// The client's functions in the `http` module, sharing one default client.
pub fn add_functions(m: &mut ModuleBuilder) {
    let default = Rc::new(ClientState::new(ClientConfig::default()));
    for f in &REQUESTS {
        let state = default.clone();
        let method = f.method;
        m.function_with(f.name, f.doc, f.params(), move |vm, args| {
            request(vm, &state, method, args)
        });
    }
    m.functions(CONSTRUCTOR);
}

/// `http.Client(..)`.
static CONSTRUCTOR: &[Function] = &[Function::new("Client", new_client)
    .doc("Client(base_url=, timeout=, headers=, traced=true, follow_redirects=true, max_redirects=10, max_body=, ca_file=)\nA client with its own settings and connection pool; its methods are the request functions.")
    .params(Params::NONE.keywords(CLIENT_OPTIONS))];

fn new_client(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let config = ClientConfig::parse(&args)?;
    Ok(NativeObject::value(Client(Rc::new(ClientState::new(
        config,
    )))))
}

/// A client's settings and where its requests go.
struct ClientState {
    config: ClientConfig,
    target: Target,
}

/// Where a client's requests go.
enum Target {
    /// Over the network, through connection pools (boxed: the other variant is one pointer).
    Network(Box<Transport>),
    /// To a server's request handling in this process (`http.test_client`).
    Server(Rc<super::state::ServerState>),
}

impl ClientState {
    fn new(config: ClientConfig) -> ClientState {
        let transport = Transport::new(config.extra_roots.clone());
        ClientState {
            config,
            target: Target::Network(Box::new(transport)),
        }
    }
}

/// One request: `method` fixed by the function, or read from the first argument
/// (`http.request("OPTIONS", url)`).
fn request(
    vm: &mut Vm,
    state: &Rc<ClientState>,
    method: Option<&str>,
    args: Args<'_>,
) -> Result<Value, Fault> {
    let first = usize::from(method.is_none());
    let method = match method {
        Some(method) => Method::from_bytes(method.as_bytes()).unwrap_or_default(),
        None => {
            let name = args.str(0)?.to_ascii_uppercase();
            Method::from_bytes(name.as_bytes()).map_err(|_| {
                Fault::new(format!("{}: '{name}' is not an http method", args.function))
            })?
        }
    };
    let target = args.str(first)?;
    let options = RequestOptions::parse(&args)?;
    let (prepared, span) = match prepare(vm, &state.config, method, target, options) {
        Ok(prepared) => prepared,
        Err(error) => return Ok(Value::err(error.into_value())),
    };
    // Inside a request with a deadline: no call may outlive it.
    let until = Deadline::remaining(vm).map(|left| Instant::now() + left);
    if until.is_some_and(|until| until <= Instant::now()) {
        let error = HttpError::new("Timeout", "the request being handled is past its deadline");
        return Ok(Value::err(error.into_value()));
    }
    // Inside an attempt of a retrying policy, that policy decides about further attempts.
    let nested = crate::resilience::inside_retry(vm);
    let state = state.clone();
    let handle = vm.handle();
    Ok(vm.suspend(async move {
        let redirects = Redirects {
            follow: state.config.follow_redirects,
            max: state.config.max_redirects,
        };
        let retry = state
            .config
            .retry
            .as_ref()
            .filter(|_| !nested && idempotent(&prepared));
        if let Some(retry) = retry {
            retry.started();
        }
        let host = prepared
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let mut attempt = 1;
        let outcome = loop {
            // Each attempt asks the host's breaker (retry outside, breaker inside).
            let pass = match &state.config.breakers {
                Some(breakers) => match breakers.admit(&mut handle.borrow_mut(), &host) {
                    Ok(pass) => Some(pass),
                    Err(open) => {
                        if let Some(span) = span {
                            span.fail("circuit open");
                        }
                        return Ok(open);
                    }
                },
                None => None,
            };
            let mut attempt_request = prepared.clone();
            if let Some(until) = until {
                let left = until.saturating_duration_since(Instant::now());
                attempt_request.timeout =
                    Some(attempt_request.timeout.map_or(left, |t| t.min(left)));
                deadline::to_header(&mut attempt_request.headers, left);
            }
            let outcome = match &state.target {
                Target::Network(transport) => {
                    transport::exchange(transport, redirects, attempt_request).await
                }
                Target::Server(server) => {
                    in_process::exchange(&handle, server, attempt_request).await
                }
            };
            if let Some(pass) = pass {
                let failed = match &outcome {
                    Ok(received) => {
                        let status = received.status.as_u16();
                        status >= 500 || status == 429
                    }
                    Err(error) => matches!(error.kind(), "ConnectError" | "Timeout"),
                };
                pass.report(&mut handle.borrow_mut(), failed);
            }
            let Some(retry) = retry else { break outcome };
            let (reason, asked) = match &outcome {
                Err(error) if error.kind() == "ConnectError" => ("connect_error", None),
                Err(error) if error.kind() == "Timeout" => ("timeout", None),
                Ok(received) => match transient_status(received.status.as_u16()) {
                    Some(reason) => (reason, response::retry_after_of(&received.headers)),
                    None => break outcome,
                },
                Err(_) => break outcome,
            };
            let left = until.map(|until| until.saturating_duration_since(Instant::now()));
            // Decided first: the vm is not to stay borrowed through the wait.
            let next = retry.next(&handle.borrow(), attempt, reason, asked, left);
            match next {
                Some(delay) => {
                    if let Some(span) = &span {
                        span.retry(retry.name(), attempt, reason, delay);
                    }
                    tokio::time::sleep(delay).await
                }
                None => break outcome,
            }
            attempt += 1;
        };
        if let Some(span) = span {
            match &outcome {
                Ok(received) => span.finish(received.status.as_u16()),
                Err(error) => span.fail(error.message()),
            }
        }
        Ok(match outcome {
            Ok(received) => Value::ok(response::Response::value(received)),
            Err(error) => Value::err(error.into_value()),
        })
    }))
}

/// Whether a request may be sent twice without harm: its method says so (RFC 9110 section
/// 9.2.2), or the caller gave it an `Idempotency-Key`.
fn idempotent(prepared: &Prepared) -> bool {
    matches!(
        prepared.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    ) || prepared.headers.contains_key("idempotency-key")
}

/// The `reason` of a status the client retries: the server is busy or the request can be
/// repeated.
fn transient_status(status: u16) -> Option<&'static str> {
    Some(match status {
        408 => "status_408",
        429 => "status_429",
        502 => "status_502",
        503 => "status_503",
        504 => "status_504",
        _ => return None,
    })
}

/// The request as it goes out: the full URL, the client's headers overridden by the call's,
/// the body's content type, `User-Agent`, and, when traced, a client span whose context goes out
/// in `traceparent`.
fn prepare(
    vm: &Vm,
    config: &ClientConfig,
    method: Method,
    target: &str,
    options: RequestOptions,
) -> Result<(Prepared, Option<ClientSpan>), HttpError> {
    let full = url::with_params(
        url::join(config.base_url.as_deref(), target),
        &options.params,
    );
    let uri = url::parse(&full)
        .map_err(|e| HttpError::new("InvalidUrl", format!("invalid url \"{full}\": {e}")))?;
    let mut headers = config.headers.clone();
    for name in options.headers.keys() {
        headers.remove(name);
    }
    for (name, value) in options.headers.iter() {
        headers.append(name.clone(), value.clone());
    }
    let body = match options.body {
        Some((body, content_type)) => {
            if !headers.contains_key(header::CONTENT_TYPE) {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            body
        }
        None => Bytes::new(),
    };
    if !headers.contains_key(header::USER_AGENT) {
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    }
    // A traced client makes a client span per request and sends its context along, unless the
    // caller set a traceparent of their own.
    let span = config.traced.then(|| {
        let span = crate::trace::start_client_span(vm, method.as_str(), &uri);
        if !headers.contains_key("traceparent") {
            span.inject(&mut headers);
        }
        forward_request_id(vm, &mut headers);
        span
    });
    let prepared = Prepared {
        method,
        uri,
        headers,
        body,
        timeout: options.timeout.unwrap_or(config.timeout),
        max_body: options.max_body.unwrap_or(config.max_body),
    };
    Ok((prepared, span))
}

/// Sends the current request's id along (`x-request-id`), so the service called logs the same id;
/// a header the caller set wins.
fn forward_request_id(vm: &Vm, headers: &mut hyper::HeaderMap) {
    if headers.contains_key("x-request-id") {
        return;
    }
    let Some(task) = vm.current_task() else {
        return;
    };
    let context = task.context.borrow();
    if let Some(value) = context
        .get("request_id")
        .and_then(Value::as_str)
        .and_then(|id| HeaderValue::from_str(id).ok())
    {
        headers.insert("x-request-id", value);
    }
}

/// `http.Client`: the request functions as methods, with the client's settings and pool.
struct Client(Rc<ClientState>);

/// A method of `http.Client`: request function `$i` with the client's settings.
macro_rules! client_request {
    ($i:literal) => {
        Member::method(REQUESTS[$i].name, |c: &Client, vm, args| {
            request(vm, &c.0, REQUESTS[$i].method, args)
        })
        .doc(REQUESTS[$i].doc)
        .params(REQUESTS[$i].params())
    };
}

type M = Member<Client>;

/// What `http.Client(..)` returns.
static CLIENT: Table<Client> = Table::new(
    "http.Client",
    "An http client with its own settings and connection pool.",
    &[
        client_request!(0),
        client_request!(1),
        client_request!(2),
        client_request!(3),
        client_request!(4),
        client_request!(5),
        client_request!(6),
        M::attribute("base_url", |c, _| {
            Ok(c.0
                .config
                .base_url
                .as_deref()
                .map_or(Value::Nil, Value::str))
        })
        .doc("base_url\nWhat relative URLs are joined to, or nil."),
        M::attribute("timeout", |c, _| {
            Ok(c.0.config.timeout.map_or(Value::Nil, |t| {
                Value::Duration(t.as_nanos().min(i64::MAX as u128) as i64)
            }))
        })
        .doc("timeout\nThe whole-exchange timeout of each request, or nil."),
        M::attribute("ca_file", |c, _| {
            Ok(c.0.config.ca_file.as_deref().map_or(Value::Nil, Value::str))
        })
        .doc("ca_file\nExtra trusted CA certificates (PEM), or nil."),
        M::attribute("traced", |c, _| Ok(Value::Bool(c.0.config.traced)))
            .doc("traced\nWhether requests make client spans and carry trace headers."),
    ],
);

impl NativeType for Client {
    fn type_name(&self) -> &str {
        "http.Client"
    }

    fn members(&self) -> &'static dyn Members {
        &CLIENT
    }

    fn display(&self) -> String {
        match &self.0.config.base_url {
            Some(base) => format!("<http.Client {base}>"),
            None => "<http.Client>".to_string(),
        }
    }
}
