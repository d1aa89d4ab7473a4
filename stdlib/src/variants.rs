//! The variant names library functions return (`Err(Timeout)`, `Err(NotFound(path))`, watch
//! events `Added(obj)`), declared in one place so the compiler can tell a pattern naming one of
//! them from a misspelling (`case Err(CircutOpen):` is E0116). The test below reads the library's
//! sources and fails when a variant is made under a name missing here.

/// Every variant name a library module constructs.
pub static LIBRARY_VARIANTS: &[&str] = &[
    // time, os, http client, resilience policies, k8s: a deadline passed.
    "Timeout",
    // sync: a closed channel.
    "Closed",
    // resilience.
    "BulkheadFull",
    "CircuitOpen",
    "RateLimited",
    // fs (and k8s's NotFound, AlreadyExists).
    "NotFound",
    "PermissionDenied",
    "AlreadyExists",
    "NotADirectory",
    "IsADirectory",
    "DirectoryNotEmpty",
    "InvalidData",
    "IoError",
    // k8s: API errors, watch events, reconcile results.
    "Conflict",
    "Forbidden",
    "Unauthorized",
    "Invalid",
    "ApiError",
    "ConnectError",
    "Added",
    "Modified",
    "Deleted",
    "RequeueAfter",
    // http client.
    "BodyError",
    "DnsError",
    "InvalidUrl",
    "TooManyRedirects",
    "ProtocolError",
    "TlsError",
    // sql (and NotFound, Timeout, Closed, ConnectError above).
    "UniqueViolation",
    "ForeignKeyViolation",
    "NotNullViolation",
    "CheckViolation",
    "DatabaseError",
    "PoolTimeout",
    "ValueError",
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::LIBRARY_VARIANTS;

    /// Capitalized string literals on the lines where the library builds variants or names their
    /// kinds: `Variant::value("fs", "NotFound", ..)`, `HttpError::new("DnsError", ..)`,
    /// `Symbol::intern("CircuitOpen")`, and the `=> "NotFound"` arms that pick a name.
    fn literals_near_variants(text: &str) -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let builds = [
                "Variant::value(",
                "HttpError::new(",
                "name: Symbol::intern(",
            ]
            .iter()
            .any(|marker| line.contains(marker));
            let picks = line.trim_start().starts_with('(') && line.contains(") => \"")
                || line.contains("ErrorKind::") && line.contains("=> \"")
                || line.contains("Change::") && line.contains("=> (\"")
                || line.contains("SqlError::") && line.contains("=> (\"");
            let window: &[&str] = if builds {
                &lines[i..(i + 4).min(lines.len())]
            } else if picks {
                &lines[i..=i]
            } else {
                continue;
            };
            for text in window {
                for piece in text.split('"').skip(1).step_by(2) {
                    let capitalized = piece.starts_with(|c: char| c.is_ascii_uppercase());
                    if capitalized && piece.chars().all(|c| c.is_ascii_alphanumeric()) {
                        found.push(piece.to_string());
                    }
                }
            }
        }
        found
    }

    fn visit(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir)
            .expect("stdlib/src is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                visit(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("variants.rs")
            {
                let text = std::fs::read_to_string(&path).expect("a source file is readable");
                for name in literals_near_variants(&text) {
                    out.push((path.display().to_string(), name));
                }
            }
        }
    }

    #[test]
    fn every_variant_the_library_makes_is_declared() {
        let mut found = Vec::new();
        visit(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        // Type names passed beside variant names, not variants themselves.
        let not_variants = ["Result"];
        let missing: Vec<_> = found
            .iter()
            .filter(|(_, name)| !LIBRARY_VARIANTS.contains(&name.as_str()))
            .filter(|(_, name)| !not_variants.contains(&name.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "declare these in LIBRARY_VARIANTS: {missing:?}"
        );
        // The scan must actually see the library's variants, or it proves nothing.
        for expected in [
            "NotFound",
            "CircuitOpen",
            "DnsError",
            "Added",
            "Conflict",
            "Timeout",
            "UniqueViolation",
        ] {
            assert!(
                found.iter().any(|(_, n)| n == expected),
                "the scan missed {expected}"
            );
        }
    }
}
