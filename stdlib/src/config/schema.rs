//! A record type read as a configuration schema: for every field, its path from the top, the
//! environment name it is read from, the kind of value it holds, its default and whether it is
//! optional or secret.
//!
//! The runtime keeps field annotations as written (`list[str]`, `str | nil`, `Database`), so the
//! schema is where they get a meaning. A record type named in an annotation is looked up among
//! the program's module-level globals (`Database`, or `models.Database` through an imported
//! module). Anything the loader could not fill (an unknown type, `dict`, a union other than
//! `T | nil`, a record that contains itself) is a schema problem: a bug in the script, reported
//! before any source is read.

use std::rc::Rc;

use cn_compiler::bytecode::TypeAnnotation;
use cn_runtime::format;
use cn_runtime::object::{FieldInfo, RecordType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Value, Vm};

/// A value that one piece of text can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Str,
    Int,
    Float,
    Bool,
    Duration,
}

impl Scalar {
    fn from_name(name: &str) -> Option<Scalar> {
        Some(match name {
            "str" => Scalar::Str,
            "int" => Scalar::Int,
            "float" => Scalar::Float,
            "bool" => Scalar::Bool,
            "duration" => Scalar::Duration,
            _ => return None,
        })
    }
}

/// What a field holds.
pub enum Kind {
    Scalar(Scalar),
    /// `list[T]`: comma-separated in text, an array in files.
    List(Scalar),
    /// A nested record: its type and its own fields.
    Record(Rc<RecordType>, Vec<Field>),
}

/// One field of the schema.
pub struct Field {
    /// The field's names from the top record (`["db", "port"]`).
    pub path: Vec<Rc<str>>,
    /// The environment variable it is read from, `env_prefix` included.
    pub env_name: String,
    pub kind: Kind,
    /// `T | nil`: may be missing (then nil).
    pub optional: bool,
    /// The field's `@default(...)` or `= value`, unconverted.
    pub default: Option<Value>,
    /// `@secret`: the loaded value is wrapped in a `config.Secret`.
    pub secret: bool,
}

impl Field {
    /// The dotted path (`db.port`), as messages about file values name the field.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// True when neither a default nor `| nil` lets the field be missing.
    pub fn required(&self) -> bool {
        self.default.is_none() && !self.optional
    }
}

/// The schema of a top-level record type.
pub struct Schema {
    pub ty: Rc<RecordType>,
    pub fields: Vec<Field>,
}

impl Schema {
    /// Reads `ty` as a schema; environment names start with `env_prefix`. Every problem found is
    /// reported, not just the first.
    pub fn of(vm: &mut Vm, ty: &Rc<RecordType>, env_prefix: &str) -> Result<Schema, Vec<String>> {
        let mut builder = Builder {
            vm,
            prefix: env_prefix,
            problems: Vec::new(),
            open: vec![ty.clone()],
        };
        let fields = builder.fields(ty, &[], None);
        if builder.problems.is_empty() {
            Ok(Schema {
                ty: ty.clone(),
                fields,
            })
        } else {
            Err(builder.problems)
        }
    }
}

struct Builder<'a> {
    vm: &'a mut Vm,
    prefix: &'a str,
    problems: Vec<String>,
    /// The record types being expanded, outermost first (a type inside itself never ends).
    open: Vec<Rc<RecordType>>,
}

impl Builder<'_> {
    /// The fields of `ty`, below `parent` (the path of the field holding it) whose environment
    /// base name is `env_base` (`DB` for `db: Database`; `None` at the top).
    fn fields(
        &mut self,
        ty: &Rc<RecordType>,
        parent: &[Rc<str>],
        env_base: Option<&str>,
    ) -> Vec<Field> {
        ty.fields
            .iter()
            .filter_map(|info| self.field(info, parent, env_base))
            .collect()
    }

    fn field(
        &mut self,
        info: &FieldInfo,
        parent: &[Rc<str>],
        env_base: Option<&str>,
    ) -> Option<Field> {
        let name: Rc<str> = info.name.name().into();
        let mut path = parent.to_vec();
        path.push(name.clone());
        let dotted = path.join(".");
        // A field's own `@env` is its whole name (under the prefix); otherwise it is its
        // upper-cased name, joined to the enclosing record's name by `_`.
        let own = match info.decorator("env") {
            None => None,
            Some([Value::Str(s)]) if !s.is_empty() => Some(s.to_string()),
            Some(args) => {
                let got: Vec<String> = args.iter().map(format::repr).collect();
                self.problems.push(format!(
                    "field {dotted}: @env takes one non-empty string, got ({})",
                    got.join(", ")
                ));
                return None;
            }
        };
        let base = own.unwrap_or_else(|| match env_base {
            Some(outer) => format!("{outer}_{}", name.to_uppercase()),
            None => name.to_uppercase(),
        });
        let (ty, optional) = strip_nil(&info.ty);
        let kind = self.kind(ty, &dotted, &path, &base)?;
        Some(Field {
            path,
            env_name: format!("{}{base}", self.prefix),
            kind,
            optional,
            default: info.default.clone(),
            secret: info.decorator("secret").is_some(),
        })
    }

    fn kind(
        &mut self,
        ty: &TypeAnnotation,
        dotted: &str,
        path: &[Rc<str>],
        env_base: &str,
    ) -> Option<Kind> {
        match ty {
            TypeAnnotation::Name(name) => {
                if let Some(scalar) = Scalar::from_name(name) {
                    return Some(Kind::Scalar(scalar));
                }
                let record = self.record_type(name, dotted)?;
                if self.open.iter().any(|t| Rc::ptr_eq(t, &record)) {
                    self.problems.push(format!(
                        "field {dotted}: type {} contains itself, so it cannot be loaded",
                        record.name
                    ));
                    return None;
                }
                self.open.push(record.clone());
                let fields = self.fields(&record, path, Some(env_base));
                self.open.pop();
                Some(Kind::Record(record, fields))
            }
            TypeAnnotation::Generic(base, args) if &**base == "list" => match args.as_slice() {
                [TypeAnnotation::Name(item)] if Scalar::from_name(item).is_some() => {
                    Scalar::from_name(item).map(Kind::List)
                }
                _ => {
                    self.problems.push(format!(
                        "field {dotted}: {ty} is not supported (list items must be str, int, \
                         float, bool or duration)"
                    ));
                    None
                }
            },
            _ => {
                self.problems.push(unsupported(dotted, ty));
                None
            }
        }
    }

    /// The record type an annotation names, from the program's globals.
    fn record_type(&mut self, name: &str, dotted: &str) -> Option<Rc<RecordType>> {
        let mut parts = name.split('.');
        let head = parts.next().unwrap_or(name);
        let mut candidates = self.vm.globals_named(head);
        for part in parts {
            let member = Symbol::intern(part);
            candidates = candidates
                .iter()
                .filter(|v| matches!(v, Value::Module(_)))
                .filter_map(|module| self.vm.get_attr(module, member).ok())
                .collect();
        }
        let mut types: Vec<Rc<RecordType>> = Vec::new();
        for candidate in candidates {
            if let Value::Type(t) = candidate {
                if !types.iter().any(|seen| Rc::ptr_eq(seen, &t)) {
                    types.push(t);
                }
            }
        }
        match types.len() {
            1 => types.pop(),
            0 => {
                self.problems.push(unsupported(dotted, name));
                None
            }
            _ => {
                self.problems.push(format!(
                    "field {dotted}: more than one module defines a type {name}; name it through \
                     its module (module.{name})"
                ));
                None
            }
        }
    }
}

/// The problem of a field whose type the loader cannot fill.
fn unsupported(dotted: &str, ty: impl std::fmt::Display) -> String {
    format!(
        "field {dotted}: type {ty} is not supported (use str, int, float, bool, duration, \
         list[T], a record type defined at module level, or T | nil)"
    )
}

/// `T | nil` (or `nil | T`) as `(T, true)`; any other annotation as `(it, false)`.
fn strip_nil(ty: &TypeAnnotation) -> (&TypeAnnotation, bool) {
    if let TypeAnnotation::Union(parts) = ty {
        if let [a, b] = parts.as_slice() {
            match (a, b) {
                (t, TypeAnnotation::Nil) | (TypeAnnotation::Nil, t) => return (t, true),
                _ => {}
            }
        }
    }
    (ty, false)
}
