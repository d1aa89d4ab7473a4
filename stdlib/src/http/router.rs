//! Routing: `server.route(method, pattern, handler)` patterns and the lookup of a request path.
//!
//! A pattern is a path of segments; a segment is literal (`users`), a parameter (`{id}`), or —
//! last only — a wildcard tail (`{path...}` or `*`) that takes the rest of the path, slashes
//! included. Literal segments win over parameters, which win over a tail, whatever the order of
//! registration. A path that matches a pattern registered for other methods is a 405 with an
//! `Allow` header; no pattern at all is a 404.

use std::rc::Rc;

use cn_runtime::Value;

/// One segment of a route pattern.
#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param(Rc<str>),
    Tail(Rc<str>),
}

/// A registered route.
pub struct Route {
    pub method: String,
    /// The pattern as written: the `route` label of metrics and logs.
    pub pattern: Rc<str>,
    segments: Vec<Segment>,
    /// The handler as registered.
    handler: Value,
    /// The handler inside the server's middleware: what a request calls.
    pub callee: Value,
}

/// Path parameters in pattern order: name and decoded value.
pub type Params = Vec<(Rc<str>, String)>;

/// How well a route matched: literal segments, then exact (no tail).
type Rank = (usize, usize);

/// What a lookup found.
pub enum Lookup<'a> {
    Found { route: &'a Route, params: Params },
    MethodNotAllowed { allow: Vec<String> },
    NotFound,
}

/// All routes of one server.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Adds a route, its handler wrapped in `middleware`; the error says what is wrong with the
    /// pattern.
    pub fn add(
        &mut self,
        method: &str,
        pattern: &str,
        handler: Value,
        middleware: &[Value],
    ) -> Result<(), String> {
        let method = method.to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("invalid method {method:?}"));
        }
        let segments = parse_pattern(pattern)?;
        if self
            .routes
            .iter()
            .any(|r| r.method == method && r.segments == segments)
        {
            return Err(format!("{method} {pattern} is already routed"));
        }
        self.routes.push(Route {
            method,
            pattern: pattern.into(),
            segments,
            callee: with_middleware(middleware, handler.clone()),
            handler,
        });
        Ok(())
    }

    /// Wraps every handler in `middleware` again (after `server.use(..)`).
    pub fn rewrap(&mut self, middleware: &[Value]) {
        for route in &mut self.routes {
            route.callee = with_middleware(middleware, route.handler.clone());
        }
    }

    /// Finds the route for `method` and `path`.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let parts: Vec<&str> = split_path(path).collect();
        let mut best: Option<(&Route, Params, Rank)> = None;
        let mut allow: Vec<String> = Vec::new();
        for route in &self.routes {
            let Some((params, rank)) = match_segments(&route.segments, &parts) else {
                continue;
            };
            // HEAD is served by GET routes.
            let method_ok = route.method == method || (method == "HEAD" && route.method == "GET");
            if !method_ok {
                allow.push(route.method.clone());
                continue;
            }
            if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                best = Some((route, params, rank));
            }
        }
        match best {
            Some((route, params, _)) => Lookup::Found { route, params },
            None if !allow.is_empty() => {
                if allow.iter().any(|m| m == "GET") {
                    allow.push("HEAD".into());
                }
                allow.sort();
                allow.dedup();
                Lookup::MethodNotAllowed { allow }
            }
            None => Lookup::NotFound,
        }
    }
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, String> {
    if !pattern.starts_with('/') {
        return Err(format!("route pattern {pattern:?} must start with '/'"));
    }
    let parts: Vec<&str> = split_path(pattern).collect();
    let mut segments = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let segment = if *part == "*" {
            Segment::Tail("path".into())
        } else if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            match inner.strip_suffix("...") {
                Some(name) => Segment::Tail(valid_name(name, pattern)?.into()),
                None => Segment::Param(valid_name(inner, pattern)?.into()),
            }
        } else if part.contains(['{', '}']) {
            return Err(format!(
                "route pattern {pattern:?}: a parameter must be a whole segment, like /users/{{id}}"
            ));
        } else {
            Segment::Literal((*part).to_string())
        };
        if matches!(segment, Segment::Tail(_)) && !last {
            return Err(format!(
                "route pattern {pattern:?}: a wildcard tail must be the last segment"
            ));
        }
        segments.push(segment);
    }
    Ok(segments)
}

fn valid_name<'a>(name: &'a str, pattern: &str) -> Result<&'a str, String> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(name)
    } else {
        Err(format!(
            "route pattern {pattern:?}: invalid parameter name {name:?}"
        ))
    }
}

/// Matches path parts against a pattern; the rank prefers literal segments, then parameters.
fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<(Params, Rank)> {
    let mut params = Vec::new();
    let (mut literals, mut exact) = (0, 1);
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Tail(name) => {
                params.push((name.clone(), parts.get(i..).unwrap_or(&[]).join("/")));
                exact = 0;
                return Some((params, (literals, exact)));
            }
            Segment::Literal(text) => {
                if parts.get(i) != Some(&text.as_str()) {
                    return None;
                }
                literals += 1;
            }
            Segment::Param(name) => {
                let part = parts.get(i)?;
                params.push((name.clone(), crate::percent::decode(part)));
            }
        }
    }
    (segments.len() == parts.len()).then_some((params, (literals, exact)))
}

/// Wraps `handler` in the middleware, first registered outermost: each is called as
/// `middleware(req, next)`.
fn with_middleware(middleware: &[Value], handler: Value) -> Value {
    middleware.iter().rev().fold(handler, |next, outer| {
        let outer = outer.clone();
        cn_runtime::object::NativeFunction::closure("middleware", move |vm, args| {
            let request = args.value(0)?.clone();
            let callback = vm.start_callback(outer.clone(), vec![request, next.clone()]);
            Ok(vm.suspend(async move { callback.result().await }))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(patterns: &[(&str, &str)]) -> Router {
        let mut router = Router::default();
        for (i, (method, pattern)) in patterns.iter().enumerate() {
            router
                .add(method, pattern, Value::Int(i as i64), &[])
                .expect("valid pattern");
        }
        router
    }

    fn found(router: &Router, method: &str, path: &str) -> Option<(String, Vec<String>)> {
        match router.lookup(method, path) {
            Lookup::Found { route, params } => Some((
                route.pattern.to_string(),
                params.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            )),
            _ => None,
        }
    }

    #[test]
    fn literals_beat_parameters_beat_tails() {
        let r = router(&[
            ("GET", "/files/{path...}"),
            ("GET", "/users/{id}"),
            ("GET", "/users/me"),
            ("GET", "/"),
        ]);
        assert_eq!(
            found(&r, "GET", "/users/me").map(|f| f.0),
            Some("/users/me".into())
        );
        assert_eq!(
            found(&r, "GET", "/users/42"),
            Some(("/users/{id}".into(), vec!["id=42".into()]))
        );
        assert_eq!(
            found(&r, "GET", "/files/a/b/c.txt"),
            Some(("/files/{path...}".into(), vec!["path=a/b/c.txt".into()]))
        );
        assert_eq!(found(&r, "GET", "/").map(|f| f.0), Some("/".into()));
        assert_eq!(
            found(&r, "HEAD", "/users/7").map(|f| f.0),
            Some("/users/{id}".into())
        );
        assert!(matches!(r.lookup("GET", "/nope"), Lookup::NotFound));
    }

    #[test]
    fn wrong_method_lists_the_allowed_ones() {
        let r = router(&[("GET", "/items"), ("POST", "/items")]);
        match r.lookup("DELETE", "/items") {
            Lookup::MethodNotAllowed { allow } => assert_eq!(allow, ["GET", "HEAD", "POST"]),
            _ => panic!("expected 405"),
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        let mut r = Router::default();
        assert!(r.add("GET", "users", Value::Nil, &[]).is_err());
        assert!(r.add("GET", "/a/{x}y", Value::Nil, &[]).is_err());
        assert!(r.add("GET", "/a/{rest...}/b", Value::Nil, &[]).is_err());
        assert!(r.add("G T", "/a", Value::Nil, &[]).is_err());
        assert!(r.add("GET", "/a", Value::Nil, &[]).is_ok());
        assert!(r.add("get", "/a", Value::Nil, &[]).is_err());
    }

    #[test]
    fn parameters_are_percent_decoded() {
        let r = router(&[("GET", "/q/{name}")]);
        assert_eq!(
            found(&r, "GET", "/q/hello%20world%2Fx%zz").map(|f| f.1),
            Some(vec!["name=hello world/x%zz".into()])
        );
    }
}
