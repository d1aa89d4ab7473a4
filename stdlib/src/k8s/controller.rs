//! `k8s.controller(resources, reconcile=, owns=[...])`: the reconcile loop of an operator (seed
//! 001, section 1.3). The controller watches its kind and the kinds it owns (an owned object
//! leads back to its owner through a controller `ownerReference`), queues the key of every
//! object that changes (queue.rs: deduplicated, never two reconciles of one object at once),
//! and calls `reconcile(obj)` with the object as the cache holds it. The result decides what
//! follows: `nil`/`Ok(..)` is done, `Ok(k8s.requeue_after(d))` comes back after `d`, and an
//! `Err(..)` or a fault is retried with per-object exponential backoff under a global rate
//! limit, logged, and posted as a Warning Event on the object. With `leader_election=` only the
//! replica holding the Lease reconciles (lease.rs). `run()` goes on until shutdown, which lets
//! the reconciles in progress finish. Metrics: metrics/controller.rs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::json;

use cn_runtime::fault::FaultKind;
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::log::{self, Field, Level};
use crate::metrics::controller::ControllerMetrics;

use super::lease::{Election, DEFAULT_LEASE_DURATION};
use super::object::to_json;
use super::queue::Queue;
use super::resources::{Resources, State as Kind};
use super::watch::{self, Change, Seen};

/// A controller value.
pub struct Controller(Rc<Settings>);

struct Settings {
    name: String,
    primary: Rc<Kind>,
    owned: Vec<Rc<Kind>>,
    reconcile: Value,
    /// The Lease's name, when leader election is on.
    lease: Option<String>,
    lease_duration: Duration,
    workers: usize,
    running: Cell<bool>,
}

/// The kind API behind a `client.pods`-like value.
fn kind_of(value: &Value, what: &str) -> Result<Rc<Kind>, Fault> {
    match value {
        Value::Object(object) => match object.downcast::<Resources>() {
            Some(resources) => Ok(resources.0.clone()),
            None => Err(Fault::new(format!(
                "k8s.controller: {what} must be a kind's API (client.pods, client.resource(..)), got {}",
                object.type_name()
            ))),
        },
        other => Err(Fault::new(format!(
            "k8s.controller: {what} must be a kind's API (client.pods, client.resource(..)), got {}",
            other.type_name()
        ))),
    }
}

/// k8s.controller(resources, reconcile=, owns=[], name=, leader_election=false, lease_duration=15s, workers=1)
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let primary = kind_of(args.value(0)?, "the first argument")?;
    let reconcile = match args.named("reconcile") {
        Some(f) if f.is_callable() => f.clone(),
        Some(other) => return Err(args.wrong_type(usize::MAX, "function", other)),
        None => return Err(Fault::new("k8s.controller: reconcile= is required")),
    };
    let owned = match args.named("owns") {
        None | Some(Value::Nil) => Vec::new(),
        Some(Value::List(items)) => {
            let items = items.borrow();
            items
                .iter()
                .map(|v| kind_of(v, "each of owns="))
                .collect::<Result<_, _>>()?
        }
        Some(other) => return Err(args.wrong_type(usize::MAX, "list", other)),
    };
    let name = match args.named("name") {
        Some(Value::Str(s)) => s.as_str().to_string(),
        None | Some(Value::Nil) => primary.resource.plural.clone(),
        Some(other) => return Err(args.wrong_type(usize::MAX, "str", other)),
    };
    let lease = match args.named("leader_election") {
        None | Some(Value::Nil) | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(format!("{name}-controller")),
        Some(Value::Str(s)) => Some(s.as_str().to_string()),
        Some(other) => return Err(args.wrong_type(usize::MAX, "bool or lease name", other)),
    };
    let lease_duration = match args.named("lease_duration") {
        None | Some(Value::Nil) => DEFAULT_LEASE_DURATION,
        Some(Value::Duration(nanos)) if *nanos >= 1_000_000_000 => {
            Duration::from_nanos(nanos.unsigned_abs())
        }
        Some(other) => {
            return Err(Fault::new(format!(
                "k8s.controller: lease_duration must be a duration of at least 1s, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let workers = match args.named("workers") {
        None | Some(Value::Nil) => 1,
        Some(Value::Int(n)) if (1..=64).contains(n) => *n as usize,
        Some(other) => {
            return Err(Fault::new(format!(
                "k8s.controller: workers must be 1 to 64, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    Ok(NativeObject::value(Controller(Rc::new(Settings {
        name,
        primary,
        owned,
        reconcile,
        lease,
        lease_duration,
        workers,
        running: Cell::new(false),
    }))))
}

type M = Member<Controller>;

static CONTROLLER: Table<Controller> = Table::new(
    "k8s.Controller",
    "A reconcile loop over one kind and the kinds it owns.",
    &[
        M::attribute("name", |c, _| Ok(Value::str(c.0.name.clone())))
            .doc("name\nThe controller's name (metrics, logs, events, the default lease)."),
        M::method("run", |c, vm, _args| {
            if c.0.running.replace(true) {
                return Err(Fault::new("controller.run: this controller is already running"));
            }
            let run = Run {
                settings: c.0.clone(),
                vm: vm.handle(),
                lifecycle: vm.lifecycle.clone(),
                metrics: Rc::new(ControllerMetrics::new(&c.0.name)),
            };
            Ok(vm.suspend(async move { Ok(run.run().await) }))
        })
        .doc("run()\nWatches and reconciles until shutdown; the reconciles in progress finish first.")
        .params(Params::exactly(0)),
    ],
);

impl NativeType for Controller {
    fn type_name(&self) -> &str {
        "k8s.Controller"
    }

    fn members(&self) -> &'static dyn Members {
        &CONTROLLER
    }

    fn display(&self) -> String {
        format!("<k8s.Controller {}>", self.0.name)
    }
}

/// One run of a controller.
struct Run {
    settings: Rc<Settings>,
    vm: VmRef,
    lifecycle: Rc<Lifecycle>,
    metrics: Rc<ControllerMetrics>,
}

/// How a reconcile ended.
enum Outcome {
    Done,
    Requeue(Duration),
    Failed(String),
}

impl Run {
    fn log(&self, level: Level, message: &str, fields: &[(&str, Field<'_>)]) {
        if let Ok(vm) = self.vm.try_borrow() {
            let mut all = vec![("controller", Field::Str(&self.settings.name))];
            all.extend_from_slice(fields);
            log::emit(&vm, level, message, &all);
        }
    }

    async fn run(self) -> Value {
        // Like a server, a running controller holds shutdown back until it has finished.
        let _waiter = self.lifecycle.register_waiter();
        let settings = self.settings.clone();
        let election = settings.lease.as_ref().map(|lease| {
            let api = Api::namespaced_with(
                settings.primary.client.clone(),
                &settings.primary.namespace,
                &super::resources::lease_resource(),
            );
            Election::new(api, lease, settings.lease_duration)
        });
        self.log(Level::Info, "controller started", &[]);
        loop {
            let Some(election) = &election else {
                self.metrics.leader.set(1.0);
                self.serve().await;
                break;
            };
            let identity = election.identity.clone();
            self.log(
                Level::Info,
                "waiting for leadership",
                &[("identity", Field::Str(&identity))],
            );
            tokio::select! {
                biased;
                _ = self.lifecycle.wait_for_stop() => break,
                _ = election.acquire() => {}
            }
            self.metrics.leader.set(1.0);
            self.log(
                Level::Info,
                "leading",
                &[("identity", Field::Str(&identity))],
            );
            let lost = tokio::select! {
                _ = self.serve() => false,
                _ = election.keep() => true,
            };
            self.metrics.leader.set(0.0);
            if !lost {
                election.release().await;
                break;
            }
            self.log(Level::Error, "lost leadership; reconciling stopped", &[]);
        }
        self.metrics.leader.set(0.0);
        self.log(Level::Info, "controller stopped", &[]);
        self.settings.running.set(false);
        Value::Nil
    }

    /// Watches and reconciles until shutdown; returns once the reconciles in progress are done.
    async fn serve(&self) {
        let queue = Queue::default();
        let cache = Rc::new(RefCell::new(Seen::default()));
        let primary = self.watch_primary(&queue, &cache);
        let owned = join_all(
            self.settings
                .owned
                .iter()
                .map(|kind| self.watch_owned(kind, &queue)),
        );
        let workers = join_all((0..self.settings.workers).map(|_| self.work(&queue, &cache)));
        tokio::join!(primary, owned, workers);
    }

    async fn watch_primary(&self, queue: &Queue, cache: &RefCell<Seen>) {
        let kind = &self.settings.primary;
        let mut events = watch::events(kind.api(None), None, None);
        let plural = &kind.resource.plural;
        while let Some(event) =
            watch::next_event(&mut events, &self.vm, plural, &self.lifecycle).await
        {
            for change in cache.borrow_mut().apply(event) {
                queue.add(&key(&change));
            }
            self.metrics.queue_depth.set(queue.depth() as f64);
        }
    }

    /// Queues the owner of every owned object that changes.
    async fn watch_owned(&self, kind: &Kind, queue: &Queue) {
        let owner = &self.settings.primary.resource;
        let mut seen = Seen::default();
        let mut events = watch::events(kind.api(None), None, None);
        let plural = &kind.resource.plural;
        while let Some(event) =
            watch::next_event(&mut events, &self.vm, plural, &self.lifecycle).await
        {
            for change in seen.apply(event) {
                let object = change_object(&change);
                let Ok(json) = to_json(object) else { continue };
                let namespace = json["metadata"]["namespace"].as_str().unwrap_or("");
                let owners = json["metadata"]["ownerReferences"].as_array().cloned();
                for reference in owners.into_iter().flatten() {
                    if reference["controller"] == json!(true)
                        && reference["kind"] == json!(owner.kind)
                        && reference["apiVersion"] == json!(owner.api_version)
                    {
                        let name = reference["name"].as_str().unwrap_or("");
                        queue.add(&format!("{namespace}/{name}"));
                    }
                }
            }
            self.metrics.queue_depth.set(queue.depth() as f64);
        }
    }

    /// One worker: reconciles keys one at a time until shutdown.
    async fn work(&self, queue: &Queue, cache: &RefCell<Seen>) {
        loop {
            let key = tokio::select! {
                biased;
                _ = self.lifecycle.wait_for_stop() => return,
                key = queue.next() => key,
            };
            self.metrics.queue_depth.set(queue.depth() as f64);
            let (namespace, name) = key.split_once('/').unwrap_or(("", &key));
            // Gone from the cache: deleted, and nothing held it back (finalizers do).
            let Some(object) = cache.borrow().get(namespace, name) else {
                queue.forget(&key);
                queue.done(&key);
                continue;
            };
            let started = Instant::now();
            let outcome = self.reconcile(object.clone()).await;
            let seconds = started.elapsed().as_secs_f64();
            match outcome {
                Outcome::Done => {
                    self.metrics.reconciled("success", seconds);
                    queue.forget(&key);
                }
                Outcome::Requeue(delay) => {
                    self.metrics.reconciled("requeue", seconds);
                    queue.forget(&key);
                    queue.add_after(&key, delay);
                }
                Outcome::Failed(message) => {
                    self.metrics.reconciled("error", seconds);
                    let delay = queue.failure_delay(&key);
                    let retry = format!("{delay:?}");
                    self.log(
                        Level::Warn,
                        "reconcile failed",
                        &[
                            ("object", Field::Str(&key)),
                            ("error", Field::Str(&message)),
                            ("retry_in", Field::Str(&retry)),
                        ],
                    );
                    self.post_event(&object, &message);
                    queue.add_after(&key, delay);
                }
            }
            queue.done(&key);
        }
    }

    /// Calls the script's reconcile and reads what it returned.
    async fn reconcile(&self, object: Value) -> Outcome {
        let call = match self.vm.try_borrow_mut() {
            Ok(mut vm) => vm.start_callback(self.settings.reconcile.clone(), vec![object]),
            Err(_) => return Outcome::Failed("internal error: the VM is busy".into()),
        };
        match call.result().await {
            Ok(value) => outcome(&value),
            Err(fault) if fault.kind == FaultKind::Error => {
                if let Ok(mut vm) = self.vm.try_borrow_mut() {
                    vm.flush();
                }
                eprint!("{}", fault.report());
                eprintln!(
                    "note: raised by the reconcile of k8s controller {}",
                    self.settings.name
                );
                Outcome::Failed(fault.message.clone())
            }
            // Cancelled at shutdown or by lost leadership: nothing to retry here.
            Err(_) => Outcome::Done,
        }
    }

    /// A Warning Event on `object` saying why its reconcile failed (`kubectl describe` shows it).
    fn post_event(&self, object: &Value, message: &str) {
        let Ok(json) = to_json(object) else { return };
        let namespace = json["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = json["metadata"]["name"].as_str().unwrap_or("");
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": format!("{name}."), "namespace": namespace},
            "involvedObject": {
                "apiVersion": json["apiVersion"], "kind": json["kind"], "name": name,
                "namespace": namespace, "uid": json["metadata"]["uid"],
                "resourceVersion": json["metadata"]["resourceVersion"],
            },
            "reason": "ReconcileFailed",
            "message": message,
            "type": "Warning",
            "source": {"component": self.settings.name},
            "reportingComponent": self.settings.name,
            "count": 1,
        });
        let Ok(event) = serde_json::from_value::<DynamicObject>(event) else {
            return;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(
            self.settings.primary.client.clone(),
            namespace,
            &super::resources::event_resource(),
        );
        tokio::task::spawn_local(async move {
            let _ = api.create(&PostParams::default(), &event).await;
        });
    }
}

/// `namespace/name` of a change's object.
fn key(change: &Change) -> String {
    let Ok(json) = to_json(change_object(change)) else {
        return String::new();
    };
    format!(
        "{}/{}",
        json["metadata"]["namespace"].as_str().unwrap_or(""),
        json["metadata"]["name"].as_str().unwrap_or("")
    )
}

fn change_object(change: &Change) -> &Value {
    match change {
        Change::Added(object) | Change::Deleted(object) => object,
        Change::Modified { new, .. } => new,
    }
}

/// What a reconcile's return value asks for.
fn outcome(value: &Value) -> Outcome {
    match value {
        Value::Variant(variant) if variant.is_err() => Outcome::Failed(
            variant
                .payload
                .first()
                .map(cn_runtime::format::display)
                .unwrap_or_default(),
        ),
        Value::Variant(variant) if variant.is_ok() => {
            variant.payload.first().map_or(Outcome::Done, outcome)
        }
        Value::Variant(variant) if variant.name.name() == "RequeueAfter" => {
            match variant.payload.first() {
                Some(Value::Duration(nanos)) => {
                    Outcome::Requeue(Duration::from_nanos((*nanos).max(0).unsigned_abs()))
                }
                _ => Outcome::Done,
            }
        }
        _ => Outcome::Done,
    }
}

/// k8s.requeue_after(d): what a reconcile returns (in `Ok`) to be called again after `d`.
pub fn requeue_after(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    match args.value(0)? {
        Value::Duration(d) => Ok(cn_runtime::object::Variant::value(
            "k8s",
            "RequeueAfter",
            vec![Value::Duration(*d)],
        )),
        other => Err(args.wrong_type(0, "duration", other)),
    }
}
