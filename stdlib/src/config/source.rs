//! Where configuration values come from, as the loader sees them: every source (environment,
//! files, secret mounts) answers "what is the value at this field path, and where did it come
//! from?", so conversion and error reporting are the same whatever the source.
//!
//! Precedence, lowest to highest: `@default`, `file=`, `secrets_file=` / `secrets_dir=`, the
//! environment. The loader asks the sources from the highest down and takes the first answer.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from, for error messages ("PORT must be an integer, got \"abc\" (env
/// PORT)", "... (config.yaml:3:7)").
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// The field's `@default(...)`.
    Default,
    /// An environment variable (after `env_prefix`), or a line of `--env-file`.
    Env(String),
    /// A position in a YAML, JSON or TOML file (1-based line and column of the value).
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// One file of a secrets directory (Kubernetes Secret mount) or a key of `secrets_file=`.
    Secret(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Origin::Secret(path) => write!(f, "secret file {}", path.display()),
        }
    }
}

/// A value as a source holds it, before conversion to the field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Raw {
    /// Text to parse (environment variables and secret files are always text: `"8080"`,
    /// `"a,b,c"`, `"30s"`, `"true"`).
    Text(String),
    /// A typed value from a structured file.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// An array; each item keeps its own origin.
    List(Vec<(Raw, Origin)>),
    /// A table / mapping (nested records); each entry keeps its own origin.
    Map(Vec<(String, Raw, Origin)>),
}

/// The address of a field: the record field names from the top (`["db", "port"]` for
/// `cfg.db.port`), plus the environment name the loader computed for it (from `@env`, or the
/// upper-cased names joined with `_`, with `env_prefix` in front).
pub struct FieldPath<'a> {
    pub names: &'a [&'a str],
    pub env_name: &'a str,
}

/// One source of configuration values.
pub trait Source {
    /// The value for `field`, if this source has one. Files look up `names` (nested tables;
    /// keys match field names exactly); the environment and secret directories look up
    /// `env_name` (secret directories also try the field name, as Kubernetes keys are often
    /// lower case: `database_url` or `DATABASE_URL`).
    fn lookup(&self, field: &FieldPath<'_>) -> Option<(Raw, Origin)>;
}
