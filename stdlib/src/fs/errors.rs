//! What a failed file operation returns: `Err(NotFound(path))`, `Err(PermissionDenied(path))`,
//! `Err(AlreadyExists(path))`, `Err(NotADirectory(path))`, `Err(IsADirectory(path))`,
//! `Err(DirectoryNotEmpty(path))`, `Err(InvalidData(path, reason))` (text that is not UTF-8),
//! or `Err(IoError(path, message))` for anything else. A script matches the kinds it can handle
//! and lets the rest fault with `unwrap()`, whose message names the path.

use std::io;

use cn_runtime::object::Variant;
use cn_runtime::Value;

/// An operation's failure, with the path it was about, ready to become an `Err` on the
/// script's thread (the blocking pool returns it; values cannot cross threads).
#[derive(Debug)]
pub struct FsError {
    pub path: String,
    pub error: io::Error,
}

impl FsError {
    pub fn new(path: impl Into<String>, error: io::Error) -> FsError {
        FsError {
            path: path.into(),
            error,
        }
    }

    /// The `Err(..)` value scripts see.
    pub fn into_value(self) -> Value {
        Value::err(variant(&self.path, &self.error))
    }
}

/// The variant for `error` on `path`.
pub fn variant(path: &str, error: &io::Error) -> Value {
    use io::ErrorKind::*;
    let name = match error.kind() {
        NotFound => "NotFound",
        PermissionDenied => "PermissionDenied",
        AlreadyExists => "AlreadyExists",
        NotADirectory => "NotADirectory",
        IsADirectory => "IsADirectory",
        DirectoryNotEmpty => "DirectoryNotEmpty",
        InvalidData => {
            return Variant::value(
                "fs",
                "InvalidData",
                vec![Value::str(path), Value::str(error.to_string())],
            )
        }
        _ => {
            return Variant::value(
                "fs",
                "IoError",
                vec![Value::str(path), Value::str(message(error))],
            )
        }
    };
    Variant::value("fs", name, vec![Value::str(path)])
}

/// The operating system's words without Rust's ` (os error N)` suffix.
fn message(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A `Result` of a blocking operation as the script's value.
pub fn result<T>(outcome: Result<T, FsError>, ok: impl FnOnce(T) -> Value) -> Value {
    match outcome {
        Ok(value) => Value::ok(ok(value)),
        Err(error) => error.into_value(),
    }
}

/// Attaches `path` to a failed `io::Result`.
pub trait AtPath<T> {
    fn at(self, path: &str) -> Result<T, FsError>;
}

impl<T> AtPath<T> for io::Result<T> {
    fn at(self, path: &str) -> Result<T, FsError> {
        self.map_err(|error| FsError::new(path, error))
    }
}
