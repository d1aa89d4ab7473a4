//! `http.test_client(server)`: a client whose requests go straight to a server's request
//! handling, in this process, without a socket: routing, middleware, the built-in endpoints
//! (`/healthz`, `/readyz`, `/metrics`), body limits, request timeouts, access-log lines, metrics
//! and spans all happen as they would for a request off the network. It is an `http.Client` in
//! every other way (the same methods, keyword arguments and `http.Response` values), so a test
//! reads like the code that calls the service for real. Redirects come back as they are.

use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;

use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_LENGTH, HOST};
use hyper::{Method, Version};

use cn_runtime::native::Params;
use cn_runtime::object::NativeObject;
use cn_runtime::tasks::VmRef;
use cn_runtime::{Args, Fault, Value, Vm};

use super::options::ClientConfig;
use super::transport::{HttpError, Prepared, Received};
use super::{Client, ClientState, Target};
use crate::http::exchange;
use crate::http::server::Server;
use crate::http::state::ServerState;

/// What the handlers see as the client's address.
const REMOTE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// The keywords `http.test_client` takes.
pub(in crate::http) const TEST_CLIENT_PARAMS: Params =
    Params::exactly(1).keywords(&["headers", "timeout", "traced"]);

/// `http.test_client(server, headers=, timeout=, traced=)`.
pub(in crate::http) fn new_test_client(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let given = args.value(0)?;
    let server = match given {
        Value::Object(object) => object.downcast::<Server>().map(|s| s.0.clone()),
        _ => None,
    }
    .ok_or_else(|| args.wrong_type(0, "an http.Server", given))?;
    let mut config = ClientConfig::parse(&args)?;
    config.base_url = Some("http://localhost".into());
    // A test sees each answer as the server gave it: no retries of 503s, no redirects followed.
    config.retry = None;
    config.follow_redirects = false;
    // The client stands in for traffic to a started server, so the probes answer as for one.
    server.health.serving.set(true);
    Ok(NativeObject::value(Client(Rc::new(ClientState {
        config,
        target: Target::Server(server),
    }))))
}

/// Sends `request` to `server`'s request handling and reads the response.
pub(super) async fn exchange(
    vm: &VmRef,
    server: &Rc<ServerState>,
    request: Prepared,
) -> Result<Received, HttpError> {
    let what = format!("{} {}", request.method, request.uri);
    let path = request
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut headers = request.headers;
    if let Some(authority) = request.uri.authority() {
        if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            headers.entry(HOST).or_insert(host);
        }
    }
    if !request.body.is_empty() {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(request.body.len()));
    }
    let head = request.method == Method::HEAD;
    let mut built = hyper::Request::new(Full::new(request.body));
    *built.method_mut() = request.method;
    *built.version_mut() = Version::HTTP_11;
    *built.headers_mut() = headers;
    *built.uri_mut() = path
        .parse()
        .map_err(|e| HttpError::new("InvalidUrl", format!("{what}: {e}")))?;
    let answer = exchange::handle(vm, server, REMOTE, built);
    let response = match request.timeout {
        Some(limit) => tokio::time::timeout(limit, answer).await.map_err(|_| {
            HttpError::new("Timeout", format!("{what}: no response within {limit:?}"))
        })?,
        None => answer.await,
    };
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    if body.len() as u64 > request.max_body {
        return Err(HttpError::new(
            "BodyError",
            format!("{what}: the response body is larger than max_body"),
        ));
    }
    Ok(Received {
        status: parts.status,
        headers: parts.headers,
        url: request.uri.to_string(),
        // A HEAD response has no body on the wire either.
        body: if head { Default::default() } else { body },
    })
}
