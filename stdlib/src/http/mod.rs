//! `http`: a server with cloud-native defaults and a client, on hyper 1.x.
//!
//! Server side: `server` (configuration, routes, `run` and shutdown), `serve` (the accept loop and
//! the drain), `connection` (one connection's protocol and timeouts), `prefixed`, `exchange` (one request), `observe` (access log, server lines, metric labels),
//! `router`, `request`, `response`, `headers`, `health`. Client side: `client`.

pub mod client;
mod connection;
mod error;
mod exchange;
mod headers;
mod health;
mod observe;
mod prefixed;
mod request;
mod response;
mod router;
mod serve;
mod server;

use cn_runtime::object::{NativeFunction, NativeObject};
use cn_runtime::{Value, Vm};

/// The module's members.
pub fn members(_vm: &mut Vm) -> Vec<(&'static str, Value)> {
    let mut members = vec![
        (
            "Server",
            NativeFunction::value("http.Server", server::new_server),
        ),
        ("Response", NativeObject::value(response::ResponseType)),
        (
            "Error",
            NativeFunction::value("http.Error", error::new_error),
        ),
    ];
    members.extend(client::members());
    members
}
