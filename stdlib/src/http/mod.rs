//! `http`: a server with cloud-native defaults and a client, on hyper 1.x.
//!
//! Server side: `server` (configuration, routes, `run` and shutdown), `serve` (the accept loop and
//! the drain), `state` (what a server shares with its connections), `connection` (one
//! connection's protocol and timeouts), `prefixed`, `exchange` (one request), `observe` (access
//! log, server lines, metric labels), `router` (routes, each handler wrapped in the middleware
//! once), `request`, `response`, `headers`, `health`. Client side: `client`.

pub(crate) mod admission;
pub mod client;
mod connection;
pub(crate) mod deadline;
mod error;
mod exchange;
pub(crate) mod headers;
pub(crate) mod health;
mod observe;
mod prefixed;
mod request;
mod response;
mod router;
mod serve;
pub(crate) mod server;
pub(crate) mod state;

/// The status of an `http.Error` value (`Err(http.Error(503))` counts as transient to a retry).
pub(crate) fn error_status(value: &cn_runtime::Value) -> Option<u16> {
    match value {
        cn_runtime::Value::Object(object) => {
            object.downcast::<error::HttpError>().map(|e| e.status)
        }
        _ => None,
    }
}

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::object::NativeObject;
use cn_runtime::Vm;

/// The server side's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("Server", server::new_server)
        .doc("Server(addr=nil, body_limit=1048576, request_timeout=30.seconds, header_timeout=10.seconds, body_timeout=30.seconds, max_connections=, body_budget=, metrics_path=\"/metrics\", access_log=true, metrics=true, tracing=true)\nAn http server; `addr` nil means `:$PORT` (8080 when unset). Health, metrics, access logs and graceful shutdown are on by default; max_connections and body_budget (bytes of request bodies held at once) default to figures derived from the memory limit.")
        .params(Params::between(0, 1).keywords(&[
        "addr",
        "body_limit",
        "request_timeout",
        "header_timeout",
        "body_timeout",
        "max_connections",
        "body_budget",
        "metrics_path",
        "access_log",
        "metrics",
        "tracing",
    ])),
    Function::new("test_client", client::in_process::new_test_client)
        .doc("test_client(server, headers=, timeout=, traced=)\nAn http.Client whose requests go to `server`'s routes in this process, without a socket: middleware, /healthz, /readyz and /metrics included. Redirects are returned, not followed; nothing is retried.")
        .params(client::in_process::TEST_CLIENT_PARAMS),
    Function::new("Error", error::new_error)
        .doc("Error(status, message=nil)\nAn error a handler answers with: a 4xx or 5xx status; the message defaults to the reason phrase.")
        .params(Params::between(1, 2).keywords(&["status", "message"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("An http server with cloud-native defaults, and an http client.")
        .functions(FUNCTIONS)
        .value(
            "Response",
            "Response\nMakes responses: `json(value)`, `text(s)`, `html(s)`, `bytes(data)`, `status(code)`, `redirect(url)`.",
            NativeObject::value(response::ResponseType),
        );
    client::add_functions(m);
}
