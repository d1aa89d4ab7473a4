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

mod options;
mod response;
mod transport;
mod url;

use std::rc::Rc;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::Method;

use cn_runtime::object::{NativeFunction, NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

use options::{ClientConfig, RequestOptions, REQUEST_OPTIONS};
use transport::{HttpError, Prepared, Redirects, Transport};

use crate::trace::ClientSpan;

/// `User-Agent` sent unless the script sets one.
const USER_AGENT: &str = concat!("cn/", env!("CARGO_PKG_VERSION"));

/// The request functions: member name, method (`None`: the first argument), and the name used
/// in messages for the module function and for the `http.Client` method.
const FUNCTIONS: &[(&str, Option<&str>, &str, &str)] = &[
    ("get", Some("GET"), "http.get", "http.Client.get"),
    ("post", Some("POST"), "http.post", "http.Client.post"),
    ("put", Some("PUT"), "http.put", "http.Client.put"),
    ("patch", Some("PATCH"), "http.patch", "http.Client.patch"),
    (
        "delete",
        Some("DELETE"),
        "http.delete",
        "http.Client.delete",
    ),
    ("head", Some("HEAD"), "http.head", "http.Client.head"),
    ("request", None, "http.request", "http.Client.request"),
];

/// The client's members of the `http` module.
pub fn members() -> Vec<(&'static str, Value)> {
    let default = Rc::new(ClientState::new(ClientConfig::default()));
    let mut members: Vec<(&'static str, Value)> = FUNCTIONS
        .iter()
        .map(|&(name, method, function, _)| {
            let state = default.clone();
            let native = NativeFunction::closure(function, move |vm, args| {
                request(vm, &state, method, args)
            });
            (name, native)
        })
        .collect();
    members.push(("Client", NativeFunction::value("http.Client", new_client)));
    members
}

/// http.Client(base_url=, timeout=, headers=, traced=, follow_redirects=, max_redirects=,
/// max_body=, ca_file=)
fn new_client(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let config = ClientConfig::parse(&args)?;
    Ok(NativeObject::value(Client(Rc::new(ClientState::new(
        config,
    )))))
}

/// A client's settings and connection pools.
struct ClientState {
    config: ClientConfig,
    transport: Transport,
}

impl ClientState {
    fn new(config: ClientConfig) -> ClientState {
        let transport = Transport::new(config.extra_roots.clone());
        ClientState { config, transport }
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
    args.allow_named(REQUEST_OPTIONS)?;
    let first = usize::from(method.is_none());
    args.expect_count(first + 1, first + 1)?;
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
    let state = state.clone();
    Ok(vm.suspend(async move {
        let redirects = Redirects {
            follow: state.config.follow_redirects,
            max: state.config.max_redirects,
        };
        let outcome = transport::exchange(&state.transport, redirects, prepared).await;
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

impl NativeType for Client {
    fn type_name(&self) -> &str {
        "http.Client"
    }

    fn get_attr(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
    ) -> Option<Result<Value, Fault>> {
        let config = &self.0.config;
        Some(Ok(match &*name.name() {
            "base_url" => config.base_url.as_deref().map_or(Value::Nil, Value::str),
            "timeout" => config.timeout.map_or(Value::Nil, |t| {
                Value::Duration(t.as_nanos().min(i64::MAX as u128) as i64)
            }),
            "ca_file" => config.ca_file.as_deref().map_or(Value::Nil, Value::str),
            "traced" => Value::Bool(config.traced),
            method if FUNCTIONS.iter().any(|f| f.0 == method) => return None,
            other => {
                return Some(Err(Fault::new(format!(
                    "http.Client has no attribute '{other}'"
                ))))
            }
        }))
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        let name = name.name();
        let &(_, method, _, function) = FUNCTIONS.iter().find(|f| f.0 == &*name)?;
        Some(request(vm, &self.0, method, Args { function, ..args }))
    }

    fn display(&self) -> String {
        match &self.0.config.base_url {
            Some(base) => format!("<http.Client {base}>"),
            None => "<http.Client>".to_string(),
        }
    }
}
