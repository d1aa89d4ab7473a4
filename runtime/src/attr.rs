//! Attribute access: record fields and methods, module members, enum variants, variant payload
//! fields, duration units on numbers (`60.seconds`), and bound methods of builtin types.

use std::rc::Rc;

use crate::fault::Fault;
use crate::native::Found;
use crate::object::{BoundMethod, ModuleMembers, NativeFunction};
use crate::symbol::{self, Symbol};
use crate::value::Value;
use crate::vm::Vm;

const NANOS_PER_SECOND: f64 = 1e9;

/// Nanoseconds in one `unit`, for `n.unit` duration literals.
fn unit_nanos(unit: Symbol) -> Option<i64> {
    Some(match unit {
        symbol::NS => 1,
        symbol::US => 1_000,
        symbol::MS | symbol::MILLISECOND | symbol::MILLISECONDS => 1_000_000,
        symbol::SECOND | symbol::SECONDS => 1_000_000_000,
        symbol::MINUTE | symbol::MINUTES => 60_000_000_000,
        symbol::HOUR | symbol::HOURS => 3_600_000_000_000,
        symbol::DAY | symbol::DAYS => 86_400_000_000_000,
        _ => return None,
    })
}

fn suggest(message: String, name: Symbol, candidates: &[Rc<str>]) -> Fault {
    match cn_compiler::diagnostic::closest_name(name.name(), candidates.iter().map(|c| &**c)) {
        Some(close) => Fault::new(format!("{message}; did you mean '{close}'?")),
        None => Fault::new(message),
    }
}

impl Vm {
    /// `object.name`.
    pub fn get_attr(&mut self, object: &Value, name: Symbol) -> Result<Value, Fault> {
        match object {
            Value::Record(record) => {
                if let Some(i) = record.ty.field_index(name) {
                    return Ok(record.fields()[i].clone());
                }
                if let Some(method) = record.ty.method(name) {
                    let bound = BoundMethod::Script {
                        receiver: object.clone(),
                        func: method.clone(),
                    };
                    return Ok(Value::Bound(Rc::new(bound)));
                }
                let mut names: Vec<Rc<str>> = record
                    .ty
                    .fields
                    .iter()
                    .map(|f| Rc::from(f.name.name()))
                    .collect();
                names.extend(record.ty.methods.iter().map(|(n, _)| Rc::from(n.name())));
                Err(suggest(
                    format!("{} has no field or method '{name}'", record.ty.name),
                    name,
                    &names,
                ))
            }
            Value::Module(module) => self.module_member(module, name).ok_or_else(|| {
                let names: Vec<Rc<str>> = match &module.members {
                    ModuleMembers::Script(scope) => scope.iter().map(|(n, _)| n.clone()).collect(),
                    ModuleMembers::Native(native) => native
                        .members
                        .iter()
                        .map(|m| Rc::from(m.name.name()))
                        .collect(),
                };
                suggest(
                    format!("module '{}' has no member '{name}'", module.name),
                    name,
                    &names,
                )
            }),
            Value::Int(n) => match unit_nanos(name) {
                Some(unit) => n
                    .checked_mul(unit)
                    .map(Value::Duration)
                    .ok_or_else(|| Fault::new("duration too large")),
                None => Err(Fault::new(format!("int has no attribute '{name}'"))),
            },
            Value::Float(f) => match unit_nanos(name) {
                Some(unit) => {
                    let nanos = f * unit as f64;
                    if nanos.is_finite() && nanos.abs() < i64::MAX as f64 {
                        Ok(Value::Duration(nanos as i64))
                    } else {
                        Err(Fault::new("duration too large"))
                    }
                }
                None => Err(Fault::new(format!("float has no attribute '{name}'"))),
            },
            Value::Enum(e) => e
                .variants
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    let names: Vec<Rc<str>> =
                        e.variants.iter().map(|(n, _)| Rc::from(n.name())).collect();
                    suggest(
                        format!("enum {} has no variant '{name}'", e.name),
                        name,
                        &names,
                    )
                }),
            Value::Variant(v) => {
                if let Some(i) = v.field_names.iter().position(|f| *f == name) {
                    return Ok(v.payload.get(i).cloned().unwrap_or_default());
                }
                self.builtin_method(object, name)
            }
            Value::Type(ty) => match name {
                symbol::NAME => Ok(Value::str(&*ty.name)),
                symbol::FIELDS => Ok(Value::list(
                    ty.fields
                        .iter()
                        .map(|f| Value::str(f.name.name()))
                        .collect(),
                )),
                _ => Err(Fault::new(format!(
                    "type {} has no attribute '{name}'",
                    ty.name
                ))),
            },
            Value::Object(native) => {
                let members = native.inner.members();
                match members.lookup(name) {
                    Some(Found::Attribute(i)) => members.get(i, native, self),
                    Some(Found::Method(_)) => Ok(Value::Bound(Rc::new(BoundMethod::Builtin {
                        receiver: object.clone(),
                        name,
                    }))),
                    None => Err(members.unknown(name, "attribute")),
                }
            }
            Value::Duration(d) if name == symbol::SECONDS => {
                Ok(Value::Float(*d as f64 / NANOS_PER_SECOND))
            }
            _ => self.builtin_method(object, name),
        }
    }

    fn builtin_method(&mut self, object: &Value, name: Symbol) -> Result<Value, Fault> {
        if crate::methods::has_method(object, name) {
            Ok(Value::Bound(Rc::new(BoundMethod::Builtin {
                receiver: object.clone(),
                name,
            })))
        } else {
            Err(crate::methods::no_attribute(object, name))
        }
    }

    /// `object.name = value`.
    pub fn set_attr(&mut self, object: &Value, name: Symbol, value: Value) -> Result<(), Fault> {
        match object {
            Value::Record(record) => match record.ty.field_index(name) {
                Some(i) => {
                    record.fields_mut()[i] = value;
                    Ok(())
                }
                None => {
                    let names: Vec<Rc<str>> = record
                        .ty
                        .fields
                        .iter()
                        .map(|f| Rc::from(f.name.name()))
                        .collect();
                    Err(suggest(
                        format!("{} has no field '{name}'", record.ty.name),
                        name,
                        &names,
                    ))
                }
            },
            Value::Object(native) => {
                let members = native.inner.members();
                match members.lookup(name) {
                    Some(Found::Attribute(i) | Found::Method(i)) => {
                        members.set(i, native, self, value)
                    }
                    None => Err(members.unknown(name, "attribute")),
                }
            }
            other => Err(Fault::new(format!(
                "cannot set attribute '{name}' on {}",
                other.type_name()
            ))),
        }
    }

    /// `f[T]`: a native generic function given its type argument (`config.load[Config]`).
    pub(crate) fn specialize(&mut self, callee: &Value, argument: &Value) -> Result<Value, Fault> {
        match callee {
            Value::Native(native) => {
                let native = native.clone();
                let argument = argument.clone();
                let name = format!("{}[{}]", native.name, crate::format::display(&argument));
                Ok(NativeFunction::closure(name, move |vm, args| {
                    let mut positional = Vec::with_capacity(args.positional.len() + 1);
                    positional.push(argument.clone());
                    positional.extend_from_slice(args.positional);
                    native.call(
                        vm,
                        crate::args::Args {
                            positional: &positional,
                            ..args
                        },
                    )
                }))
            }
            other => Err(Fault::new(format!(
                "{} is not generic and cannot be indexed",
                other.type_name()
            ))),
        }
    }
}
