//! Tracing settings from the standard OpenTelemetry environment variables, read once per
//! process: the sampler, and whether and where spans are exported.
//!
//! Reading takes a lookup function rather than the process environment so tests can give
//! variables without touching the process (which other tests share).

use std::time::Duration;

use super::sampler::Sampler;

/// Everything tracing needs to know from the environment.
pub struct Config {
    /// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: Sampler,
    /// Where and how spans go; `None` when no endpoint is set (or export is turned off).
    pub export: Option<ExportConfig>,
    /// Problems with the settings, for one line each on stderr.
    pub warnings: Vec<String>,
}

/// The OTLP/HTTP exporter's settings.
#[derive(Debug, PartialEq)]
pub struct ExportConfig {
    /// The full URL spans are POSTed to.
    pub url: hyper::Uri,
    /// Extra request headers (`OTEL_EXPORTER_OTLP_HEADERS`), such as an API key.
    pub headers: Vec<(String, String)>,
    /// How long one export request may take.
    pub timeout: Duration,
    /// How long finished spans wait to be sent with others (`OTEL_BSP_SCHEDULE_DELAY`).
    pub delay: Duration,
    /// Spans kept waiting at most; more are dropped and counted (`OTEL_BSP_MAX_QUEUE_SIZE`).
    pub max_queue: usize,
    /// Spans per request at most (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
    pub max_batch: usize,
    /// Resource attributes: `service.name` first, then `OTEL_RESOURCE_ATTRIBUTES`.
    pub resource: Vec<(String, String)>,
}

/// The service name when neither `OTEL_SERVICE_NAME` nor a script name gives one (the
/// specification's `unknown_service:<process name>`).
pub const UNKNOWN_SERVICE: &str = "unknown_service:cn";

/// Reads the settings through `var`; `script` is the running script's file stem, the default
/// service name.
pub fn from_env(var: impl Fn(&str) -> Option<String>, script: Option<&str>) -> Config {
    // Empty variables count as unset, as the specification asks.
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let mut warnings = Vec::new();
    let (sampler, warning) = Sampler::from_env(
        var("OTEL_TRACES_SAMPLER").as_deref(),
        var("OTEL_TRACES_SAMPLER_ARG").as_deref(),
    );
    warnings.extend(warning);
    let export = export_config(&var, script, &mut warnings);
    Config {
        sampler,
        export,
        warnings,
    }
}

fn export_config(
    var: &impl Fn(&str) -> Option<String>,
    script: Option<&str>,
    warnings: &mut Vec<String>,
) -> Option<ExportConfig> {
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return None;
    }
    match var("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase()) {
        None => {}
        Some(exporter) if exporter == "otlp" => {}
        Some(exporter) if exporter == "none" => return None,
        Some(other) => warnings.push(format!(
            "OTEL_TRACES_EXPORTER={other} is not supported; spans go out over OTLP"
        )),
    }
    let url = match var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        Some(url) => url.trim().to_string(),
        None => {
            let base = var("OTEL_EXPORTER_OTLP_ENDPOINT")?;
            format!("{}/v1/traces", base.trim().trim_end_matches('/'))
        }
    };
    let url = match url.parse::<hyper::Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => {
            uri
        }
        _ => {
            warnings.push(format!(
                "the OTLP endpoint {url:?} is not an http(s) URL; spans are not exported"
            ));
            return None;
        }
    };
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(protocol) = var(name) {
            if protocol.trim() != "http/protobuf" {
                warnings.push(format!(
                    "{name}={protocol} is not supported; spans go out as http/protobuf"
                ));
            }
            break;
        }
    }
    let mut headers = pairs(var("OTEL_EXPORTER_OTLP_HEADERS").as_deref(), warnings);
    for (key, value) in pairs(
        var("OTEL_EXPORTER_OTLP_TRACES_HEADERS").as_deref(),
        warnings,
    ) {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        headers.push((key, value));
    }
    let millis = |name: &str, default: u64, warnings: &mut Vec<String>| {
        Duration::from_millis(number(var(name), name, default, warnings))
    };
    let timeout = match var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
        Some(_) => millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 10_000, warnings),
        None => millis("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000, warnings),
    };
    let delay = millis("OTEL_BSP_SCHEDULE_DELAY", 5_000, warnings);
    let max_queue = number(
        var("OTEL_BSP_MAX_QUEUE_SIZE"),
        "OTEL_BSP_MAX_QUEUE_SIZE",
        2048,
        warnings,
    )
    .max(1) as usize;
    let max_batch = number(
        var("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        512,
        warnings,
    )
    .clamp(1, max_queue as u64) as usize;
    let service = var("OTEL_SERVICE_NAME")
        .or_else(|| script.map(str::to_string))
        .unwrap_or_else(|| UNKNOWN_SERVICE.to_string());
    let mut resource = vec![("service.name".to_string(), service)];
    for (key, value) in pairs(var("OTEL_RESOURCE_ATTRIBUTES").as_deref(), warnings) {
        if key != "service.name" || var("OTEL_SERVICE_NAME").is_none() {
            resource.retain(|(k, _)| *k != key);
            resource.push((key, value));
        }
    }
    Some(ExportConfig {
        url,
        headers,
        timeout,
        delay,
        max_queue,
        max_batch,
        resource,
    })
}

/// A non-negative integer setting, or `default` with a warning.
fn number(value: Option<String>, name: &str, default: u64, warnings: &mut Vec<String>) -> u64 {
    let Some(value) = value else {
        return default;
    };
    value.trim().parse().unwrap_or_else(|_| {
        warnings.push(format!(
            "{name}={value} is not a whole number; using {default}"
        ));
        default
    })
}

/// `key=value,key2=value2` with percent-encoded values (the W3C Baggage form the specification
/// uses for headers and resource attributes).
fn pairs(text: Option<&str>, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for item in text.unwrap_or("").split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match item.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                out.push((key.trim().to_string(), crate::percent::decode(value.trim())));
            }
            _ => warnings.push(format!("ignoring {item:?}: expected key=value")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::sampler::Root;

    fn read(vars: &[(&str, &str)], script: Option<&str>) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            script,
        )
    }

    #[test]
    fn nothing_set_means_no_export_and_the_default_sampler() {
        let config = read(&[], Some("app"));
        assert!(config.export.is_none());
        assert_eq!(config.sampler, Sampler::ParentBased(Root::AlwaysOn));
        assert!(config.warnings.is_empty());
        assert!(read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")], None)
            .export
            .is_none());
    }

    #[test]
    fn endpoint_gets_the_traces_path_and_defaults() {
        let config = read(
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")],
            None,
        );
        let export = config.export.expect("export");
        assert_eq!(export.url, "http://collector:4318/v1/traces");
        assert_eq!(export.delay, Duration::from_secs(5));
        assert_eq!((export.max_queue, export.max_batch), (2048, 512));
        assert_eq!(export.timeout, Duration::from_secs(10));
        assert_eq!(
            export.resource[0],
            ("service.name".into(), UNKNOWN_SERVICE.into())
        );
    }

    #[test]
    fn traces_endpoint_is_used_as_is() {
        let config = read(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://ignored:4318"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "https://x.example/custom",
                ),
            ],
            Some("app"),
        );
        let export = config.export.expect("export");
        assert_eq!(export.url, "https://x.example/custom");
        assert_eq!(export.resource[0].1, "app");
    }

    #[test]
    fn bad_endpoint_or_disabled_sdk_exports_nothing() {
        let config = read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")], None);
        assert!(config.export.is_none());
        assert_eq!(config.warnings.len(), 1);
        let disabled = read(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_SDK_DISABLED", "TRUE"),
            ],
            None,
        );
        assert!(disabled.export.is_none());
        let none = read(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_TRACES_EXPORTER", "none"),
            ],
            None,
        );
        assert!(none.export.is_none());
    }

    #[test]
    fn batch_settings_headers_and_resource_are_read() {
        let config = read(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_BSP_SCHEDULE_DELAY", "100"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x=1"),
                ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X=2"),
                ("OTEL_SERVICE_NAME", "orders"),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.name=no,k8s.pod.name=p-1,bad",
                ),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ],
            Some("app"),
        );
        let export = config.export.expect("export");
        assert_eq!(export.delay, Duration::from_millis(100));
        assert_eq!((export.max_queue, export.max_batch), (10, 10));
        assert_eq!(
            export.headers,
            vec![("api-key".into(), "a b".into()), ("X".into(), "2".into())]
        );
        assert_eq!(
            export.resource,
            vec![
                ("service.name".into(), "orders".into()),
                ("k8s.pod.name".into(), "p-1".into())
            ]
        );
        assert_eq!(config.warnings.len(), 2, "{:?}", config.warnings);
    }
}
