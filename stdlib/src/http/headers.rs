//! Header maps as scripts see them: case-insensitive `get(name, default=nil)`, `get_all(name)`,
//! `has(name)` and `items()`, over hyper's `HeaderMap` (values that are not UTF-8 read as lossy
//! text).

use std::rc::Rc;

use hyper::header::HeaderMap;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::Value;

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

type M = Member<Headers>;

/// Request and response headers.
static HEADERS: Table<Headers> = Table::new(
    "http.Headers",
    "Read-only headers; names are case-insensitive.",
    &[
        M::method("get", |h, _, args| {
            let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
            Ok(h.0.get(args.str(0)?.as_str()).map_or(default, text))
        })
        .doc("get(name, default=nil)\nThe first value of header `name`, or `default`.")
        .params(Params::between(1, 2).keywords(&["default"])),
        M::method("get_all", |h, _, args| {
            let values = h.0.get_all(args.str(0)?.as_str()).iter().map(text);
            Ok(Value::list(values.collect()))
        })
        .doc("get_all(name)\nEvery value of header `name`, as a list.")
        .params(Params::exactly(1)),
        M::method("has", |h, _, args| {
            Ok(Value::Bool(h.0.contains_key(args.str(0)?.as_str())))
        })
        .doc("has(name)\nWhether header `name` is present.")
        .params(Params::exactly(1)),
        M::method("items", |h, _, _| {
            let items =
                h.0.iter()
                    .map(|(k, v)| Value::tuple(vec![Value::str(k.as_str()), text(v)]));
            Ok(Value::list(items.collect()))
        })
        .doc("items()\nEvery (name, value) pair, as a list of tuples."),
    ],
);

impl NativeType for Headers {
    fn type_name(&self) -> &str {
        "http.Headers"
    }

    fn members(&self) -> &'static dyn Members {
        &HEADERS
    }

    fn display(&self) -> String {
        format!("<http.Headers {} entries>", self.0.len())
    }
}
