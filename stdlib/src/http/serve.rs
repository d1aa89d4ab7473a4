//! Serving: the accept loop, one local task per connection (HTTP/1.1 with keep-alive, or h2c),
//! and the shutdown sequence of `server.run()`. Each request is answered by `exchange`.
//!
//! Everything runs on the interpreter thread: hyper parses on the same `LocalSet` the script
//! tasks run on, so a request reaches its handler without crossing threads.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{watch, Notify};

use cn_runtime::tasks::{Lifecycle, VmRef};

use super::exchange::handle;
use super::observe::{server_line, server_step};
use super::server::ServerState;
use crate::log::Field;

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

/// Open connections, so the drain knows when it is done and `max_connections` can hold accept.
#[derive(Default)]
struct Connections {
    open: Cell<usize>,
    closed: Notify,
}

/// Decrements the open count when a connection ends, however it ends.
struct ConnectionGuard(Rc<Connections>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open.set(self.0.open.get() - 1);
        self.0.closed.notify_waiters();
    }
}

/// Serves until shutdown, then drains. Returns whether every connection finished in time.
pub async fn serve(
    vm: VmRef,
    state: Rc<ServerState>,
    listener: tokio::net::TcpListener,
    lifecycle: &Rc<Lifecycle>,
    delay: Duration,
    timeout: Duration,
) -> bool {
    let connections = Rc::new(Connections::default());
    let (drain, draining) = watch::channel(false);
    state.health.serving.set(true);
    // 1-2: serve until shutdown starts, then keep serving through the propagation delay.
    let stop = async {
        lifecycle.wait_for_stop().await;
        state.health.draining.set(true);
        let started = Instant::now();
        server_line(
            &vm,
            "shutdown: /readyz now answers 503; serving on so endpoints update",
            &[("delay_s", Field::Float(delay.as_secs_f64()))],
        );
        tokio::time::sleep(delay).await;
        server_step(&vm, "shutdown: propagation delay over", started);
    };
    tokio::pin!(stop);
    loop {
        while connections.open.get() >= state.limits.max_connections {
            tokio::select! {
                _ = connections.closed.notified() => {}
                _ = &mut stop => break,
            }
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, remote)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.open.set(connections.open.get() + 1);
                let guard = ConnectionGuard(connections.clone());
                let conn = connection(vm.clone(), state.clone(), stream, remote, draining.clone());
                tokio::task::spawn_local(async move {
                    conn.await;
                    drop(guard);
                });
            }
            _ = &mut stop => break,
        }
    }
    // 3: stop accepting; ask every connection to finish its current exchange.
    drop(listener);
    let started = Instant::now();
    let _ = drain.send(true);
    server_line(
        &vm,
        "shutdown: listener closed; draining connections",
        &[
            ("connections", Field::Int(connections.open.get() as i64)),
            ("timeout_s", Field::Float(timeout.as_secs_f64())),
        ],
    );
    let drained = tokio::time::timeout(timeout, async {
        while connections.open.get() > 0 {
            connections.closed.notified().await;
        }
    })
    .await
    .is_ok();
    if drained {
        server_step(&vm, "shutdown: every connection finished", started);
    } else {
        server_line(
            &vm,
            "shutdown: drain timed out; cutting connections",
            &[("connections", Field::Int(connections.open.get() as i64))],
        );
    }
    drained
}

/// One connection: HTTP/1.1 or h2c, until the client leaves or the drain asks it to finish.
async fn connection(
    vm: VmRef,
    state: Rc<ServerState>,
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    mut draining: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(LocalExec);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.limits.header_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let service = service_fn(move |request| {
        let (vm, state) = (vm.clone(), state.clone());
        async move { Ok::<_, Infallible>(handle(&vm, &state, remote, request).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = draining.wait_for(|d| *d) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
