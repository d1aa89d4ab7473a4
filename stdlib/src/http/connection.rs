//! One connection, from accept to close: the protocol is read off its first bytes (under the
//! header deadline), hyper serves HTTP/1.1 or h2c on it, and a watchdog closes it when it has
//! had no request in flight for `header_timeout`, when the accept loop needs its slot for a new
//! client, or when the server drains.
//!
//! Every phase of a connection has a bound, so no client can hold one open for nothing:
//! - before the first request: `header_timeout` from accept, whatever was sent (nothing, half
//!   an h2 preface, a whole preface and then silence);
//! - a request's head: hyper's `header_read_timeout`; its body: `body_timeout` (`exchange`);
//!   its handler: `request_timeout`;
//! - between requests: `header_timeout` again, for HTTP/1.1 and HTTP/2 alike; an HTTP/2 peer
//!   with streams open is also pinged, and dropped when it stops answering.
//!
//! Requests hyper rejects before they reach the server (a malformed head: 400, oversized: 431,
//! a request target over the URI limit: 414) are counted and logged here, since no handler
//! ever sees them.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

use cn_runtime::tasks::VmRef;

use super::exchange::{handle, record_rejected};
use super::prefixed::{read_opening, Opening, Prefixed, Protocol};
use super::state::ServerState;

/// How often an HTTP/2 connection with open streams pings its peer, and how long it waits for
/// the answer before dropping the connection (a client that vanished mid-request).
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an idle connection asked to close may take: HTTP/2 waits for its peer to
/// acknowledge the GOAWAY, which a silent peer never does. No stream is open, so cutting it
/// after this loses nothing.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Where the server is in its life, as its connections see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    /// The shutdown delay: still serving, but keep-alive clients are told to go elsewhere
    /// (`Connection: close` on HTTP/1.1, GOAWAY on HTTP/2).
    Stopping,
    /// The listener is closed: finish the exchange in progress, then close.
    Draining,
}

/// What the accept loop knows of one open connection.
pub struct Tracked {
    /// Requests being answered on it right now.
    in_flight: Cell<u32>,
    /// When it last had no request in flight (accept, or the end of its last exchange).
    idle_since: Cell<Instant>,
    /// Asked to close to make room for a new client.
    evicted: Cell<bool>,
    close: Notify,
}

impl Tracked {
    pub fn new(accepted: Instant) -> Tracked {
        Tracked {
            in_flight: Cell::new(0),
            idle_since: Cell::new(accepted),
            evicted: Cell::new(false),
            close: Notify::new(),
        }
    }

    /// Since when it has been idle, if it is and has not been asked to close already.
    pub fn idle_since(&self) -> Option<Instant> {
        (self.in_flight.get() == 0 && !self.evicted.get()).then(|| self.idle_since.get())
    }

    /// Asks the connection to close now that it is idle; it does so gracefully.
    pub fn evict(&self) {
        self.evicted.set(true);
        self.close.notify_one();
    }

    fn begin(self: &Rc<Self>) -> Busy {
        self.in_flight.set(self.in_flight.get() + 1);
        Busy(self.clone())
    }
}

/// One request in flight on a connection.
struct Busy(Rc<Tracked>);

impl Drop for Busy {
    fn drop(&mut self) {
        let tracked = &self.0;
        tracked.in_flight.set(tracked.in_flight.get() - 1);
        if tracked.in_flight.get() == 0 {
            tracked.idle_since.set(Instant::now());
        }
    }
}

/// Runs hyper's background futures (HTTP/2 streams) as local tasks.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        tokio::task::spawn_local(future);
    }
}

/// A connection of either protocol, as the watchdog drives it.
trait Served: Future<Output = hyper::Result<()>> {
    fn shut_down_gracefully(self: Pin<&mut Self>);
}

impl<I, S, B> Served for http1::Connection<I, S>
where
    http1::Connection<I, S>: Future<Output = hyper::Result<()>>,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn shut_down_gracefully(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, B, E> Served for http2::Connection<I, S, E>
where
    http2::Connection<I, S, E>: Future<Output = hyper::Result<()>>,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn shut_down_gracefully(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Serves one accepted connection until it closes.
pub async fn connection(
    vm: VmRef,
    state: Rc<ServerState>,
    mut stream: TcpStream,
    remote: SocketAddr,
    tracked: Rc<Tracked>,
    mut phase: watch::Receiver<Phase>,
) {
    // A connection accepted during the shutdown delay is served, not sent away at once.
    phase.borrow_and_update();
    let header_timeout = state.limits.header_timeout;
    let deadline = tracked.idle_since.get() + header_timeout;
    let opening = tokio::select! {
        opening = tokio::time::timeout_at(deadline.into(), read_opening(&mut stream)) => opening,
        _ = tracked.close.notified() => return,
        _ = phase.wait_for(|p| *p == Phase::Draining) => return,
    };
    let (protocol, prefix) = match opening {
        Ok(Opening::Speaks(protocol, prefix)) => (protocol, prefix),
        Ok(Opening::RequestLineTooLong) => {
            let answer =
                b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
            let _ = tokio::time::timeout(header_timeout, stream.write_all(answer)).await;
            record_rejected(&vm, &state, 414);
            return;
        }
        // Closed, or silent past the deadline: there was no request to answer.
        Ok(Opening::Closed) | Err(_) => return,
    };
    let service = {
        let (vm, state, tracked) = (vm.clone(), state.clone(), tracked.clone());
        service_fn(move |request| {
            let (vm, state, busy) = (vm.clone(), state.clone(), tracked.begin());
            async move {
                let response = handle(&vm, &state, remote, request).await;
                drop(busy);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let io = TokioIo::new(Prefixed::new(prefix, stream));
    let result = match protocol {
        Protocol::Http1 => {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .serve_connection(io, service);
            watch_over(conn, &tracked, &mut phase, protocol, header_timeout).await
        }
        Protocol::Http2 => {
            let conn = http2::Builder::new(LocalExec)
                .timer(TokioTimer::new())
                .keep_alive_interval(H2_PING_INTERVAL)
                .keep_alive_timeout(H2_PING_TIMEOUT)
                .serve_connection(io, service);
            watch_over(conn, &tracked, &mut phase, protocol, header_timeout).await
        }
    };
    if let Some(status) = result.err().as_ref().and_then(rejected_status) {
        record_rejected(&vm, &state, status);
    }
}

/// Drives a served connection until it ends, closing it gracefully when it has been idle for
/// `idle_limit`, when it is evicted, or when the server drains (an idle one at once, a busy one
/// after its exchange). HTTP/2 connections open when shutdown starts are sent GOAWAY at once.
async fn watch_over<C: Served>(
    conn: C,
    tracked: &Tracked,
    phase: &mut watch::Receiver<Phase>,
    protocol: Protocol,
    idle_limit: Duration,
) -> hyper::Result<()> {
    tokio::pin!(conn);
    let mut check_at = tracked.idle_since.get() + idle_limit;
    let mut told_to_go = false;
    let idle = loop {
        tokio::select! {
            result = conn.as_mut() => return result,
            _ = tracked.close.notified() => break true,
            changed = phase.changed() => {
                let now = changed.map_or(Phase::Draining, |()| *phase.borrow_and_update());
                match now {
                    Phase::Draining => break tracked.idle_since().is_some(),
                    Phase::Stopping if protocol == Protocol::Http2 && !told_to_go => {
                        told_to_go = true;
                        conn.as_mut().shut_down_gracefully();
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(check_at.into()) => {
                // Re-armed only when it fires: an exchange ending costs no timer update.
                match tracked.idle_since() {
                    Some(since) if since + idle_limit <= Instant::now() => break true,
                    Some(since) => check_at = since + idle_limit,
                    None => check_at = Instant::now() + idle_limit,
                }
            }
        }
    };
    if !told_to_go {
        conn.as_mut().shut_down_gracefully();
    }
    if !idle {
        // Draining: the exchange in progress finishes; the drain's own timeout bounds it.
        return conn.await;
    }
    // Idle: HTTP/1.1 closes at once, HTTP/2 after the GOAWAY exchange.
    tokio::time::timeout(CLOSE_GRACE, conn)
        .await
        .unwrap_or(Ok(()))
}

/// The status hyper answered a request it rejected with, if `error` is such a rejection.
fn rejected_status(error: &hyper::Error) -> Option<u16> {
    if !error.is_parse() || error.is_parse_version_h2() {
        return None;
    }
    if error.is_parse_too_large() {
        // hyper's two "too large" kinds differ only in their text.
        return Some(if error.to_string().contains("URI too long") {
            414
        } else {
            431
        });
    }
    Some(400)
}
