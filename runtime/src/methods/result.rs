//! Result methods on `Ok(x)` / `Err(e)`: `is_ok`, `is_err`, `unwrap`, `unwrap_or`, `expect`,
//! `unwrap_err`, `map` and `map_err`.

use crate::args::Args;
use crate::builtins::params::no_args;
use crate::fault::Fault;
use crate::format;
use crate::object::Variant;
use crate::symbol::{self, Symbol};
use crate::value::Value;
use crate::vm::Vm;

/// Every result method.
pub(super) const NAMES: &[&str] = &[
    "is_ok",
    "is_err",
    "unwrap",
    "unwrap_or",
    "expect",
    "unwrap_err",
    "map",
    "map_err",
];

/// Calls result method `name`; `receiver` is the result itself, `v` its variant.
pub(super) fn call(
    vm: &mut Vm,
    receiver: &Value,
    v: &Variant,
    name: Symbol,
    args: Args<'_>,
) -> Option<Result<Value, Fault>> {
    let ok = v.is_ok();
    let payload = v.payload.first().cloned().unwrap_or_default();
    Some(match name {
        symbol::IS_OK => no_args(&args).map(|()| Value::Bool(ok)),
        symbol::IS_ERR => no_args(&args).map(|()| Value::Bool(!ok)),
        symbol::UNWRAP => no_args(&args).and_then(|()| {
            if ok {
                Ok(payload)
            } else {
                Err(Fault::new(format!(
                    "unwrap() called on Err({})",
                    format::repr(&payload)
                )))
            }
        }),
        symbol::UNWRAP_ERR => no_args(&args).and_then(|()| {
            if ok {
                Err(Fault::new(format!(
                    "unwrap_err() called on Ok({})",
                    format::repr(&payload)
                )))
            } else {
                Ok(payload)
            }
        }),
        symbol::UNWRAP_OR => {
            one_arg(&args).map(|default| if ok { payload } else { default.clone() })
        }
        symbol::EXPECT => one_arg(&args).and_then(|_| {
            let message = args.str(0)?;
            if ok {
                Ok(payload)
            } else {
                Err(Fault::new(format!("{message}: {}", format::repr(&payload))))
            }
        }),
        symbol::MAP => one_arg(&args).and_then(|f| {
            if ok {
                vm.call_value(f, &[payload]).map(Value::ok)
            } else {
                Ok(receiver.clone())
            }
        }),
        symbol::MAP_ERR => one_arg(&args).and_then(|f| {
            if ok {
                Ok(receiver.clone())
            } else {
                vm.call_value(f, &[payload]).map(Value::err)
            }
        }),
        _ => return None,
    })
}

fn one_arg<'a>(args: &Args<'a>) -> Result<&'a Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    args.value(0)
}
