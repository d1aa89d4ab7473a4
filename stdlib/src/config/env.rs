//! The environment as a configuration source, the highest in precedence: a field is read from
//! the variable the schema named for it (`@env("PORT")`, or the upper-cased field name, nested
//! names joined with `_`, all behind `env_prefix`). Values are text; a variable that is set to
//! the empty string is set (an empty list, or an error for an int), not missing.

use super::source::{FieldPath, Origin, Raw, Source};

/// The process environment (which `cn run --env-file` has filled before the script started).
pub struct EnvSource;

impl Source for EnvSource {
    fn lookup(&self, field: &FieldPath<'_>) -> Option<(Raw, Origin)> {
        let value = std::env::var_os(field.env_name)?;
        // A value that is not UTF-8 is kept as far as it reads; conversion then reports it as
        // written, replacement characters and all, rather than calling it missing.
        let text = value.to_string_lossy().into_owned();
        Some((Raw::Text(text), Origin::Env(field.env_name.to_string())))
    }
}

/// `config.env(name)`: the variable as text, if set.
pub fn var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
}
