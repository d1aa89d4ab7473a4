//! `config.watch(cfg, callback, interval=1s)`: reload a configuration when its files change.
//!
//! The watcher polls rather than subscribing to inotify: a Kubernetes ConfigMap or Secret mount
//! changes by the kubelet writing a new timestamped folder, pointing a new `..data_tmp` symlink
//! at it and renaming that over `..data`, so the files a script named never change themselves —
//! only what their symlinks resolve to does, which inotify on the named path does not report.
//! Every `interval` the watcher takes a fingerprint of the `file=`, `secrets_file=` and
//! `secrets_dir=` the configuration was loaded with: for each path what it resolves to through
//! every symlink, and the modification time, size and inode of that target; for a secrets
//! directory also its `..data` link and every key in it. The environment is not watched: a
//! process's environment does not change from outside.
//!
//! When the fingerprint changes the configuration is loaded again exactly as `config.load` did
//! (same type, same options). If it loads and differs from the current one, `callback(new_cfg)`
//! runs as a task, and the watcher waits for it before looking again, so callbacks never
//! overlap; a reload that changes nothing (a file touched, another key of the same ConfigMap
//! updated) does not call it. If the new version has problems, the old configuration stays,
//! an error line `config reload failed` with the `problems` list is logged, and the callback is
//! not called; a later fix is picked up by the next change.
//!
//! `config.watch` returns a `config.Watcher` whose `stop()` ends the watching. The watcher
//! never keeps the process alive: it is a background future, not a task, and it ends when
//! shutdown starts.

use std::cell::Cell;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use cn_runtime::fault::FaultKind;
use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType, RecordType};
use cn_runtime::tasks::{Callback, Lifecycle, VmRef};
use cn_runtime::{Args, Fault, Value, Vm};

use super::loader::{load_record, loaded_with, LoadOptions};
use super::secret::Secret;
use crate::log::{self, Field, Level};
use crate::time::duration_option;

/// How often the files are looked at unless `interval=` says otherwise.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// config.watch(cfg, callback, interval=1.seconds): calls `callback(new_cfg)` whenever the files
/// `cfg` was loaded from change and the new version loads; returns a `config.Watcher` (`stop()`).
pub fn watch(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let cfg = args.value(0)?;
    let callback = args.value(1)?;
    if !callback.is_callable() {
        return Err(args.wrong_type(1, "a function", callback));
    }
    let interval = duration_option(&args, 2, "interval", DEFAULT_INTERVAL)?;
    if interval.is_zero() {
        return Err(Fault::new("config.watch: interval must be more than zero"));
    }
    let Some((ty, options)) = loaded_with(cfg) else {
        return Err(match cfg {
            Value::Record(record) => Fault::new(format!(
                "config.watch: this {} was not made by config.load or config.try_load, so \
                 there is nothing to reload it from",
                record.ty.name
            )),
            other => args.wrong_type(0, "a configuration from config.load", other),
        });
    };
    let watched = Watched::of(&options);
    if watched.is_empty() {
        return Err(Fault::new(
            "config.watch: the configuration was loaded without file=, secrets_file= or \
             secrets_dir=, so there is nothing to watch",
        ));
    }
    let state = Rc::new(State::default());
    let watcher = Watcher {
        vm: vm.handle(),
        lifecycle: vm.lifecycle.clone(),
        ty,
        options,
        callback: callback.clone(),
        current: cfg.clone(),
        interval,
        // No fingerprint yet: the first look loads the files and compares the result with
        // `cfg`, so a change made between `config.load` and `config.watch` is not missed (a
        // fingerprint taken here would already include it). An unchanged configuration calls
        // nothing.
        fingerprint: Vec::new(),
        watched,
        state: state.clone(),
    };
    tokio::task::spawn_local(watcher.run());
    Ok(NativeObject::value(Handle(state)))
}

/// What the watcher and its handle share.
#[derive(Default)]
struct State {
    stopped: Cell<bool>,
    stop: Notify,
}

/// The background loop of one `config.watch`.
struct Watcher {
    vm: VmRef,
    lifecycle: Rc<Lifecycle>,
    ty: Rc<RecordType>,
    options: LoadOptions,
    callback: Value,
    /// The configuration the callback last saw (at first, the one passed to `watch`).
    current: Value,
    interval: Duration,
    watched: Watched,
    fingerprint: Vec<Stamp>,
    state: Rc<State>,
}

impl Watcher {
    async fn run(mut self) {
        loop {
            tokio::select! {
                biased;
                _ = self.lifecycle.wait_for_stop() => return,
                _ = self.state.stop.notified() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
            let fingerprint = self.watched.fingerprint();
            if fingerprint == self.fingerprint {
                continue;
            }
            let Some(callback) = self.reload(fingerprint) else {
                continue;
            };
            // One reload at a time: the next change is looked at once the callback is done.
            // Its fault is reported here (a cancelled callback, at shutdown, is no fault).
            if let Err(fault) = callback.result().await {
                if fault.kind == FaultKind::Error {
                    if let Ok(mut vm) = self.vm.try_borrow_mut() {
                        vm.flush();
                    }
                    eprint!("{}", fault.report());
                    eprintln!("note: raised by a config.watch callback");
                }
            }
        }
    }

    /// Loads the configuration again after its files changed to `fingerprint`; returns the
    /// callback started with the new version, if there is one to tell about.
    fn reload(&mut self, fingerprint: Vec<Stamp>) -> Option<Callback> {
        // The VM is only borrowed while a fiber runs, and none runs while this future is
        // polled; should that ever change, the change is simply looked at next time.
        let Ok(mut vm) = self.vm.try_borrow_mut() else {
            return None;
        };
        self.fingerprint = fingerprint;
        match load_record(&mut vm, &self.ty, &self.options) {
            Ok(new) if same_config(&new, &self.current) => None,
            Ok(new) => {
                self.current = new.clone();
                log::emit(&vm, Level::Info, "config reloaded", &self.fields());
                Some(vm.start_callback(self.callback.clone(), vec![new]))
            }
            Err(problems) => {
                let problems = Value::list(problems.into_iter().map(Value::str).collect());
                let mut fields = self.fields();
                fields.push(("problems", Field::Value(&problems)));
                log::emit(&vm, Level::Error, "config reload failed", &fields);
                None
            }
        }
    }

    /// The log fields that say which configuration this is.
    fn fields(&self) -> Vec<(&str, Field<'_>)> {
        let mut fields = vec![("type", Field::Str(&self.ty.name))];
        let paths = [
            ("file", &self.options.file),
            ("secrets_file", &self.options.secrets_file),
            ("secrets_dir", &self.options.secrets_dir),
        ];
        for (name, path) in paths {
            if let Some(text) = path.as_ref().and_then(|p| p.to_str()) {
                fields.push((name, Field::Str(text)));
            }
        }
        fields
    }
}

/// Whether two loaded configurations hold the same values. Secrets compare by what they hide
/// (`==` compares objects by identity, and every load makes new ones).
fn same_config(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Record(x), Value::Record(y)) => {
            let (x, y) = (x.fields(), y.fields());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same_config(a, b))
        }
        (Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same_config(a, b))
        }
        _ => match (Secret::revealed(a), Secret::revealed(b)) {
            (Some(a), Some(b)) => same_config(a, b),
            // A configuration is plain data from a file or the environment: never too deep.
            (None, None) => cn_runtime::ops::equal(a, b).unwrap_or(false),
            _ => false,
        },
    }
}

/// The paths a configuration was loaded from.
struct Watched {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Watched {
    fn of(options: &LoadOptions) -> Watched {
        Watched {
            files: [&options.file, &options.secrets_file]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            dirs: options.secrets_dir.iter().cloned().collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    /// The state of every watched path now; any difference from the last one is a change.
    fn fingerprint(&self) -> Vec<Stamp> {
        let mut stamps: Vec<Stamp> = self.files.iter().map(|f| Stamp::of(f)).collect();
        for dir in &self.dirs {
            stamps.push(Stamp::of(dir));
            stamps.push(Stamp::of(&dir.join("..data")));
            let mut keys: Vec<PathBuf> = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
                .map(|entry| entry.path())
                .collect();
            keys.sort();
            stamps.extend(keys.iter().map(|key| Stamp::of(key)));
        }
        stamps
    }
}

/// One path's state: where it leads through every symlink (what the `..data` swap changes),
/// and the modification time, size and inode of what it leads to. A path that does not exist
/// has neither, which differs from any path that does.
#[derive(Debug, PartialEq)]
struct Stamp {
    path: PathBuf,
    resolved: Option<PathBuf>,
    meta: Option<(i64, i64, u64, u64, u64)>,
}

impl Stamp {
    fn of(path: &Path) -> Stamp {
        Stamp {
            path: path.to_path_buf(),
            resolved: std::fs::canonicalize(path).ok(),
            meta: std::fs::metadata(path)
                .ok()
                .map(|m| (m.mtime(), m.mtime_nsec(), m.size(), m.ino(), m.dev())),
        }
    }
}

/// The `config.Watcher` a `config.watch` returns.
struct Handle(Rc<State>);

type M = Member<Handle>;

/// What `config.watch(..)` returns.
static WATCHER: Table<Handle> = Table::new(
    "config.Watcher",
    "Reloads a configuration when its files change, as `config.watch(cfg, callback)` set up.",
    &[
        M::method("stop", |h, _, _| {
            h.0.stopped.set(true);
            // A stored permit, so the loop sees it even if it is not waiting right now.
            h.0.stop.notify_one();
            Ok(Value::Nil)
        })
        .doc("stop()\nNo more reloads; a callback already running finishes."),
        M::attribute("stopped", |h, _| Ok(Value::Bool(h.0.stopped.get())))
            .doc("stopped\nWhether `stop()` was called."),
    ],
);

impl NativeType for Handle {
    fn type_name(&self) -> &str {
        "config.Watcher"
    }

    fn members(&self) -> &'static dyn Members {
        &WATCHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_symlink_swap_changes_the_fingerprint() {
        let dir = std::env::temp_dir().join(format!("cn-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let make = |stamp: &str, text: &str| {
            let folder = dir.join(stamp);
            std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(folder.join("config.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
        };
        make("..1", "port: 1\n");
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, dir.join(name)).unwrap_or_else(|e| panic!("{e}"))
        };
        link("..1", "..data");
        link("..data/config.yaml", "config.yaml");
        let watched = Watched::of(&LoadOptions {
            file: Some(dir.join("config.yaml")),
            ..LoadOptions::default()
        });
        let before = watched.fingerprint();
        assert_eq!(before, watched.fingerprint());
        // The same size and, quite possibly, the same modification time: only the target tells.
        make("..2", "port: 2\n");
        link("..2", "..data_tmp");
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(before, watched.fingerprint());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
