//! The tests a `match` pattern compiles to (`compile/patterns.rs`): each takes the subject off
//! the stack and pushes whether it has a variant's or record type's name, an enum's, a field, or
//! a sequence's length. They neither call nor fault, so they live apart from `cold_op`.

use cn_compiler::bytecode::Op;

use crate::object::Code;
use crate::value::Value;

/// Runs one pattern test on `stack`.
pub(super) fn step(op: Op, code: &Code, stack: &mut Vec<Value>) {
    match op {
        Op::MatchVariant(n, arity) => {
            let v = stack.pop().unwrap_or_default();
            let name = code.names[n as usize];
            let matched = match &v {
                Value::Variant(variant) => {
                    variant.name == name
                        && (arity == u16::MAX || variant.payload.len() == arity as usize)
                }
                Value::Record(record) => {
                    *record.ty.name == *name.name()
                        && (arity == u16::MAX || record.fields().len() == arity as usize)
                }
                _ => false,
            };
            stack.push(Value::Bool(matched));
        }
        Op::MatchEnum(n) => {
            let v = stack.pop().unwrap_or_default();
            let name = code.names[n as usize].name();
            let matched = matches!(&v, Value::Variant(variant) if *variant.type_name == *name);
            stack.push(Value::Bool(matched));
        }
        Op::VariantField(i) => {
            let v = stack.pop().unwrap_or_default();
            let field = match &v {
                Value::Variant(variant) => variant.payload.get(i as usize).cloned(),
                Value::Record(record) => record.fields().get(i as usize).cloned(),
                _ => None,
            };
            stack.push(field.unwrap_or_default());
        }
        Op::MatchSeq(kind, n) => {
            let v = stack.pop().unwrap_or_default();
            let matched = match (&v, kind) {
                (Value::List(items), 0) => items.borrow().len() == n as usize,
                (Value::Tuple(items), 1) => items.len() == n as usize,
                _ => false,
            };
            stack.push(Value::Bool(matched));
        }
        _ => {}
    }
}
