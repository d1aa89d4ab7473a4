//! The process-wide registry: every family a script or the runtime created, by name.
//!
//! There is one per process, as in the other Prometheus clients, so a metric created in any
//! module (or twice, by code that runs twice) is the same metric and every `/metrics` endpoint
//! shows all of them. Registering a name again returns the existing family when the definition
//! is identical and fails, saying what differs, otherwise. The names of the automatic metrics
//! (http, process and resilience) are reserved from the start, whether or not a server ever runs, so a
//! script cannot take a name the runtime needs later.
//!
//! Everything runs on the interpreter thread, so the lock is never contended; it is a `Mutex`
//! because prometheus-client's collector API requires `Send + Sync`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::family::{Definition, Family, Kind};
use super::{app, controller, http, names, process, resilience, sql};

struct Registry {
    /// Families by exposed name; a `BTreeMap` so expositions list them sorted, like the Go client.
    families: BTreeMap<String, Arc<Family>>,
    /// Every name some family occupies (see [`names::claimed_names`]), mapped to that family's
    /// name; automatic metrics are here from the start.
    claimed: HashMap<String, String>,
}

/// The runtime's own families: their names are reserved from the start.
fn automatic_names() -> impl Iterator<Item = &'static (&'static str, Kind)> {
    http::NAMES
        .iter()
        .chain(process::NAMES.iter())
        .chain(resilience::NAMES.iter())
        .chain(controller::NAMES.iter())
        .chain(app::NAMES.iter())
        .chain(sql::NAMES.iter())
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    let mut claimed = HashMap::new();
    for (name, kind) in automatic_names() {
        for claim in names::claimed_names(name, *kind) {
            claimed.insert(claim, name.to_string());
        }
    }
    Mutex::new(Registry {
        families: BTreeMap::new(),
        claimed,
    })
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The help text of the family registered as `name`, if there is one.
pub(crate) fn help_of(name: &str) -> Option<String> {
    registry()
        .families
        .get(name)
        .map(|family| family.definition.help.clone())
}

/// Registers a script's family, or returns the existing one with an identical definition.
pub(crate) fn register(definition: Definition) -> Result<Arc<Family>, String> {
    definition.check()?;
    let mut registry = registry();
    let claims = names::claimed_names(&definition.name, definition.kind);
    // Reserved first: a script never gets the runtime's own families, even identical ones.
    for claim in &claims {
        if let Some(owner) = registry
            .claimed
            .get(claim)
            .filter(|owner| is_automatic(owner))
        {
            let what = if *owner == definition.name {
                "it".to_string()
            } else {
                format!("{owner:?}")
            };
            return Err(format!(
                "{:?} is reserved: cn exports {what} automatically",
                definition.name
            ));
        }
    }
    if let Some(existing) = registry.families.get(&definition.name) {
        return match existing.definition.difference(&definition) {
            None => Ok(existing.clone()),
            Some(difference) => Err(format!(
                "{:?} is already registered {difference}; a metric can be created again only \
                 with the same definition",
                definition.name
            )),
        };
    }
    for claim in &claims {
        if let Some(owner) = registry.claimed.get(claim) {
            return Err(format!(
                "{:?} clashes with the existing metric {owner:?}: both would expose {claim:?}",
                definition.name
            ));
        }
    }
    Ok(insert(&mut registry, definition))
}

fn is_automatic(name: &str) -> bool {
    automatic_names().any(|(n, _)| *n == name)
}

/// One of the runtime's own families, `name` of `kind` from a `NAMES` table, registered on first
/// use (histograms get the default buckets).
pub(crate) fn automatic(name: &str, kind: Kind, help: &str, labels: &[&str]) -> Arc<Family> {
    register_automatic(Definition {
        name: name.into(),
        help: help.into(),
        kind,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        buckets: match kind {
            Kind::Histogram => super::family::DEFAULT_BUCKETS.to_vec(),
            _ => Vec::new(),
        },
    })
}

/// Registers (or finds) one of the runtime's own families, whose names are reserved; never fails.
pub(crate) fn register_automatic(definition: Definition) -> Arc<Family> {
    let mut registry = registry();
    match registry.families.get(&definition.name) {
        Some(existing) => existing.clone(),
        None => insert(&mut registry, definition),
    }
}

fn insert(registry: &mut Registry, definition: Definition) -> Arc<Family> {
    for claim in names::claimed_names(&definition.name, definition.kind) {
        registry.claimed.insert(claim, definition.name.clone());
    }
    let name = definition.name.clone();
    let family = Arc::new(Family::new(definition));
    registry.families.insert(name, family.clone());
    family
}

/// Every registered family, sorted by name.
pub(crate) fn families() -> Vec<Arc<Family>> {
    registry().families.values().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::Kind;

    fn definition(name: &str, kind: Kind, labels: &[&str]) -> Definition {
        Definition {
            name: name.into(),
            help: "help".into(),
            kind,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            buckets: if kind == Kind::Histogram {
                vec![1.0]
            } else {
                Vec::new()
            },
        }
    }

    #[test]
    fn registering_again_returns_the_same_family() {
        let a = register(definition("reg_same_total", Kind::Counter, &["x"])).expect("accepted");
        let b = register(definition("reg_same_total", Kind::Counter, &["x"])).expect("accepted");
        assert!(Arc::ptr_eq(&a, &b));
        let err =
            register(definition("reg_same_total", Kind::Counter, &["y"])).expect_err("rejected");
        assert!(
            err.contains("already registered with labels [\"x\"]"),
            "{err}"
        );
        assert!(families().iter().any(|f| Arc::ptr_eq(f, &a)));
    }

    #[test]
    fn sample_names_cannot_clash() {
        register(definition("reg_clash", Kind::Histogram, &[])).expect("accepted");
        let err = register(definition("reg_clash_count", Kind::Gauge, &[])).expect_err("rejected");
        assert!(
            err.contains("both would expose \"reg_clash_count\""),
            "{err}"
        );
        register(definition("reg_clash2_total", Kind::Counter, &[])).expect("accepted");
        let err = register(definition("reg_clash2", Kind::Gauge, &[])).expect_err("rejected");
        assert!(err.contains("clashes with the existing metric"), "{err}");
    }

    #[test]
    fn automatic_names_are_reserved() {
        for (name, kind) in [
            ("http_requests_total", Kind::Counter),
            ("process_open_fds", Kind::Gauge),
            ("http_request_duration_seconds_sum", Kind::Gauge),
        ] {
            let err = register(definition(name, kind, &[])).expect_err("rejected");
            assert!(err.contains("is reserved"), "{name}: {err}");
        }
    }
}
