//! Filling a record from the sources: every field of the schema is asked of the sources from the
//! highest precedence down (environment, secrets, file) and takes the first answer, else its
//! default, else nil when optional; anything else is a problem, and every problem is collected
//! before the load fails.
//!
//! A nested record field is loaded field by field from the same sources. When no source sets
//! any field inside it, its own default (or nil, when it is optional) stands for the whole
//! record; otherwise its fields are loaded one by one, so a partly set record reports exactly
//! the fields still missing.
//!
//! `config.watch` (watch.rs) reloads a configuration the same way: [`loaded_with`] tells it which
//! options a record was loaded with.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use cn_runtime::object::{Record, RecordType};
use cn_runtime::record::{RecordRef, WeakRecord};
use cn_runtime::{Value, Vm};

use super::convert;
use super::env::EnvSource;
use super::file::FileSource;
use super::problems::Problems;
use super::schema::{Field, Kind, Scalar, Schema};
use super::secret::Secret;
use super::secrets::SecretsSource;
use super::source::{FieldPath, Origin, Raw, Source};

/// Where `config.load` reads from, besides defaults and the environment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOptions {
    /// `file=`: a YAML, JSON or TOML file.
    pub file: Option<PathBuf>,
    /// `secrets_dir=`: a directory with one file per key (a Kubernetes Secret mount).
    pub secrets_dir: Option<PathBuf>,
    /// `secrets_file=`: a YAML, JSON or TOML file of secret values.
    pub secrets_file: Option<PathBuf>,
    /// `env_prefix=`: put in front of every environment name (`MYAPP_`).
    pub env_prefix: String,
}

/// Loads a record of type `ty`: the record, or every problem found (schema problems first, as
/// nothing is read while the type itself cannot be loaded).
pub fn load_record(
    vm: &mut Vm,
    ty: &Rc<RecordType>,
    options: &LoadOptions,
) -> Result<Value, Vec<String>> {
    let schema = Schema::of(vm, ty, &options.env_prefix)?;
    load_schema(&schema, options)
}

/// Loads a record of an already checked schema.
pub fn load_schema(schema: &Schema, options: &LoadOptions) -> Result<Value, Vec<String>> {
    if crate::describe::active() {
        describe_fields(&schema.fields);
    }
    let mut problems = Problems::default();
    let sources = open_sources(options, &mut problems);
    let mut loader = Loader { sources, problems };
    let record = loader.record(&schema.ty, &schema.fields);
    match loader.problems.finish() {
        Some(problems) => Err(problems),
        None => {
            remember(&record, options);
            Ok(record)
        }
    }
}

/// The sources `options` name, highest precedence first (a secrets directory before a secrets
/// file, should both be given). A source that cannot be opened is
/// reported and left out, so the others are still checked.
fn open_sources(options: &LoadOptions, problems: &mut Problems) -> Vec<Box<dyn Source>> {
    let mut sources: Vec<Box<dyn Source>> = vec![Box::new(EnvSource)];
    let mut add = |opened: Result<Box<dyn Source>, Vec<String>>| match opened {
        Ok(source) => sources.push(source),
        Err(errors) => problems.source(errors),
    };
    if let Some(dir) = &options.secrets_dir {
        add(SecretsSource::open_dir(dir).map(|s| Box::new(s) as Box<dyn Source>));
    }
    if let Some(path) = &options.secrets_file {
        add(SecretsSource::open_file(path).map(|s| Box::new(s) as Box<dyn Source>));
    }
    if let Some(path) = &options.file {
        add(FileSource::open(path).map(|s| Box::new(s) as Box<dyn Source>));
    }
    sources
}

struct Loader {
    sources: Vec<Box<dyn Source>>,
    problems: Problems,
}

impl Loader {
    fn record(&mut self, ty: &Rc<RecordType>, fields: &[Field]) -> Value {
        let values = fields.iter().map(|f| self.field(f)).collect();
        Record::value(ty.clone(), values)
    }

    fn field(&mut self, field: &Field) -> Value {
        let value = match &field.kind {
            Kind::Record(ty, fields) => self.nested(field, ty, fields),
            Kind::Scalar(_) | Kind::List(_) => self.leaf(field),
        };
        if field.secret && !matches!(value, Value::Nil) {
            Secret::value(value)
        } else {
            value
        }
    }

    /// The first answer for `field`, from the highest source down. An explicit null (`port:` or
    /// `port: null` in YAML) makes an optional field nil; elsewhere it counts as not set, so a
    /// lower source or the default still applies.
    fn lookup(&self, field: &Field) -> Option<(Raw, Origin)> {
        let names: Vec<&str> = field.path.iter().map(|n| &**n).collect();
        let path = FieldPath {
            names: &names,
            env_name: &field.env_name,
        };
        self.sources
            .iter()
            .filter_map(|source| source.lookup(&path))
            .find(|(raw, _)| field.optional || *raw != Raw::Null)
    }

    fn leaf(&mut self, field: &Field) -> Value {
        let result = match (self.lookup(field), &field.default) {
            (Some((Raw::Null, _)), _) => Ok(Value::Nil),
            (Some((raw, origin)), _) => convert::from_raw(field, &raw, &origin),
            (None, Some(default)) => convert::from_default(field, default),
            (None, None) if field.optional => Ok(Value::Nil),
            // Described, not run: the cluster will have the value.
            (None, None) if crate::describe::active() => Ok(placeholder(&field.kind)),
            (None, None) => {
                self.problems.missing(&field.env_name);
                return Value::Nil;
            }
        };
        result.unwrap_or_else(|problems| {
            self.problems.invalid(problems);
            Value::Nil
        })
    }

    fn nested(&mut self, field: &Field, ty: &Rc<RecordType>, fields: &[Field]) -> Value {
        // The record's own key: a file that has `db: 5` where a table belongs is wrong, however
        // its fields read. Text (an environment variable that happens to be called `DB`) says
        // nothing about the record and is not looked at.
        match self.lookup(field) {
            Some((Raw::Null, _)) => return Value::Nil,
            Some((Raw::Map(_) | Raw::Text(_), _)) | None => {}
            Some((raw, origin)) => {
                if let Err(problems) = convert::from_raw(field, &raw, &origin) {
                    self.problems.invalid(problems);
                }
                return Value::Nil;
            }
        }
        if !fields.iter().any(|f| self.is_set(f)) {
            if let Some(default) = &field.default {
                return convert::from_default(field, default).unwrap_or_else(|problems| {
                    self.problems.invalid(problems);
                    Value::Nil
                });
            }
            if field.optional {
                return Value::Nil;
            }
        }
        self.record(ty, fields)
    }

    /// True when some source sets `field` (or, for a record, any field inside it).
    fn is_set(&self, field: &Field) -> bool {
        match &field.kind {
            Kind::Record(_, fields) => fields.iter().any(|f| self.is_set(f)),
            Kind::Scalar(_) | Kind::List(_) => {
                self.lookup(field).is_some_and(|(raw, _)| raw != Raw::Null)
            }
        }
    }
}

thread_local! {
    /// Records loaded so far, with the options they were loaded with, for `config.watch`.
    /// Weak, so remembering a configuration never keeps it alive.
    static LOADED: RefCell<Vec<(WeakRecord, LoadOptions)>> = const { RefCell::new(Vec::new()) };
}

fn remember(record: &Value, options: &LoadOptions) {
    if let Value::Record(r) = record {
        LOADED.with(|loaded| {
            let mut loaded = loaded.borrow_mut();
            loaded.retain(|(weak, _)| weak.is_alive());
            loaded.push((RecordRef::downgrade(r), options.clone()));
        });
    }
}

/// The type and options `cfg` was loaded with, if `config.load`, `config.try_load` or a reload
/// made it.
pub fn loaded_with(cfg: &Value) -> Option<(Rc<RecordType>, LoadOptions)> {
    let Value::Record(record) = cfg else {
        return None;
    };
    LOADED.with(|loaded| {
        loaded
            .borrow()
            .iter()
            .find(|(weak, _)| {
                weak.upgrade()
                    .is_some_and(|r| RecordRef::ptr_eq(&r, record))
            })
            .map(|(_, options)| (record.ty.clone(), options.clone()))
    })
}

/// Tells the describe run (`cn build`) about every field read from the environment.
fn describe_fields(fields: &[Field]) {
    for field in fields {
        match &field.kind {
            Kind::Record(_, inner) => describe_fields(inner),
            Kind::Scalar(_) | Kind::List(_) => crate::describe::config_field(
                &field.env_name,
                field.default.as_ref().map(cn_runtime::format::display),
                field.secret,
                field.required(),
            ),
        }
    }
}

/// A value of the field's type standing in for one the describe run does not have.
fn placeholder(kind: &Kind) -> Value {
    match kind {
        Kind::Scalar(Scalar::Str) => Value::str(""),
        Kind::Scalar(Scalar::Int) => Value::Int(0),
        Kind::Scalar(Scalar::Float) => Value::Float(0.0),
        Kind::Scalar(Scalar::Bool) => Value::Bool(false),
        Kind::Scalar(Scalar::Duration) => Value::Duration(0),
        Kind::List(_) | Kind::Record(..) => Value::list(Vec::new()),
    }
}
