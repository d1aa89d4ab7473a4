//! Health checks behind `/healthz` (liveness), `/readyz` (readiness) and `/startupz`.
//!
//! `server.health.add_check(name, f, timeout=1.second, kind="readiness")` registers a check;
//! `kind` is `"readiness"`, `"liveness"` or `"both"`. Readiness is the default because a check is
//! almost always of a dependency (a database, another service), and a failing liveness probe
//! makes the kubelet restart the container: a database outage would restart every pod, which
//! fixes nothing and adds a thundering herd when it comes back. Liveness is for the process
//! itself being stuck. A check passes only when `f()` returns `true`, `nil` or `Ok(_)`; anything
//! else (`false`, `Err(e)`, `0`, `"no"`), a fault, or running past its timeout (it is then
//! cancelled) fails it. All checks of a probe run at once, each as its own task, so one slow
//! dependency costs one timeout, not the sum; each reports its own duration. A result is reused for `cache` (default 1 s) so a
//! storm of probes cannot overload a dependency. `/readyz` is 503 before the server serves and
//! from the first moment of shutdown; `/startupz` is 200 once the server serves. Under an
//! `app.Application`, `/readyz` also waits for the `on_ready` hooks (`ready_held`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::NativeType;
use cn_runtime::tasks::Callback;
use cn_runtime::{Args, Fault, Value};

use crate::time::{duration_arg, duration_option};

/// Which probes a check belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Liveness,
    Readiness,
    Both,
}

/// A probe endpoint.
#[derive(Clone, Copy, PartialEq)]
pub enum Probe {
    Live,
    Ready,
    Startup,
}

#[derive(Clone)]
struct Outcome {
    ok: bool,
    status: &'static str,
    error: Option<String>,
    duration: Duration,
}

struct Check {
    name: String,
    func: Value,
    timeout: Duration,
    kind: Kind,
    cached: RefCell<Option<(Instant, Outcome)>>,
}

/// The checks of one server and its serving state.
pub struct HealthRegistry {
    checks: RefCell<Vec<Rc<Check>>>,
    cache: Cell<Duration>,
    /// The server is accepting requests (startup finished).
    pub serving: Cell<bool>,
    /// Shutdown has begun: readiness fails from now on.
    pub draining: Cell<bool>,
    /// Readiness waits for something besides serving: an application's `on_ready` hooks.
    pub ready_held: Cell<bool>,
}

impl Default for HealthRegistry {
    fn default() -> HealthRegistry {
        HealthRegistry {
            checks: RefCell::new(Vec::new()),
            cache: Cell::new(Duration::from_secs(1)),
            serving: Cell::new(false),
            draining: Cell::new(false),
            ready_held: Cell::new(false),
        }
    }
}

/// A probe's answer: status code and JSON body.
pub struct ProbeAnswer {
    pub status: u16,
    pub body: String,
}

impl HealthRegistry {
    /// Runs the checks `probe` needs and renders the answer.
    pub async fn probe(&self, vm: &cn_runtime::tasks::VmRef, probe: Probe) -> ProbeAnswer {
        let state = match probe {
            Probe::Startup if !self.serving.get() => Some("starting"),
            Probe::Startup => return answer(200, "ok", &[]),
            Probe::Ready if self.draining.get() => Some("draining"),
            Probe::Ready if !self.serving.get() || self.ready_held.get() => Some("starting"),
            _ => None,
        };
        if let Some(state) = state {
            return answer(503, state, &[]);
        }
        let wanted: Vec<Rc<Check>> = self
            .checks
            .borrow()
            .iter()
            .filter(|c| match probe {
                Probe::Live => c.kind != Kind::Readiness,
                _ => c.kind != Kind::Liveness,
            })
            .cloned()
            .collect();
        // Start every check that has no fresh result, then collect them all.
        let now = Instant::now();
        let fresh = |c: &Check| {
            c.cached
                .borrow()
                .as_ref()
                .filter(|(at, _)| now.duration_since(*at) < self.cache.get())
                .map(|(_, o)| o.clone())
        };
        let mut running: Vec<(Rc<Check>, Option<Callback>)> = Vec::new();
        for check in wanted {
            let callback = match fresh(&check) {
                Some(_) => None,
                None => Some(
                    vm.borrow_mut()
                        .start_callback(check.func.clone(), Vec::new()),
                ),
            };
            running.push((check, callback));
        }
        // Awaited together, so each check's duration ends when it does, not when the checks
        // before it in the list have.
        let outcomes = join_all(running.iter().map(|(check, callback)| {
            let fresh = &fresh;
            async move {
                match callback {
                    None => fresh(check).unwrap_or_else(|| failed("cache expired", Duration::ZERO)),
                    Some(callback) => {
                        let outcome = finish(callback, now, check.timeout).await;
                        *check.cached.borrow_mut() = Some((Instant::now(), outcome.clone()));
                        outcome
                    }
                }
            }
        }))
        .await;
        let results: Vec<(String, Outcome)> = running
            .iter()
            .map(|(check, _)| check.name.clone())
            .zip(outcomes)
            .collect();
        let ok = results.iter().all(|(_, o)| o.ok);
        answer(
            if ok { 200 } else { 503 },
            if ok { "ok" } else { "fail" },
            &results,
        )
    }
}

fn failed(error: &str, duration: Duration) -> Outcome {
    Outcome {
        ok: false,
        status: "fail",
        error: Some(error.to_string()),
        duration,
    }
}

/// Waits for one check until its deadline.
async fn finish(callback: &Callback, started: Instant, timeout: Duration) -> Outcome {
    let deadline = tokio::time::Instant::from_std(started + timeout);
    let result = tokio::select! {
        result = callback.result() => Some(result),
        _ = tokio::time::sleep_until(deadline) => None,
    };
    let duration = started.elapsed();
    match &result {
        None => {
            callback.task().cancel();
            Outcome {
                status: "timeout",
                ..failed(&format!("no answer within {timeout:?}"), duration)
            }
        }
        Some(Err(fault)) => failed(&fault.message, duration),
        Some(Ok(Value::Variant(v))) if v.is_err() => {
            let message = v.payload.first().map(cn_runtime::format::display);
            failed(&message.unwrap_or_default(), duration)
        }
        Some(Ok(Value::Bool(true) | Value::Nil)) => passed(duration),
        Some(Ok(Value::Variant(v))) if v.is_ok() => passed(duration),
        // `0`, `"no"`, a list: not a clear yes, so not one.
        Some(Ok(other)) => failed(
            &format!(
                "returned {}; a check passes with true, nil or Ok(...)",
                cn_runtime::format::repr(other)
            ),
            duration,
        ),
    }
}

fn passed(duration: Duration) -> Outcome {
    Outcome {
        ok: true,
        status: "ok",
        error: None,
        duration,
    }
}

/// Awaits every future at once; their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn answer(status: u16, state: &str, results: &[(String, Outcome)]) -> ProbeAnswer {
    let mut body = format!("{{\"status\":{}", serde_json::json!(state));
    body.push_str(",\"checks\":[");
    for (i, (name, outcome)) in results.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let mut entry = serde_json::json!({
            "name": name,
            "status": outcome.status,
            "duration_ms": (outcome.duration.as_secs_f64() * 1e6).round() / 1e3,
        });
        if let Some(error) = &outcome.error {
            entry["error"] = serde_json::json!(error);
        }
        body.push_str(&entry.to_string());
    }
    body.push(']');
    pools(&mut body);
    body.push('}');
    ProbeAnswer { status, body }
}

/// The database pools' numbers (`"pools":[...]`), so a saturated pool shows in the probe's
/// answer; `saturated` is every connection in use with tasks waiting for one.
fn pools(body: &mut String) {
    let pools = crate::sql::pool::all_stats();
    if pools.is_empty() {
        return;
    }
    body.push_str(",\"pools\":[");
    for (i, (name, stats)) in pools.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let entry = serde_json::json!({
            "name": name,
            "max": stats.max,
            "in_use": stats.in_use,
            "idle": stats.idle,
            "waiting": stats.waiting,
            "saturated": stats.in_use >= stats.max && stats.waiting > 0,
        });
        body.push_str(&entry.to_string());
    }
    body.push(']');
}

/// `server.health`.
pub struct HealthHandle(pub Rc<HealthRegistry>);

type M = Member<HealthHandle>;

/// `server.health`.
static HEALTH: Table<HealthHandle> = Table::new(
    "http.Health",
    "A server's health checks, which /readyz and /healthz run.",
    &[
        M::method("add_check", |h, _, args| h.add_check(&args))
            .doc("add_check(name, f, timeout=1.seconds, kind=\"readiness\")\nAdds check `f()` (true, nil or Ok passes) to /readyz, /healthz (`liveness`) or both.")
            .params(Params::between(2, 4).keywords(&["timeout", "kind"])),
        M::method("set_cache", |h, _, args| {
            h.0.cache.set(duration_arg(&args, 0)?);
            Ok(Value::Nil)
        })
        .doc("set_cache(d)\nReuses each check's result for `d` before running it again.")
        .params(Params::exactly(1)),
    ],
);

impl NativeType for HealthHandle {
    fn type_name(&self) -> &str {
        "http.Health"
    }

    fn members(&self) -> &'static dyn Members {
        &HEALTH
    }
}

impl HealthHandle {
    fn add_check(&self, args: &Args<'_>) -> Result<Value, Fault> {
        let name = args.str(0)?.to_string();
        let func = args.value(1)?.clone();
        if !func.is_callable() {
            return Err(args.wrong_type(1, "function", &func));
        }
        let timeout = duration_option(args, 2, "timeout", Duration::from_secs(1))?;
        let kind = match args.get_or_named(3, "kind").map(|v| v.as_str()) {
            None | Some(Some("readiness")) => Kind::Readiness,
            Some(Some("both")) => Kind::Both,
            Some(Some("liveness")) => Kind::Liveness,
            _ => {
                return Err(Fault::new(
                    "add_check: kind must be \"readiness\", \"liveness\" or \"both\"",
                ))
            }
        };
        let mut checks = self.0.checks.borrow_mut();
        if checks.iter().any(|c| c.name == name) {
            return Err(Fault::new(format!(
                "add_check: a check named {name:?} exists"
            )));
        }
        checks.push(Rc::new(Check {
            name,
            func,
            timeout,
            kind,
            cached: RefCell::new(None),
        }));
        Ok(Value::Nil)
    }
}
