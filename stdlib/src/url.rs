//! `url`: parsing, joining and building URLs and query strings with the `url` crate (the WHATWG
//! URL standard browsers follow, so a URL parses here as it does in a browser or in Go's and
//! Node's clients). A parsed URL prints with its password masked (`print`, logs); `href` gives
//! it whole for passing on.

use cn_runtime::native::{Function, Member, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("parse", parse)
        .doc("parse(text)\n`Ok(url.URL)` with `scheme`, `username`, `password`, `host`, `port`, `path`, `query`, `fragment`, `params()`, `href`; or `Err(message)`.")
        .params(Params::exactly(1)),
    Function::new("join", join)
        .doc("join(base, reference)\n`Ok(text)`: `reference` resolved against `base` as a browser resolves a link (`join(\"http://h/a/b\", \"../c\")` is `http://h/c`).")
        .params(Params::exactly(2)),
    Function::new("encode_query", encode_query)
        .doc("encode_query(params)\nA dict as a query string (`a=1&b=x+y`); a list value repeats its key.")
        .params(Params::exactly(1)),
    Function::new("decode_query", decode_query)
        .doc("decode_query(text)\nA query string (with or without its `?`) as a dict of strs; a repeated key keeps its last value.")
        .params(Params::exactly(1)),
    Function::new("quote", |_, args| {
        let text = args.str(0)?;
        Ok(Value::str(quote(text)))
    })
    .doc("quote(text)\n`text` with everything but letters, digits and `-._~` percent-encoded (for one path segment or query value).")
    .params(Params::exactly(1)),
    Function::new("unquote", |_, args| {
        Ok(Value::str(crate::percent::decode(args.str(0)?)))
    })
    .doc("unquote(text)\n`text` with `%XX` escapes decoded.")
    .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("URLs and query strings: parse, join, encode_query, decode_query, quote, unquote.")
        .functions(FUNCTIONS);
}

fn parse(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(match url::Url::parse(args.str(0)?) {
        Ok(parsed) => Value::ok(NativeObject::value(Url(parsed))),
        Err(error) => Value::err(Value::str(format!("not a URL: {error}"))),
    })
}

fn join(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let base = match url::Url::parse(args.str(0)?) {
        Ok(base) => base,
        Err(error) => return Ok(Value::err(Value::str(format!("not a URL: {error}")))),
    };
    Ok(match base.join(args.str(1)?) {
        Ok(joined) => Value::ok(Value::str(joined.as_str())),
        Err(error) => Value::err(Value::str(format!("cannot join: {error}"))),
    })
}

/// A query value's text.
fn query_text(args: &Args<'_>, value: &Value) -> Result<String, Fault> {
    match value {
        Value::Str(s) => Ok(s.to_string()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(cn_runtime::format::display(value)),
        other => Err(Fault::new(format!(
            "{}: a query value must be a str, number, bool or list of them, got {}",
            args.function,
            other.type_name()
        ))),
    }
}

fn encode_query(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let Value::Dict(params) = args.value(0)? else {
        return Err(args.wrong_type(0, "dict", args.value(0)?));
    };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params.borrow().iter() {
        let key = query_text(&args, key.value())?;
        match value {
            Value::List(items) => {
                for item in items.borrow().iter() {
                    out.append_pair(&key, &query_text(&args, item)?);
                }
            }
            other => {
                out.append_pair(&key, &query_text(&args, other)?);
            }
        }
    }
    Ok(Value::str(out.finish()))
}

/// Query pairs as a dict, the last value of a repeated key winning.
fn query_dict(query: &str) -> Value {
    let mut dict = cn_runtime::dict::new_dict();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if let Ok(key) = cn_runtime::dict::Key::new(Value::str(key.into_owned())) {
            dict.insert(key, Value::str(value.into_owned()));
        }
    }
    Value::dict(dict)
}

fn decode_query(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = args.str(0)?;
    Ok(query_dict(text.strip_prefix('?').unwrap_or(text)))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A parsed URL (`url.URL`).
struct Url(url::Url);

impl Url {
    /// The URL with its password replaced by `***`, for printing.
    fn masked(&self) -> String {
        if self.0.password().is_none() {
            return self.0.as_str().to_string();
        }
        let mut shown = self.0.clone();
        let _ = shown.set_password(Some("***"));
        shown.as_str().to_string()
    }
}

/// A str attribute, or nil when absent.
fn optional(text: Option<&str>) -> Value {
    text.map_or(Value::Nil, Value::str)
}

type M = Member<Url>;

static URL: Table<Url> = Table::new(
    "url.URL",
    "A parsed URL, as `url.parse` returns it; prints with its password masked.",
    &[
        M::attribute("scheme", |u, _| Ok(Value::str(u.0.scheme())))
            .doc("scheme\n`https`, `postgres`, ..."),
        M::attribute("username", |u, _| Ok(Value::str(u.0.username())))
            .doc("username\nThe user name, `\"\"` if none."),
        M::attribute("password", |u, _| Ok(optional(u.0.password())))
            .doc("password\nThe password, or nil."),
        M::attribute("host", |u, _| Ok(optional(u.0.host_str())))
            .doc("host\nThe host name or address, or nil."),
        M::attribute("port", |u, _| {
            Ok(u.0
                .port_or_known_default()
                .map_or(Value::Nil, |p| Value::Int(i64::from(p))))
        })
        .doc("port\nThe port given, or the scheme's default (443 for https), or nil."),
        M::attribute("path", |u, _| Ok(Value::str(u.0.path())))
            .doc("path\nThe path, percent-encoded as in the URL."),
        M::attribute("query", |u, _| Ok(optional(u.0.query())))
            .doc("query\nThe query string without its `?`, or nil."),
        M::attribute("fragment", |u, _| Ok(optional(u.0.fragment())))
            .doc("fragment\nThe fragment without its `#`, or nil."),
        M::attribute("href", |u, _| Ok(Value::str(u.0.as_str())))
            .doc("href\nThe whole URL, password included."),
        M::method("params", |u, _, _| {
            Ok(query_dict(u.0.query().unwrap_or("")))
        })
        .doc(
            "params()\nThe query as a dict of decoded strs (a repeated key keeps its last value).",
        ),
    ],
);

impl NativeType for Url {
    fn type_name(&self) -> &str {
        "url.URL"
    }

    fn members(&self) -> &'static dyn Members {
        &URL
    }

    fn display(&self) -> String {
        self.masked()
    }

    fn json_value(&self) -> Option<Value> {
        Some(Value::str(self.masked()))
    }
}
