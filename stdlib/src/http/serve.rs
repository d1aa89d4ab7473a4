//! Serving: the accept loop and the shutdown sequence of `server.run()`. Each accepted socket
//! becomes a local task (`connection`), and each request on it is answered by `exchange`.
//!
//! At `max_connections` the loop asks the connection idle the longest to close before it
//! accepts again, so silent or idle clients cannot keep a kubelet's probes out; a failed accept
//! (out of file descriptors) is counted, logged at most once per interval, and retried after a
//! growing pause instead of in a spin.
//!
//! Everything runs on the interpreter thread: hyper parses on the same `LocalSet` the script
//! tasks run on, so a request reaches its handler without crossing threads.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use cn_runtime::tasks::{Lifecycle, VmRef};

use super::connection::{connection, Phase, Tracked};
use super::observe::{server_line, server_step};
use super::state::ServerState;
use crate::log::Field;

/// The first pause after a failed accept; it doubles up to [`ACCEPT_BACKOFF_MAX`] while
/// accepting keeps failing (out of file descriptors, say), as Go's server does, rather than
/// spinning on the error.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one log line about failing accepts per this long; the metric counts every one.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Open connections, so the drain knows when it is done and `max_connections` can make room.
#[derive(Default)]
struct Connections {
    open: RefCell<HashMap<u64, Rc<Tracked>>>,
    next_id: Cell<u64>,
    closed: Notify,
}

impl Connections {
    fn count(&self) -> usize {
        self.open.borrow().len()
    }

    fn add(self: &Rc<Self>, tracked: Rc<Tracked>) -> ConnectionGuard {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.open.borrow_mut().insert(id, tracked);
        ConnectionGuard(self.clone(), id)
    }

    /// Asks the connection idle the longest to close, as Go and Envoy do at their connection
    /// limit, so a full server still answers its probes. Returns whether there was one.
    fn evict_idlest(&self) -> bool {
        let open = self.open.borrow();
        let idlest = open
            .values()
            .filter_map(|c| c.idle_since().map(|since| (since, c)))
            .min_by_key(|(since, _)| *since);
        match idlest {
            Some((_, tracked)) => {
                tracked.evict();
                true
            }
            None => false,
        }
    }
}

/// Forgets a connection when it ends, however it ends.
struct ConnectionGuard(Rc<Connections>, u64);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open.borrow_mut().remove(&self.1);
        self.0.closed.notify_waiters();
    }
}

/// Failed accepts since the last line about them.
struct AcceptFailures {
    backoff: Duration,
    unreported: u64,
    last_line: Option<Instant>,
}

impl AcceptFailures {
    fn new() -> AcceptFailures {
        AcceptFailures {
            backoff: ACCEPT_BACKOFF_MIN,
            unreported: 0,
            last_line: None,
        }
    }

    /// Counts a failure, logs it if no line went out lately, and returns how long to pause.
    fn failed(
        &mut self,
        vm: &VmRef,
        state: &ServerState,
        error: &std::io::Error,
        open: usize,
    ) -> Duration {
        state.metrics.accept_failed();
        self.unreported += 1;
        let now = Instant::now();
        if self
            .last_line
            .is_none_or(|at| now.duration_since(at) >= ACCEPT_LOG_INTERVAL)
        {
            let message = error.to_string();
            crate::log::emit(
                &vm.borrow(),
                crate::log::Level::Warn,
                "http server: accepting a connection failed; backing off",
                &[
                    ("error", Field::Str(&message)),
                    ("failures", Field::Int(self.unreported as i64)),
                    ("open_connections", Field::Int(open as i64)),
                ],
            );
            self.unreported = 0;
            self.last_line = Some(now);
        }
        let pause = self.backoff;
        self.backoff = (self.backoff * 2).min(ACCEPT_BACKOFF_MAX);
        pause
    }

    fn succeeded(&mut self) {
        self.backoff = ACCEPT_BACKOFF_MIN;
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
    let (phase, phases) = watch::channel(Phase::Serving);
    state.health.serving.set(true);
    // 1-2: serve until shutdown starts, then keep serving through the propagation delay, telling
    // keep-alive clients to reconnect (to a pod that is not going away).
    let stop = async {
        lifecycle.wait_for_stop().await;
        state.health.draining.set(true);
        let _ = phase.send(Phase::Stopping);
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
    let mut failures = AcceptFailures::new();
    'serving: loop {
        while connections.count() >= state.limits.max_connections {
            connections.evict_idlest();
            tokio::select! {
                _ = connections.closed.notified() => {}
                _ = &mut stop => break 'serving,
            }
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break 'serving,
        };
        match accepted {
            Ok((stream, remote)) => {
                failures.succeeded();
                let _ = stream.set_nodelay(true);
                let tracked = Rc::new(Tracked::new(Instant::now()));
                let guard = connections.add(tracked.clone());
                let conn = connection(
                    vm.clone(),
                    state.clone(),
                    stream,
                    remote,
                    tracked,
                    phases.clone(),
                );
                tokio::task::spawn_local(async move {
                    conn.await;
                    drop(guard);
                });
            }
            Err(error) => {
                // Out of file descriptors, most likely: an idle connection gives one back.
                connections.evict_idlest();
                let pause = failures.failed(&vm, &state, &error, connections.count());
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = &mut stop => break 'serving,
                }
            }
        }
    }
    // 3: stop accepting; ask every connection to finish its current exchange.
    drop(listener);
    let started = Instant::now();
    let _ = phase.send(Phase::Draining);
    server_line(
        &vm,
        "shutdown: listener closed; draining connections",
        &[
            ("connections", Field::Int(connections.count() as i64)),
            ("timeout_s", Field::Float(timeout.as_secs_f64())),
        ],
    );
    let drained = tokio::time::timeout(timeout, async {
        while connections.count() > 0 {
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
            &[("connections", Field::Int(connections.count() as i64))],
        );
    }
    drained
}
