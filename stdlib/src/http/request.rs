//! `http.Request`: what a handler receives.
//!
//! Attributes: `method`, `path`, `route` (the matched pattern), `params` (a dict of path
//! parameters), `query` (multi-valued: `get(name, default=nil)` gives the first value,
//! `get_all(name)` every one), `headers` (case-insensitive), `remote_addr`, `request_id`. The body
//! is read before the handler runs (bounded by the server's body limit): `text()` gives it as a
//! string (invalid UTF-8 replaced), `bytes()` as it arrived, `json()` as `Ok(value)` or
//! `Err(message)`.

use std::cell::OnceCell;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use hyper::header::HeaderMap;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::Value;

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
    /// `params` and `query` as scripts see them, made on first use of either (one cell, so a
    /// request that reads neither carries one word for them).
    pub views: OnceCell<Box<Views>>,
}

type M = Member<Request>;

/// What a handler receives.
static REQUEST: Table<Request> = Table::new(
    "http.Request",
    "The request a handler receives; the body has been read (up to the server's body limit).",
    &[
        M::attribute("method", |r, _| Ok(Value::str(&*r.method)))
            .doc("method\nThe method (`GET`, `POST`, ...)."),
        M::attribute("path", |r, _| Ok(Value::str(&*r.path)))
            .doc("path\nThe path, without the query."),
        M::attribute("route", |r, _| Ok(Value::str(&*r.route)))
            .doc("route\nThe route pattern that matched (`/users/{id}`)."),
        M::attribute("params", |r, _| Ok(r.params_value()))
            .doc("params\nThe path parameters, as a dict of str."),
        M::attribute("query", |r, _| Ok(r.query_value()))
            .doc("query\nThe query parameters: `get(name, default=nil)`, `get_all(name)`, `has(name)`, `items()`."),
        M::attribute("headers", |r, _| Ok(Headers::value(r.headers.clone())))
            .doc("headers\nThe request headers (case-insensitive names)."),
        M::attribute("remote_addr", |r, _| Ok(Value::str(r.remote.to_string())))
            .doc("remote_addr\nThe client's address and port."),
        M::attribute("request_id", |r, _| Ok(Value::str(&*r.request_id)))
            .doc("request_id\nThe request id (from `x-request-id`, or made here)."),
        M::method("text", |r, _, _| {
            Ok(Value::str(String::from_utf8_lossy(&r.body).into_owned()))
        })
        .doc("text()\nThe body as text, invalid UTF-8 replaced."),
        M::method("bytes", |r, _, _| Ok(Value::bytes(r.body.clone())))
            .doc("bytes()\nThe body as it arrived."),
        M::method("json", |r, _, _| Ok(r.json()))
            .doc("json()\n`Ok(value)`, or `Err(http.Error(400, ...))` when the body is not JSON."),
    ],
);

/// What `req.params` and `req.query` return, made once per request.
pub struct Views {
    params: OnceCell<Value>,
    query: OnceCell<Value>,
}

impl Request {
    fn views(&self) -> &Views {
        self.views.get_or_init(|| {
            Box::new(Views {
                params: OnceCell::new(),
                query: OnceCell::new(),
            })
        })
    }

    /// `req.params`, made on first use and the same dict after.
    fn params_value(&self) -> Value {
        self.views()
            .params
            .get_or_init(|| {
                let mut dict = new_dict();
                for (k, v) in &self.params {
                    dict.insert(Key::str(k), Value::str(&**v));
                }
                Value::dict(dict)
            })
            .clone()
    }

    /// `req.query`, parsed on first use.
    fn query_value(&self) -> Value {
        self.views()
            .query
            .get_or_init(|| NativeObject::value(Query(parse_query(self.query.as_deref()))))
            .clone()
    }

    fn json(&self) -> Value {
        match std::str::from_utf8(&self.body) {
            Ok(text) => match crate::json::decode(text) {
                Ok(value) => Value::ok(value),
                Err(message) => Value::err(HttpError::value(
                    400,
                    format!("invalid JSON body: {message}"),
                )),
            },
            Err(_) => Value::err(HttpError::value(400, "invalid JSON body: not UTF-8")),
        }
    }
}

impl NativeType for Request {
    fn type_name(&self) -> &str {
        "http.Request"
    }

    fn members(&self) -> &'static dyn Members {
        &REQUEST
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

type Q = Member<Query>;

/// `req.query`.
static QUERY: Table<Query> = Table::new(
    "http.Query",
    "Query parameters in order; a name may occur more than once.",
    &[
        Q::method("get", |q, _, args| {
            let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
            let first = q.values(args.str(0)?).next();
            Ok(first.map_or(default, Value::str))
        })
        .doc("get(name, default=nil)\nThe first value of `name`, or `default`.")
        .params(Params::between(1, 2).keywords(&["default"])),
        Q::method("get_all", |q, _, args| {
            Ok(Value::list(
                q.values(args.str(0)?).map(Value::str).collect(),
            ))
        })
        .doc("get_all(name)\nEvery value of `name`, as a list.")
        .params(Params::exactly(1)),
        Q::method("has", |q, _, args| {
            Ok(Value::Bool(q.values(args.str(0)?).next().is_some()))
        })
        .doc("has(name)\nWhether `name` is present.")
        .params(Params::exactly(1)),
        Q::method("items", |q, _, _| {
            let items =
                q.0.iter()
                    .map(|(k, v)| Value::tuple(vec![Value::str(&**k), Value::str(&**v)]));
            Ok(Value::list(items.collect()))
        })
        .doc("items()\nEvery (name, value) pair, as a list of tuples."),
    ],
);

impl Query {
    fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl NativeType for Query {
    fn type_name(&self) -> &str {
        "http.Query"
    }

    fn members(&self) -> &'static dyn Members {
        &QUERY
    }

    fn display(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("<http.Query {}>", pairs.join("&"))
    }
}
