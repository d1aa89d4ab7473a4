//! Building record types and enums from their compile-time descriptions (`MakeType`, `MakeEnum`).

use std::rc::Rc;

use cn_compiler::bytecode::Constant;

use crate::fault::Fault;
use crate::fiber::Fiber;
use crate::object::{Code, EnumType, FieldInfo, NativeFunction, RecordType, Variant};
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

impl Vm {
    /// Pops a type's field defaults, decorator arguments and methods, and builds the type.
    pub(crate) fn make_type(
        &mut self,
        fiber: &mut Fiber,
        code: &Code,
        k: u32,
    ) -> Result<Value, Fault> {
        let Some(Constant::Type(proto)) = code.proto.constants.get(k as usize) else {
            return Err(Fault::new("internal error: type constant missing"));
        };
        let count: usize = proto
            .fields
            .iter()
            .map(|f| usize::from(f.has_default) + f.decorators.len())
            .sum::<usize>()
            + proto.methods.len();
        let values = fiber.stack.split_off(fiber.stack.len() - count);
        let mut values = values.into_iter();
        let mut fields = Vec::with_capacity(proto.fields.len());
        for field in &proto.fields {
            let default = if field.has_default {
                values.next()
            } else {
                None
            };
            let decorators = field
                .decorators
                .iter()
                .map(|name| {
                    let args = match values.next() {
                        Some(Value::Tuple(items)) => items.to_vec(),
                        _ => Vec::new(),
                    };
                    (name.clone(), args)
                })
                .collect();
            fields.push(FieldInfo {
                name: Symbol::intern(&field.name),
                ty: field.ty.clone(),
                default,
                decorators,
            });
        }
        let methods = proto
            .methods
            .iter()
            .map(|name| (Symbol::intern(name), values.next().unwrap_or_default()))
            .collect();
        Ok(Value::Type(Rc::new(RecordType {
            id: crate::inline_cache::next_type_id(),
            name: proto.name.clone(),
            fields,
            methods,
            keyed: false,
        })))
    }

    /// Builds an enum: payload variants become constructors, the others plain values.
    pub(crate) fn make_enum(&mut self, code: &Code, k: u32) -> Result<Value, Fault> {
        let Some(Constant::Enum(proto)) = code.proto.constants.get(k as usize) else {
            return Err(Fault::new("internal error: enum constant missing"));
        };
        let type_name = proto.name.clone();
        let variants = proto
            .variants
            .iter()
            .map(|(name, field_names)| {
                let symbol = Symbol::intern(name);
                let fields: Rc<[Symbol]> = field_names.iter().map(|f| Symbol::intern(f)).collect();
                let value = if fields.is_empty() {
                    variant_value(&type_name, symbol, fields, Vec::new())
                } else {
                    let type_name = type_name.clone();
                    NativeFunction::closure(name.clone(), move |_vm, args| {
                        args.allow_named(&[])?;
                        args.expect_count(fields.len(), fields.len())?;
                        Ok(variant_value(
                            &type_name,
                            symbol,
                            fields.clone(),
                            args.positional.to_vec(),
                        ))
                    })
                };
                (symbol, value)
            })
            .collect();
        Ok(Value::Enum(Rc::new(EnumType {
            name: type_name,
            variants,
        })))
    }
}

/// A variant value of enum `type_name`.
fn variant_value(
    type_name: &Rc<str>,
    name: Symbol,
    fields: Rc<[Symbol]>,
    payload: Vec<Value>,
) -> Value {
    Value::Variant(Rc::new(Variant {
        type_name: type_name.clone(),
        name,
        field_names: fields,
        payload,
    }))
}
