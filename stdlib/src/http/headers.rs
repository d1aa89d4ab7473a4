//! Header maps as scripts see them: case-insensitive `get(name, default=nil)`, `get_all(name)`,
//! `has(name)` and `items()`, over hyper's `HeaderMap` (values that are not UTF-8 read as lossy
//! text).

use std::rc::Rc;

use hyper::header::HeaderMap;

use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

/// A read-only header map.
pub struct Headers(pub Rc<HeaderMap>);

impl Headers {
    /// A headers value.
    pub fn value(map: Rc<HeaderMap>) -> Value {
        NativeObject::value(Headers(map))
    }
}

fn text(value: &hyper::header::HeaderValue) -> Value {
    Value::str(String::from_utf8_lossy(value.as_bytes()).into_owned())
}

impl NativeType for Headers {
    fn type_name(&self) -> &str {
        "http.Headers"
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        let map = &self.0;
        Some(match &*name.name() {
            "get" => get(map, &args),
            "get_all" => args.allow_named(&[]).and_then(|()| {
                args.expect_count(1, 1)?;
                let values = map.get_all(args.str(0)?.as_str()).iter().map(text);
                Ok(Value::list(values.collect()))
            }),
            "has" => args.allow_named(&[]).and_then(|()| {
                args.expect_count(1, 1)?;
                Ok(Value::Bool(map.contains_key(args.str(0)?.as_str())))
            }),
            "items" => args.expect_count(0, 0).map(|()| {
                let items = map
                    .iter()
                    .map(|(k, v)| Value::tuple(vec![Value::str(k.as_str()), text(v)]));
                Value::list(items.collect())
            }),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        format!("<http.Headers {} entries>", self.0.len())
    }
}

fn get(map: &HeaderMap, args: &Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&["default"])?;
    args.expect_count(1, 2)?;
    let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
    Ok(map.get(args.str(0)?.as_str()).map_or(default, text))
}
