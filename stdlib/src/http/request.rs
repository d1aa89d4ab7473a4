//! `http.Request`: what a handler receives.
//!
//! Attributes: `method`, `path`, `route` (the matched pattern), `params` (a dict of path
//! parameters), `query` (multi-valued: `get(name, default=nil)` gives the first value,
//! `get_all(name)` every one), `headers` (case-insensitive), `remote_addr`, `request_id`. The body
//! is read before the handler runs (bounded by the server's body limit): `text()` gives it as a
//! string (invalid UTF-8 replaced), `bytes()` as it arrived, `json()` as `Ok(value)` or
//! `Err(message)`.

use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use hyper::header::HeaderMap;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

use super::error::HttpError;
use super::headers::Headers;

/// A request as handlers see it.
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub route: Rc<str>,
    pub params: Vec<(Rc<str>, String)>,
    pub headers: Rc<HeaderMap>,
    pub body: Bytes,
    pub remote: SocketAddr,
    pub request_id: Rc<str>,
}

impl NativeType for Request {
    fn type_name(&self) -> &str {
        "http.Request"
    }

    fn get_attr(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
    ) -> Option<Result<Value, Fault>> {
        let value = match &*name.name() {
            "method" => Value::str(&*self.method),
            "path" => Value::str(&*self.path),
            "route" => Value::str(&*self.route),
            "params" => {
                let mut dict = new_dict();
                for (k, v) in &self.params {
                    dict.insert(Key::str(k), Value::str(&**v));
                }
                Value::dict(dict)
            }
            "query" => NativeObject::value(Query(parse_query(self.query.as_deref()))),
            "headers" => Headers::value(self.headers.clone()),
            "remote_addr" => Value::str(self.remote.to_string()),
            "request_id" => Value::str(&*self.request_id),
            _ => return None,
        };
        Some(Ok(value))
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        let result = match &*name.name() {
            "text" => Value::str(String::from_utf8_lossy(&self.body).into_owned()),
            "bytes" => Value::bytes(self.body.clone()),
            "json" => match std::str::from_utf8(&self.body) {
                Ok(text) => match crate::json::decode(text) {
                    Ok(value) => Value::ok(value),
                    Err(message) => Value::err(HttpError::value(
                        400,
                        format!("invalid JSON body: {message}"),
                    )),
                },
                Err(_) => Value::err(HttpError::value(400, "invalid JSON body: not UTF-8")),
            },
            _ => return None,
        };
        Some(args.expect_count(0, 0).map(|()| result))
    }

    fn display(&self) -> String {
        format!("<http.Request {} {}>", self.method, self.path)
    }
}

/// Query parameters in order, decoded (`+` is a space).
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| crate::percent::decode(&s.replace('+', " "));
            (decode(key), decode(value))
        })
        .collect()
}

/// `req.query`.
struct Query(Vec<(String, String)>);

impl NativeType for Query {
    fn type_name(&self) -> &str {
        "http.Query"
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        let values = |key: String| {
            self.0
                .iter()
                .filter(move |(k, _)| *k == key)
                .map(|(_, v)| v)
        };
        Some(match &*name.name() {
            "get" => args.allow_named(&["default"]).and_then(|()| {
                args.expect_count(1, 2)?;
                let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
                let first = values(args.str(0)?.to_string()).next();
                Ok(first.map_or(default, |v| Value::str(&**v)))
            }),
            "get_all" => args.expect_count(1, 1).and_then(|()| {
                let all = values(args.str(0)?.to_string())
                    .map(|v| Value::str(&**v))
                    .collect();
                Ok(Value::list(all))
            }),
            "has" => args.expect_count(1, 1).and_then(|()| {
                Ok(Value::Bool(
                    values(args.str(0)?.to_string()).next().is_some(),
                ))
            }),
            "items" => args.expect_count(0, 0).map(|()| {
                let items = self
                    .0
                    .iter()
                    .map(|(k, v)| Value::tuple(vec![Value::str(&**k), Value::str(&**v)]));
                Value::list(items.collect())
            }),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("<http.Query {}>", pairs.join("&"))
    }
}
