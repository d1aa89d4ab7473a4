//! URLs for the client: joining a relative path onto a `base_url`, appending `params=`, checking
//! that a URL is one the client can fetch, and resolving a redirect's `Location`.

use hyper::Uri;

/// Whether `url` starts with a scheme followed by `://` (`http://`, `ftp://`).
fn has_scheme(url: &str) -> bool {
    scheme_end(url).is_some_and(|end| url[end..].starts_with("://"))
}

/// The index of the `:` ending a scheme (`[A-Za-z][A-Za-z0-9+.-]*:`), if `url` starts with one.
fn scheme_end(url: &str) -> Option<usize> {
    let mut chars = url.char_indices();
    if !chars.next()?.1.is_ascii_alphabetic() {
        return None;
    }
    for (i, c) in chars {
        if c == ':' {
            return Some(i);
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')) {
            return None;
        }
    }
    None
}

/// `url` as given when it is absolute, else `base` and `url` joined with exactly one `/`
/// between them: `base_url="http://svc/api"` + `"/users"` is `http://svc/api/users` (the base's
/// path is kept, as API clients expect, unlike RFC 3986 resolution).
pub(super) fn join(base: Option<&str>, url: &str) -> String {
    match base {
        Some(base) if !has_scheme(url) => {
            if url.is_empty() {
                return base.to_string();
            }
            if url.starts_with('?') {
                return format!("{base}{url}");
            }
            format!(
                "{}/{}",
                base.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        }
        _ => url.to_string(),
    }
}

/// `url` with `params` appended to its query string, percent-encoded.
pub(super) fn with_params(url: String, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return url;
    }
    let (head, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url.as_str(), ""),
    };
    let mut out = head.to_string();
    let mut separator = if !head.contains('?') {
        '?'
    } else if head.ends_with('?') || head.ends_with('&') {
        '\0'
    } else {
        '&'
    };
    for (key, value) in params {
        if separator != '\0' {
            out.push(separator);
        }
        separator = '&';
        encode_component(&mut out, key);
        out.push('=');
        encode_component(&mut out, value);
    }
    out.push_str(fragment);
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 15) as usize] as char);
        }
    }
}

/// Parses a URL the client can fetch: `http` or `https`, with a host. The fragment is dropped.
pub(super) fn parse(url: &str) -> Result<Uri, String> {
    let url = url.split('#').next().unwrap_or_default();
    if url.is_empty() {
        return Err("the url is empty".into());
    }
    if !has_scheme(url) {
        return Err("it needs a scheme: http:// or https://".into());
    }
    let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => return Err(format!("unsupported scheme '{other}' (http or https)")),
        None => return Err("it needs a scheme: http:// or https://".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    // `http::Uri` accepts any digits as a port (and the connector would wrap them).
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let host_and_port = &authority[authority.rfind('@').map_or(0, |i| i + 1)..];
    let host_end = host_and_port.rfind(']').map_or(0, |i| i + 1);
    if let Some(colon) = host_and_port[host_end..].rfind(':') {
        let port = &host_and_port[host_end + colon + 1..];
        if !port.is_empty() && port.parse::<u16>().is_err() {
            return Err(format!("'{port}' is not a port number"));
        }
    }
    Ok(uri)
}

/// Resolves a redirect's `Location` against the URL that answered with it (RFC 3986 §5.2).
pub(super) fn resolve(base: &Uri, location: &str) -> Result<Uri, String> {
    let location = location.trim();
    if scheme_end(location).is_some() {
        return parse(location);
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = base.path();
    let target = if let Some(rest) = location.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{}", remove_dot_segments(location))
    } else if location.starts_with('?') {
        format!("{scheme}://{authority}{path}{location}")
    } else if location.is_empty() || location.starts_with('#') {
        return Ok(base.clone());
    } else {
        let directory = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let merged = format!("/{}{location}", directory.trim_start_matches('/'));
        format!("{scheme}://{authority}{}", remove_dot_segments(&merged))
    };
    parse(&target)
}

/// Removes `.` and `..` segments from an absolute path (its query, if any, is left alone).
fn remove_dot_segments(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.find('?') {
        Some(i) => path_and_query.split_at(i),
        None => (path_and_query, ""),
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    format!("/{}{query}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(base: &str, location: &str) -> String {
        let base = parse(base).expect("base parses");
        resolve(&base, location).expect("resolves").to_string()
    }

    #[test]
    fn joins_base_urls() {
        assert_eq!(join(Some("http://a/api"), "/users"), "http://a/api/users");
        assert_eq!(join(Some("http://a/api/"), "users"), "http://a/api/users");
        assert_eq!(join(Some("http://a/api"), "http://b/x"), "http://b/x");
        assert_eq!(join(Some("http://a/api"), "?q=1"), "http://a/api?q=1");
        assert_eq!(join(None, "/users"), "/users");
    }

    #[test]
    fn appends_params() {
        let params = [
            ("q".to_string(), "a b&c".to_string()),
            ("n".to_string(), "1".to_string()),
        ];
        assert_eq!(
            with_params("http://a/x".into(), &params),
            "http://a/x?q=a%20b%26c&n=1"
        );
        assert_eq!(
            with_params("http://a/x?y=2#top".into(), &params[1..]),
            "http://a/x?y=2&n=1#top"
        );
    }

    #[test]
    fn checks_urls() {
        assert!(parse("http://127.0.0.1:8080/x").is_ok());
        assert!(parse("example.com").is_err());
        assert!(parse("ftp://example.com").is_err());
        assert!(parse("http://").is_err());
        assert!(parse("http://a b/").is_err());
        assert!(parse("http://a:99999/").is_err());
        assert!(parse("http://[::1]:8080/").is_ok());
    }

    #[test]
    fn resolves_locations() {
        assert_eq!(resolved("http://a/b/c?q", "/d"), "http://a/d");
        assert_eq!(resolved("http://a/b/c", "d"), "http://a/b/d");
        assert_eq!(resolved("http://a/b/c", "../d/./e"), "http://a/d/e");
        assert_eq!(resolved("http://a/b/c", "?x=1"), "http://a/b/c?x=1");
        assert_eq!(resolved("https://a/b", "//h:81/z"), "https://h:81/z");
        assert_eq!(resolved("http://a/b", "https://c/d"), "https://c/d");
        assert_eq!(resolved("http://a/b/c/", ".."), "http://a/b/");
    }
}
