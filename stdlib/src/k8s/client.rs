//! `k8s.Client(config=, context=)`: a Kubernetes client on kube (rustls only). Without
//! arguments it is configured in-cluster (service-account token, CA, namespace,
//! `KUBERNETES_SERVICE_HOST`), else from `KUBECONFIG` / `~/.kube/config` with its current
//! context; `config=` names a kubeconfig file and `context=` one of its contexts. When nothing
//! works the fault says what was tried. The client's attributes are the APIs of the common
//! kinds (`client.pods`, `client.configmaps`, ...; resources.rs).

use std::rc::Rc;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::Scope;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use super::resources::{self, KINDS};

/// A client value.
pub struct Client(Rc<State>);

struct State {
    client: kube::Client,
    namespace: String,
    server: String,
}

impl Client {
    /// The API of the built-in kind whose attribute is `attribute`.
    fn kind(&self, attribute: &str) -> Value {
        match KINDS.iter().find(|k| k.attribute == attribute) {
            Some(kind) => resources::value(
                &self.0.client,
                &self.0.namespace,
                kind.api_resource(),
                kind.namespaced,
            ),
            None => Value::Nil,
        }
    }
}

impl Client {
    /// `client.resource(api_version, kind)`: discovery asks the server for the kind's plural
    /// name and scope; an unknown kind faults, naming it.
    fn resource(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        let api_version = args.str(0)?.to_string();
        let kind = args.str(1)?.to_string();
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group.to_string(), version.to_string()),
            None => (String::new(), api_version.clone()),
        };
        let gvk = GroupVersionKind::gvk(&group, &version, &kind);
        let state = self.0.clone();
        Ok(vm.suspend(async move {
            let (resource, capabilities) = kube::discovery::pinned_kind(&state.client, &gvk)
                .await
                .map_err(|e| {
                    Fault::new(format!(
                        "client.resource: the server has no kind {kind} in {api_version}: {e}"
                    ))
                })?;
            Ok(resources::value(
                &state.client,
                &state.namespace,
                resource,
                capabilities.scope == Scope::Namespaced,
            ))
        }))
    }
}

/// k8s.Client(config=nil, context=nil)
pub fn new(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = |key: &str| -> Result<Option<String>, Fault> {
        match args.named(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.as_str().to_string())),
            Some(other) => Err(args.wrong_type(usize::MAX, "str", other)),
        }
    };
    let path = text("config")?.map(|p| expand_home(&p));
    let context = text("context")?;
    Ok(vm.suspend(async move {
        let options = KubeConfigOptions {
            context: context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = match &path {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                    Fault::new(format!(
                        "k8s.Client: cannot read the kubeconfig {path}: {e}"
                    ))
                })?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| Fault::new(format!("k8s.Client: {path}: {e}")))?
            }
            None if context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| Fault::new(format!("k8s.Client: the kubeconfig: {e}")))?,
            None => match in_cluster() {
                Ok(config) => config,
                Err(in_cluster) => kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                    Fault::new(format!(
                        "k8s.Client: no Kubernetes configuration found: in-cluster: {in_cluster}; \
                         kubeconfig (KUBECONFIG, ~/.kube/config): {e}"
                    ))
                })?,
            },
        };
        let namespace = config.default_namespace.clone();
        let server = config.cluster_url.to_string();
        let client =
            kube::Client::try_from(config).map_err(|e| Fault::new(format!("k8s.Client: {e}")))?;
        Ok(NativeObject::value(Client(Rc::new(State {
            client,
            namespace,
            server,
        }))))
    }))
}

/// Where a pod's service-account files are mounted.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The in-cluster configuration: the API server from `KUBERNETES_SERVICE_HOST` and
/// `KUBERNETES_SERVICE_PORT`, and the service account's token (re-read as it rotates), CA and
/// namespace from its directory (`CN_K8S_SERVICE_ACCOUNT_DIR` names another, for tokens
/// projected elsewhere). The error says what is missing.
fn in_cluster() -> Result<kube::Config, String> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or("KUBERNETES_SERVICE_HOST is not set")?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    let dir =
        std::env::var("CN_K8S_SERVICE_ACCOUNT_DIR").unwrap_or_else(|_| SERVICE_ACCOUNT_DIR.into());
    let dir = std::path::Path::new(&dir);
    let token = dir.join("token");
    if !token.is_file() {
        return Err(format!("no service-account token at {}", token.display()));
    }
    let ca_file = dir.join("ca.crt");
    let ca = std::fs::read(&ca_file).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    let roots: Vec<Vec<u8>> = rustls_pemfile::certs(&mut ca.as_slice())
        .map(|cert| cert.map(|der| der.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", ca_file.display()))?;
    if roots.is_empty() {
        return Err(format!("{} holds no certificate", ca_file.display()));
    }
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let url = format!("https://{host}:{port}")
        .parse()
        .map_err(|e| format!("https://{host}:{port}: {e}"))?;
    let mut config = kube::Config::new(url);
    config.default_namespace = std::fs::read_to_string(dir.join("namespace"))
        .map(|ns| ns.trim().to_string())
        .unwrap_or_else(|_| "default".into());
    config.root_cert = Some(roots);
    config.auth_info.token_file = Some(token.to_string_lossy().into_owned());
    Ok(config)
}

/// `~/x` -> `$HOME/x`.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

type M = Member<Client>;

static CLIENT: Table<Client> = Table::new(
    "k8s.Client",
    "A Kubernetes client: `client.pods.list()`, `client.configmaps.create(..)`, ...",
    &[
        M::attribute("pods", |c, _| Ok(c.kind("pods")))
            .doc("pods\nThe pods API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("services", |c, _| Ok(c.kind("services")))
            .doc("services\nThe services API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("configmaps", |c, _| Ok(c.kind("configmaps")))
            .doc("configmaps\nThe configmaps API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("secrets", |c, _| Ok(c.kind("secrets")))
            .doc("secrets\nThe secrets API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("events", |c, _| Ok(c.kind("events")))
            .doc("events\nThe events API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("namespaces", |c, _| Ok(c.kind("namespaces")))
            .doc("namespaces\nThe namespaces API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("nodes", |c, _| Ok(c.kind("nodes")))
            .doc("nodes\nThe nodes API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("deployments", |c, _| Ok(c.kind("deployments")))
            .doc("deployments\nThe deployments API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("statefulsets", |c, _| Ok(c.kind("statefulsets")))
            .doc("statefulsets\nThe statefulsets API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("daemonsets", |c, _| Ok(c.kind("daemonsets")))
            .doc("daemonsets\nThe daemonsets API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("jobs", |c, _| Ok(c.kind("jobs")))
            .doc("jobs\nThe jobs API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::attribute("leases", |c, _| Ok(c.kind("leases")))
            .doc("leases\nThe leases API: list, get, create, replace, patch, apply, delete, watch, informer."),
        M::method("resource", |c, vm, args| c.resource(vm, &args))
            .doc("resource(api_version, kind)\nThe API of any kind, custom resources included, found by discovery (plural name, namespaced or cluster scope): `client.resource(\"example.com/v1\", \"Widget\")`.")
            .params(Params::exactly(2)),
        M::attribute("namespace", |c, _| Ok(Value::str(&*c.0.namespace)))
            .doc("namespace\nThe default namespace (the context's, or the pod's own in-cluster)."),
        M::attribute("server", |c, _| Ok(Value::str(&*c.0.server)))
            .doc("server\nThe API server's URL."),
    ],
);

impl NativeType for Client {
    fn type_name(&self) -> &str {
        "k8s.Client"
    }

    fn members(&self) -> &'static dyn Members {
        &CLIENT
    }

    fn display(&self) -> String {
        format!(
            "<k8s.Client {} namespace={}>",
            self.0.server, self.0.namespace
        )
    }
}
