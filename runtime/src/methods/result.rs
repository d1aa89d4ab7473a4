//! Result methods on `Ok(x)` / `Err(e)`: `is_ok`, `is_err`, `unwrap`, `unwrap_or`, `expect`,
//! `unwrap_err`, `map` and `map_err`.

use crate::fault::Fault;
use crate::format;
use std::rc::Rc;

use crate::native::{Member, Params, Table};
use crate::object::Variant;
use crate::value::Value;

type Result_ = Rc<Variant>;

/// A member of this type's table.
type M = Member<Result_>;

/// Every result method; the receiver is `Ok(x)` or `Err(e)`.
pub(super) static TABLE: Table<Result_> = Table::new(
    "Result",
    "`Ok(value)` or `Err(error)`: what an operation that can fail returns.",
    &[
        M::method("is_ok", |v, _, _| Ok(Value::Bool(v.is_ok())))
            .doc("is_ok()\nWhether this is Ok."),
        M::method("is_err", |v, _, _| Ok(Value::Bool(!v.is_ok())))
            .doc("is_err()\nWhether this is Err."),
        M::method("unwrap", |v, _, _| {
            let payload = payload(v);
            if v.is_ok() {
                Ok(payload)
            } else {
                Err(Fault::new(format!(
                    "unwrap() called on Err({})",
                    format::repr(&payload)
                )))
            }
        })
        .doc("unwrap()\nThe value of Ok; faults on Err."),
        M::method("unwrap_or", |v, _, args| {
            Ok(if v.is_ok() {
                payload(v)
            } else {
                args.value(0)?.clone()
            })
        })
        .doc("unwrap_or(default)\nThe value of Ok, or `default` on Err.")
        .params(Params::exactly(1)),
        M::method("expect", |v, _, args| {
            let message = args.str(0)?;
            let payload = payload(v);
            if v.is_ok() {
                Ok(payload)
            } else {
                Err(Fault::new(format!("{message}: {}", format::repr(&payload))))
            }
        })
        .doc("expect(message)\nThe value of Ok; faults with `message` and the error on Err.")
        .params(Params::exactly(1)),
        M::method("unwrap_err", |v, _, _| {
            let payload = payload(v);
            if v.is_ok() {
                Err(Fault::new(format!(
                    "unwrap_err() called on Ok({})",
                    format::repr(&payload)
                )))
            } else {
                Ok(payload)
            }
        })
        .doc("unwrap_err()\nThe error of Err; faults on Ok."),
        M::method("map", |v, vm, args| {
            if v.is_ok() {
                vm.call_value(args.value(0)?, &[payload(v)]).map(Value::ok)
            } else {
                Ok(Value::Variant(v.clone()))
            }
        })
        .doc("map(f)\nOk(f(value)) for Ok; Err unchanged.")
        .params(Params::exactly(1)),
        M::method("map_err", |v, vm, args| {
            if v.is_ok() {
                Ok(Value::Variant(v.clone()))
            } else {
                vm.call_value(args.value(0)?, &[payload(v)]).map(Value::err)
            }
        })
        .doc("map_err(f)\nErr(f(error)) for Err; Ok unchanged.")
        .params(Params::exactly(1)),
    ],
);

fn payload(v: &Variant) -> Value {
    v.payload.first().cloned().unwrap_or_default()
}
