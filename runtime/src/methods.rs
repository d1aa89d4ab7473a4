//! Methods of builtin types (`xs.append(x)`, `d.get(k)`, `s.split(",")`), each type's declared
//! in a [`Table`] in its own submodule and found by interned name; library objects are reached
//! through their own tables.

mod bytes;
mod dict;
mod duration;
mod list;
mod result;
mod set;
#[path = "methods/str_format.rs"]
mod str_format;
#[path = "methods/str.rs"]
mod string;
mod tuple;

pub(crate) use dict::pairs_of;
pub(crate) use set::construct as construct_set;

use crate::args::Args;
use crate::fault::Fault;
use crate::native::{unknown_member, Found, Table, TypeDoc};
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

/// Whether `receiver` has a method `name` (builtin or library).
pub fn has_method(receiver: &Value, name: Symbol) -> bool {
    match receiver {
        Value::List(_) => list::TABLE.find(name).is_some(),
        Value::Dict(_) => dict::TABLE.find(name).is_some(),
        Value::Set(_) => set::TABLE.find(name).is_some(),
        Value::Str(_) => string::TABLE.find(name).is_some(),
        Value::Bytes(_) => bytes::TABLE.find(name).is_some(),
        Value::Tuple(_) => tuple::TABLE.find(name).is_some(),
        Value::Duration(_) => duration::TABLE.find(name).is_some(),
        Value::Variant(v) if v.is_ok() || v.is_err() => result::TABLE.find(name).is_some(),
        Value::Object(o) => matches!(o.inner.members().lookup(name), Some(Found::Method(_))),
        _ => false,
    }
}

/// Calls method `name` on `receiver`, checking the arguments against its declaration.
pub fn call_method(
    vm: &mut Vm,
    receiver: &Value,
    name: Symbol,
    args: Args<'_>,
) -> Result<Value, Fault> {
    fn call<R>(
        table: &'static Table<R>,
        r: &R,
        receiver: &Value,
        name: Symbol,
        vm: &mut Vm,
        args: Args<'_>,
    ) -> Result<Value, Fault> {
        match table.index_of(name) {
            Some(i) => table.call(
                &table.members[i],
                r,
                || receiver.clone(),
                vm,
                Args {
                    function: table.qualified_name(i),
                    ..args
                },
            ),
            None => Err(table.unknown(name, "method")),
        }
    }
    match receiver {
        Value::List(l) => call(&list::TABLE, l, receiver, name, vm, args),
        Value::Dict(d) => call(&dict::TABLE, d, receiver, name, vm, args),
        Value::Set(s) => call(&set::TABLE, s, receiver, name, vm, args),
        Value::Str(s) => call(&string::TABLE, s, receiver, name, vm, args),
        Value::Bytes(b) => call(&bytes::TABLE, b, receiver, name, vm, args),
        Value::Tuple(t) => call(&tuple::TABLE, t, receiver, name, vm, args),
        Value::Duration(d) => call(&duration::TABLE, d, receiver, name, vm, args),
        Value::Variant(v) if v.is_ok() || v.is_err() => {
            call(&result::TABLE, v, receiver, name, vm, args)
        }
        Value::Object(object) => {
            let members = object.inner.members();
            match members.lookup(name) {
                // An attribute here was reached as a method: `call` says it is not one.
                Some(Found::Method(i) | Found::Attribute(i)) => members.call(i, object, vm, args),
                None => Err(members.unknown(name, "method")),
            }
        }
        _ => Err(unknown_member(
            receiver.type_name(),
            name,
            "method",
            std::iter::empty(),
        )),
    }
}

/// The declared members of a builtin type, for `help()`, completion and hints.
pub fn table_docs(receiver: &Value) -> Option<TypeDoc> {
    Some(match receiver {
        Value::List(_) => list::TABLE.docs(),
        Value::Dict(_) => dict::TABLE.docs(),
        Value::Set(_) => set::TABLE.docs(),
        Value::Str(_) => string::TABLE.docs(),
        Value::Bytes(_) => bytes::TABLE.docs(),
        Value::Tuple(_) => tuple::TABLE.docs(),
        Value::Duration(_) => duration::TABLE.docs(),
        Value::Variant(v) if v.is_ok() || v.is_err() => result::TABLE.docs(),
        _ => return None,
    })
}

/// The fault for an attribute a builtin type does not have, with a hint.
pub(crate) fn no_attribute(receiver: &Value, name: Symbol) -> Fault {
    let docs = table_docs(receiver);
    let names = docs.iter().flat_map(|d| d.members.iter().map(|m| m.name));
    unknown_member(receiver.type_name(), name, "attribute", names)
}
