//! `http.Server`: configuration, routes and middleware, and `run()` with the shutdown sequence.
//!
//! `http.Server(addr=nil, body_limit=1 MiB, request_timeout=30 s, header_timeout=10 s,
//! body_timeout=30 s, max_connections=, body_budget=, metrics_path="/metrics", access_log=true,
//! metrics=true, tracing=true)`. `max_connections` and `body_budget` (bytes of request bodies
//! held at once) default to figures derived from the memory limit (runtime/defaults.rs).
//! `addr` is `":8080"` (all interfaces), `"127.0.0.1:0"` (any free port), or nil for `":$PORT"`
//! (8080 when `PORT` is unset). `metrics_path=nil` serves no metrics (another server, an admin
//! port, can: every server exposes the same process-wide registry). `access_log`, `metrics` and
//! `tracing` switch off the access-log line, the RED metrics and the server span of each request;
//! all three on is the default, off is for a server whose requests nobody should see (an admin
//! port) and for measuring what observability costs.
//!
//! `server.run(shutdown_delay=, shutdown_timeout=30.seconds)` serves until the process starts
//! shutting down (SIGTERM/SIGINT, `exit`), then, in the order Kubernetes needs:
//! 1. `/readyz` answers 503 at once;
//! 2. the server keeps serving for `shutdown_delay` (default 5 s inside Kubernetes, 0
//!    elsewhere) so that endpoint controllers stop sending traffic;
//! 3. the listener closes; in-flight requests finish, and keep-alive connections close after
//!    their current response;
//! 4. after `shutdown_timeout` whatever is left is cut and the exit status becomes 1;
//! 5. `run()` returns; `main` ends and the lifecycle runs the shutdown hooks.
//!
//! Each step is logged with its duration.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::{Args, Fault, Value, Vm};

use super::health::{HealthHandle, HealthRegistry};
use super::observe::server_line;
use super::router::Router;
use super::serve;
use super::state::{BodyBudget, Limits, ServerState};
use crate::log::Field;
use crate::metrics::HttpMetrics;
use crate::time::duration_option;

/// The script-visible server.
pub struct Server(pub Rc<ServerState>);

/// `http.Server(...)`.
pub fn new_server(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (addr, bind) = match args.get_or_named(0, "addr") {
        None | Some(Value::Nil) => {
            let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
            let bind = parse_addr(&format!(":{port}")).map_err(|_| {
                Fault::new(format!(
                    "http.Server: PORT={port:?} in the environment is not a port number (0-65535)"
                ))
            })?;
            (format!(":{port}"), bind)
        }
        Some(Value::Str(s)) => (
            s.to_string(),
            parse_addr(s).map_err(|e| Fault::new(format!("http.Server: {e}")))?,
        ),
        Some(other) => return Err(args.wrong_type(0, "str", other)),
    };
    let positive = |name: &str, default: usize| -> Result<usize, Fault> {
        match args.named(name) {
            None => Ok(default),
            Some(Value::Int(n)) if *n > 0 => Ok(*n as usize),
            Some(other) => Err(Fault::new(format!(
                "http.Server: {name} must be a positive int, got {}",
                cn_runtime::format::repr(other)
            ))),
        }
    };
    let body_limit = positive("body_limit", 1 << 20)?;
    let limits = Limits {
        body_limit,
        request_timeout: duration_option(
            &args,
            usize::MAX,
            "request_timeout",
            Duration::from_secs(30),
        )?,
        header_timeout: duration_option(
            &args,
            usize::MAX,
            "header_timeout",
            Duration::from_secs(10),
        )?,
        body_timeout: duration_option(&args, usize::MAX, "body_timeout", Duration::from_secs(30))?,
        max_connections: positive(
            "max_connections",
            crate::runtime::defaults::max_connections(),
        )?,
    };
    let body_budget = positive(
        "body_budget",
        crate::runtime::defaults::body_budget(body_limit),
    )?;
    if body_budget < body_limit {
        return Err(Fault::new(format!(
            "http.Server: body_budget ({body_budget}) is smaller than body_limit ({body_limit}): no body at the limit could ever be read"
        )));
    }
    let metrics_path = match args.named("metrics_path") {
        None => Some("/metrics".into()),
        Some(Value::Nil) => None,
        Some(Value::Str(path)) if path.starts_with('/') => Some(path.as_str().into()),
        Some(other) => {
            return Err(Fault::new(format!(
                "http.Server: metrics_path must be a path starting with / or nil, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let switch = |name: &str| -> Result<bool, Fault> {
        match args.named(name) {
            None => Ok(true),
            Some(Value::Bool(on)) => Ok(*on),
            Some(other) => Err(Fault::new(format!(
                "http.Server: {name} must be true or false, got {}",
                cn_runtime::format::repr(other)
            ))),
        }
    };
    Ok(NativeObject::value(Server(Rc::new(ServerState {
        addr,
        bind,
        router: RefCell::new(Router::default()),
        middleware: RefCell::new(Vec::new()),
        health: Rc::new(HealthRegistry::default()),
        limits,
        local_addr: Cell::new(None),
        running: Cell::new(false),
        metrics: HttpMetrics::new(),
        metrics_path,
        access_log: switch("access_log")?,
        record_metrics: switch("metrics")?,
        tracing: switch("tracing")?,
        admission: Default::default(),
        body_budget: Rc::new(BodyBudget::new(body_budget)),
    }))))
}

type M = Member<Server>;

/// What `http.Server(..)` returns.
static SERVER: Table<Server> = Table::new(
    "http.Server",
    "An http server with health checks, metrics, access logs and graceful shutdown built in.",
    &[
        M::method("route", |s, _, args| s.route(&args))
            .doc("route(method, pattern, handler)\nServes `method` requests whose path matches `pattern` (`/users/{id}`) with `handler(req)`.")
            .params(Params::exactly(3)),
        M::method("use", |s, _, args| {
            let middleware = args.value(0)?.clone();
            if !middleware.is_callable() {
                return Err(args.wrong_type(0, "function", &middleware));
            }
            s.0.middleware.borrow_mut().push(middleware);
            s.0.router.borrow_mut().rewrap(&s.0.middleware.borrow());
            Ok(Value::Nil)
        })
        .doc("use(middleware)\nAdds `middleware(req, next)` around every handler; the first added runs outermost.")
        .params(Params::exactly(1)),
        M::method("on_shutdown", |_, vm, args| {
            let hook = args.value(0)?.clone();
            if !hook.is_callable() {
                return Err(args.wrong_type(0, "function", &hook));
            }
            vm.lifecycle.hooks.borrow_mut().push(hook.clone());
            Ok(hook)
        })
        .doc("on_shutdown(f)\nRuns `f()` once the server has drained, at shutdown; returns `f` (a decorator).")
        .params(Params::exactly(1)),
        M::method("rate_limit", |s, _, args| {
            let limit = super::admission::parse_rate(
                args.value(0)?,
                args.get_or_named(1, "burst"),
                args.named("per"),
                args.named("key"),
            )?;
            *s.0.admission.rate.borrow_mut() = Some(limit);
            Ok(Value::Nil)
        })
        .doc("rate_limit(rate, burst=rate, key=nil, per=1.second)\nAt most `rate` requests per `per` (`burst` at once) reach the handlers, per `key(req)` when given; the rest get 429 with Retry-After. Health and metrics endpoints are not limited.")
        .params(Params::between(1, 2).keywords(&["burst", "key", "per"])),
        M::method("concurrency_limit", |s, _, args| {
            match args.value(0)? {
                Value::Int(n) if *n >= 1 => s.0.admission.max_in_flight.set(Some(*n as usize)),
                Value::Nil => s.0.admission.max_in_flight.set(None),
                other => {
                    return Err(Fault::new(format!(
                        "http.Server.concurrency_limit: the limit must be an int of at least 1 or nil, got {}",
                        cn_runtime::format::repr(other)
                    )))
                }
            }
            Ok(Value::Nil)
        })
        .doc("concurrency_limit(n)\nAt most `n` handlers run at once; further requests get 503 with Retry-After: 1 at once (load shedding). nil removes the limit.")
        .params(Params::exactly(1)),
        M::method("run", |s, vm, args| s.run(vm, &args))
            .doc("run(shutdown_delay=, shutdown_timeout=30.seconds)\nServes until shutdown starts, then drains: /readyz fails, traffic stops, in-flight requests finish.")
            .params(Params::NONE.keywords(&["shutdown_delay", "shutdown_timeout"])),
        M::attribute("health", |s, _| {
            Ok(NativeObject::value(HealthHandle(s.0.health.clone())))
        })
        .doc("health\nThe server's health checks: `add_check(name, f, kind=)`, `set_cache(d)`."),
        M::attribute("addr", |s, _| {
            Ok(match s.0.local_addr.get() {
                Some(addr) => Value::str(addr.to_string()),
                None => Value::str(&*s.0.addr),
            })
        })
        .doc("addr\nThe address listened on once running (the port chosen), else as given."),
        M::attribute("port", |s, _| {
            Ok(match s.0.local_addr.get() {
                Some(addr) => Value::Int(addr.port() as i64),
                None => Value::Nil,
            })
        })
        .doc("port\nThe port listened on once running, else nil."),
    ],
);

impl NativeType for Server {
    fn type_name(&self) -> &str {
        "http.Server"
    }

    fn members(&self) -> &'static dyn Members {
        &SERVER
    }

    fn display(&self) -> String {
        format!("<http.Server {}>", self.0.addr)
    }
}

impl Server {
    fn route(&self, args: &Args<'_>) -> Result<Value, Fault> {
        let handler = args.value(2)?.clone();
        if !handler.is_callable() {
            return Err(args.wrong_type(2, "function", &handler));
        }
        self.0
            .router
            .borrow_mut()
            .add(
                args.str(0)?,
                args.str(1)?,
                handler,
                &self.0.middleware.borrow(),
            )
            .map_err(|e| Fault::new(format!("server.route: {e}")))?;
        Ok(Value::Nil)
    }

    fn run(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        let shutdown = Shutdown::from_args(args, "shutdown_timeout")?;
        if crate::describe::active() {
            // `cn build` asks what would be served; nothing is bound.
            self.describe(&shutdown, Duration::ZERO);
            return Ok(Value::Nil);
        }
        let listening = self.listen()?;
        let handle = vm.handle();
        let lifecycle = vm.lifecycle.clone();
        let main_waits = lifecycle.main_waits(vm.current_task());
        Ok(vm.suspend(async move {
            let _main_waits = main_waits;
            let _waiter = lifecycle.register_waiter();
            listening.announce(&handle);
            if !listening.serve(handle, &lifecycle, shutdown).await {
                lifecycle.set_exit_status(1);
            }
            Ok(Value::Nil)
        }))
    }

    /// Records the server for `cn build`'s describe run; `extra` is shutdown time spent after
    /// the drain (an application's shutdown hooks), which the grace period must cover too.
    pub(crate) fn describe(&self, shutdown: &Shutdown, extra: Duration) {
        crate::describe::server(&crate::describe::Server {
            addr: &self.0.addr,
            port: self.0.bind.1,
            metrics_path: self.0.metrics_path.as_deref(),
            shutdown_delay: shutdown.delay_given.then_some(shutdown.delay),
            shutdown_timeout: shutdown.timeout + extra,
        });
    }

    /// Binds the server's port; the server counts as running until its serving ends.
    pub(crate) fn listen(&self) -> Result<Listening, Fault> {
        if self.0.running.replace(true) {
            return Err(Fault::new("server.run: this server is already running"));
        }
        let (host, port) = &self.0.bind;
        let host: &str = if host.is_empty() { "0.0.0.0" } else { host };
        // A name (`localhost`) is resolved here; each of its addresses is tried in turn.
        let bound = std::net::TcpListener::bind((host, *port)).and_then(|listener| {
            listener.set_nonblocking(true)?;
            Ok(listener)
        });
        let listener = bound.map_err(|e| {
            self.0.running.set(false);
            Fault::new(format!("server.run: cannot listen on {}: {e}", self.0.addr))
        })?;
        self.0.local_addr.set(listener.local_addr().ok());
        Ok(Listening {
            state: self.0.clone(),
            listener: Some(listener),
        })
    }
}

/// How a server shuts down: the propagation delay and the drain's timeout.
#[derive(Clone)]
pub(crate) struct Shutdown {
    pub delay: Duration,
    /// Whether the delay was given (its default depends on where the process runs).
    pub delay_given: bool,
    pub timeout: Duration,
}

impl Shutdown {
    /// `shutdown_delay=` (default 5 s inside Kubernetes, 0 elsewhere) and the drain timeout
    /// under the keyword `timeout_name` (default 30 s).
    pub(crate) fn from_args(args: &Args<'_>, timeout_name: &str) -> Result<Shutdown, Fault> {
        let default_delay = Duration::from_secs(if crate::runtime::in_kubernetes() {
            5
        } else {
            0
        });
        Ok(Shutdown {
            delay: duration_option(args, usize::MAX, "shutdown_delay", default_delay)?,
            delay_given: args.named("shutdown_delay").is_some(),
            timeout: duration_option(args, usize::MAX, timeout_name, Duration::from_secs(30))?,
        })
    }
}

/// A server whose port is bound, about to serve.
/// Dropped (served or not), the server may run again.
pub(crate) struct Listening {
    pub state: Rc<ServerState>,
    listener: Option<std::net::TcpListener>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.state.running.set(false);
        self.state.health.draining.set(false);
        self.state.health.serving.set(false);
        self.state.health.ready_held.set(false);
    }
}

impl Listening {
    /// The "http server listening" line (and, for the first server, the resource limits).
    pub(crate) fn announce(&self, vm: &VmRef) {
        let url = format!(
            "http://{}",
            self.state
                .local_addr
                .get()
                .map_or(self.state.addr.clone(), |a| a.to_string())
        );
        server_line(vm, "http server listening", &[("url", Field::Str(&url))]);
        crate::runtime::announce_limits(vm);
    }

    /// Serves until shutdown starts, then drains (serve.rs); false when the drain timed out.
    /// The server may run again afterwards (a REPL entry interrupted with Ctrl-C).
    pub(crate) async fn serve(
        mut self,
        vm: VmRef,
        lifecycle: &Rc<Lifecycle>,
        shutdown: Shutdown,
    ) -> bool {
        let state = self.state.clone();
        let listener = self.listener.take().map(tokio::net::TcpListener::from_std);
        match listener {
            Some(Ok(listener)) => {
                serve::serve(
                    vm,
                    state.clone(),
                    listener,
                    lifecycle,
                    shutdown.delay,
                    shutdown.timeout,
                )
                .await
            }
            Some(Err(e)) => {
                server_line(
                    &vm,
                    "http server: cannot serve the bound socket",
                    &[("error", Field::Str(&e.to_string()))],
                );
                false
            }
            None => false,
        }
    }
}

/// `":8080"` (every interface), `"host:port"` with a name or an IPv4 address, `"[::1]:8080"`:
/// the host (empty for every interface) and the port.
fn parse_addr(addr: &str) -> Result<(String, u16), String> {
    let invalid = || {
        format!(
            "invalid address {addr:?} (expected \":8080\", \"localhost:8080\", \"127.0.0.1:8080\" \
             or \"[::1]:8080\")"
        )
    };
    let (host, port) = addr.rsplit_once(':').ok_or_else(invalid)?;
    let port: u16 = port.parse().map_err(|_| invalid())?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            v6.parse::<std::net::Ipv6Addr>().map_err(|_| invalid())?;
            v6
        }
        None => {
            let name_like = host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !name_like {
                return Err(invalid());
            }
            host
        }
    };
    Ok((host.to_string(), port))
}
