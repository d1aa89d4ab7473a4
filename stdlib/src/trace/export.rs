//! The batch exporter: ended spans wait in a bounded queue and a background local task sends
//! them to the collector over OTLP/HTTP, off every request's path.
//!
//! A batch goes out when `OTEL_BSP_SCHEDULE_DELAY` has passed or a full batch is waiting; the
//! lifecycle finalizer drains everything at exit (bounded by the lifecycle's timeout). Spans
//! beyond the queue's size are dropped and counted. A failed export drops its batch and prints
//! one warning per streak of failures: tracing never faults a script, never blocks it, and never
//! keeps the process alive (the worker is not a script task; the run ends without it).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::Request;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use tokio::sync::Notify;

use super::config::ExportConfig;
use super::otlp;
use super::span::FinishedSpan;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The queue and its worker.
pub struct Exporter {
    config: ExportConfig,
    resource: RefCell<otlp::Resource>,
    queue: RefCell<Vec<FinishedSpan>>,
    /// Spans dropped because the queue was full, not yet reported.
    dropped: Cell<u64>,
    /// Wakes the worker early: a full batch is waiting, or the run is ending.
    wake: Notify,
    closing: Cell<bool>,
    /// Signalled (with a stored permit) once the worker has drained the queue and stopped.
    drained: Notify,
    /// Whether the last export failed (a warning is printed once per streak).
    failing: Cell<bool>,
    client: RefCell<Option<Result<HttpClient, String>>>,
}

impl Exporter {
    /// An exporter for `config` with its worker started. Must be called inside the runtime's
    /// `LocalSet` (any script task is): the worker is a local task. It starts here rather than
    /// with the first span because spans may also end while futures are dropped, where no task
    /// can be spawned.
    pub fn start(config: ExportConfig) -> Rc<Exporter> {
        let exporter = Rc::new(Exporter::new(config));
        tokio::task::spawn_local(exporter.clone().work());
        exporter
    }

    fn new(config: ExportConfig) -> Exporter {
        let resource = otlp::resource(&config.resource);
        Exporter {
            config,
            resource: RefCell::new(resource),
            queue: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
            wake: Notify::new(),
            closing: Cell::new(false),
            drained: Notify::new(),
            failing: Cell::new(false),
            client: RefCell::new(None),
        }
    }

    /// Replaces the resource later batches describe (an application named itself).
    pub fn set_resource(&self, attributes: &[(String, String)]) {
        *self.resource.borrow_mut() = otlp::resource(attributes);
    }

    /// Queues an ended span (or drops and counts it when the queue is full).
    pub fn push(&self, span: FinishedSpan) {
        let mut queue = self.queue.borrow_mut();
        if queue.len() >= self.config.max_queue {
            self.dropped.set(self.dropped.get() + 1);
            return;
        }
        queue.push(span);
        if queue.len() == self.config.max_batch {
            self.wake.notify_one();
        }
    }

    /// Sends everything still queued and stops the worker: the lifecycle finalizer.
    pub async fn shut_down(&self) {
        self.closing.set(true);
        self.wake.notify_one();
        self.drained.notified().await;
    }

    /// The worker: waits for the schedule delay or a wake-up, then sends every queued span in
    /// batches; after `shut_down` it drains the queue and ends.
    async fn work(self: Rc<Self>) {
        loop {
            if !self.closing.get() {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.delay) => {}
                    _ = self.wake.notified() => {}
                }
            }
            loop {
                let batch: Vec<FinishedSpan> = {
                    let mut queue = self.queue.borrow_mut();
                    let n = queue.len().min(self.config.max_batch);
                    queue.drain(..n).collect()
                };
                if batch.is_empty() {
                    break;
                }
                self.send(&batch).await;
            }
            self.report_dropped();
            if self.closing.get() {
                self.drained.notify_one();
                return;
            }
        }
    }

    /// POSTs one batch; failures are reported, never raised.
    async fn send(&self, batch: &[FinishedSpan]) {
        let body = otlp::encode(&self.resource.borrow(), batch);
        let outcome = match self.request(body).and_then(|r| Ok((r, self.client()?))) {
            Ok((request, client)) => {
                let exchange = async move {
                    let response = client.request(request).await.map_err(|e| error_text(&e))?;
                    let status = response.status();
                    // Reading the answer lets the connection go back to the pool.
                    let _ = response.into_body().collect().await;
                    if status.is_success() {
                        Ok(())
                    } else {
                        Err(format!("the collector answered {status}"))
                    }
                };
                match tokio::time::timeout(self.config.timeout, exchange).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "no answer within {} ms",
                        self.config.timeout.as_millis()
                    )),
                }
            }
            Err(message) => Err(message),
        };
        match outcome {
            Ok(()) => self.failing.set(false),
            Err(message) => {
                if !self.failing.replace(true) {
                    eprintln!(
                        "cn: tracing: cannot export {} span{} to {}: {message} (spans are \
                         dropped until an export succeeds)",
                        batch.len(),
                        if batch.len() == 1 { "" } else { "s" },
                        self.config.url
                    );
                }
            }
        }
    }

    fn request(&self, body: Vec<u8>) -> Result<Request<Full<Bytes>>, String> {
        let mut request = Request::post(self.config.url.clone())
            .header(CONTENT_TYPE, "application/x-protobuf")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        for (key, value) in &self.config.headers {
            let name = HeaderName::from_bytes(key.as_bytes());
            let value = HeaderValue::from_str(value);
            match (name, value) {
                (Ok(name), Ok(value)) => {
                    request.headers_mut().append(name, value);
                }
                _ => return Err(format!("the export header {key:?} is not a valid header")),
            }
        }
        Ok(request)
    }

    /// The pooled client, built on first use (TLS roots are loaded only for an https endpoint).
    fn client(&self) -> Result<HttpClient, String> {
        self.client
            .borrow_mut()
            .get_or_insert_with(|| build_client(self.config.url.scheme_str() == Some("https")))
            .clone()
    }

    fn report_dropped(&self) {
        let dropped = self.dropped.replace(0);
        if dropped > 0 {
            eprintln!(
                "cn: tracing: dropped {dropped} span{}: more than {} were waiting for export \
                 (OTEL_BSP_MAX_QUEUE_SIZE)",
                if dropped == 1 { "" } else { "s" },
                self.config.max_queue
            );
        }
    }
}

/// A pooled client over plain TCP or TLS; the system's roots (webpki's when it has none) are
/// trusted for an https endpoint.
fn build_client(https: bool) -> Result<HttpClient, String> {
    let mut roots = RootCertStore::empty();
    if https {
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// A connection error with its cause (hyper's own message is just "client error (Connect)").
fn error_text(error: &hyper_util::client::legacy::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
