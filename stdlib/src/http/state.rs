//! What a server shares with its connections and requests: its configuration, routes, health
//! registry and metrics. `server` makes it, `serve`, `connection` and `exchange` read it.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use cn_runtime::Value;

use super::health::HealthRegistry;
use super::router::Router;
use crate::metrics::HttpMetrics;

/// Limits that protect the server.
pub struct Limits {
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// Bounds the wait for a request's head, and how long a connection may sit idle.
    pub header_timeout: Duration,
    /// Bounds the reading of a request's body.
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// Everything a server shares with its connections.
pub struct ServerState {
    /// The address as given (`":8080"`).
    pub addr: String,
    /// Where to listen: a host name or IP (empty: every interface) and a port.
    pub bind: (String, u16),
    /// Routes, each with its handler already wrapped in the middleware.
    pub router: RefCell<Router>,
    /// `server.use(..)` functions, first registered outermost.
    pub middleware: RefCell<Vec<Value>>,
    pub health: Rc<HealthRegistry>,
    pub limits: Limits,
    pub local_addr: Cell<Option<SocketAddr>>,
    pub running: Cell<bool>,
    /// The automatic RED metrics.
    pub metrics: HttpMetrics,
    /// Where the metrics exposition is served, if anywhere.
    pub metrics_path: Option<Rc<str>>,
    /// Whether each request writes an access-log line.
    pub access_log: bool,
    /// Whether each request counts in the RED metrics.
    pub record_metrics: bool,
    /// Whether each request gets a server span (and trace ids in its context and log lines).
    pub tracing: bool,
    /// The rate and concurrency limits (`server.rate_limit`, `server.concurrency_limit`).
    pub admission: super::admission::Admission,
    /// Bytes of request bodies held at once, at most (`body_budget=`).
    pub body_budget: Rc<BodyBudget>,
}

/// The memory request bodies may take together: each body being read or handled holds a
/// reservation of its declared length (the whole `body_limit` when it is chunked) until its
/// exchange ends. `body_limit` alone bounds one request; this bounds many at once, which is
/// what runs a container out of memory.
pub struct BodyBudget {
    total: usize,
    in_use: Cell<usize>,
}

impl BodyBudget {
    pub fn new(total: usize) -> BodyBudget {
        BodyBudget {
            total,
            in_use: Cell::new(0),
        }
    }

    /// Reserves `bytes`, or `None` when the budget has not that much left.
    pub fn reserve(self: &Rc<Self>, bytes: usize) -> Option<BodyReservation> {
        let in_use = self.in_use.get();
        if bytes > self.total.saturating_sub(in_use) {
            return None;
        }
        self.in_use.set(in_use + bytes);
        Some(BodyReservation(self.clone(), bytes))
    }
}

/// Bytes of the budget held until dropped.
pub struct BodyReservation(Rc<BodyBudget>, usize);

impl Drop for BodyReservation {
    fn drop(&mut self) {
        self.0
            .in_use
            .set(self.0.in_use.get().saturating_sub(self.1));
    }
}
