//! `config`: typed configuration from the environment, files and secret mounts (seed 000,
//! section 3).
//!
//! A record type is the schema: each field's `@env("NAME")` (else its upper-cased name), its
//! type (`str`, `int`, `float`, `bool`, `duration`, `list[T]`, a nested record, `T | nil`), its
//! `@default(...)` and `@secret` say where its value comes from and what it must look like.
//! `config.load[Config](...)` (or `config.load(Config, ...)`) returns the filled record or faults
//! listing every problem; `config.try_load[Config](...)` returns `Ok(cfg)` or `Err(problems)`.
//! The pieces: `schema` reads the type, `source` defines what a source answers and `env`, `file`
//! and `secrets` are the sources, `convert` checks values with the messages users see,
//! `loader` walks the schema, `problems` gathers what went wrong, `secret` hides `@secret`
//! values, `watch` reloads on change and `dotenv` reads `cn run --env-file`.

mod convert;
pub mod dotenv;
mod env;
pub(crate) mod file;
pub mod loader;
mod problems;
mod schema;
pub mod secret;
mod secrets;
pub mod source;
mod watch;

use std::path::PathBuf;
use std::rc::Rc;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::object::RecordType;
use cn_runtime::{Args, Fault, Value, Vm};

use loader::LoadOptions;
use schema::Schema;

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("load", load)
        .doc("load[Config](file=nil, secrets_dir=nil, secrets_file=nil, env_prefix=\"\")\nThe loaded record; faults listing every problem when the configuration is incomplete or wrong.")
        .params(Params::at_least(0).any_keywords()),
    Function::new("try_load", try_load)
        .doc("try_load[Config](file=nil, secrets_dir=nil, secrets_file=nil, env_prefix=\"\")\n`Ok(cfg)`, or `Err(list of str)` with every problem. A type that cannot be a configuration at all is a bug in the script, and faults as in `load`.")
        .params(Params::at_least(0).any_keywords()),
    Function::new("env", env)
        .doc("env(name, default=nil)\nEnvironment variable `name` as a str, or `default` when it is not set. No conversion: for typed values, load a record.")
        .params(Params::between(1, 2).keywords(&["default"])),
    Function::new("Secret", secret::new)
        .doc("Secret(value)\n`value` hidden from print, f-strings and logs.")
        .params(Params::exactly(1)),
    Function::new("watch", watch::watch)
        .doc("watch(cfg, callback, interval=1.seconds)\nCalls `callback(new_cfg)` whenever the files `cfg` was loaded from change and the new version loads; returns a `config.Watcher` (`stop()`).")
        .params(Params::between(2, 3).keywords(&["interval"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Typed configuration from the environment, files and secrets, validated at start-up.")
        .functions(FUNCTIONS);
}

/// The keyword arguments `load` and `try_load` take besides the type.
const LOAD_OPTIONS: [&str; 4] = ["file", "secrets_dir", "secrets_file", "env_prefix"];

/// config.load[Config](file=nil, secrets_dir=nil, secrets_file=nil, env_prefix=""): the loaded
/// record; faults listing every problem when the configuration is incomplete or wrong.
fn load(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (ty, options) = load_args(&args, "config.load")?;
    loader::load_record(vm, &ty, &options)
        .map_err(|problems| Fault::new(problems::fault_message(&problems)))
}

/// config.try_load[Config](...): `Ok(cfg)`, or `Err(list of str)` with every problem. A type that
/// cannot be a configuration at all is a bug in the script, and faults as in `load`.
fn try_load(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (ty, options) = load_args(&args, "config.try_load")?;
    let schema = Schema::of(vm, &ty, &options.env_prefix)
        .map_err(|problems| Fault::new(problems::fault_message(&problems)))?;
    Ok(match loader::load_schema(&schema, &options) {
        Ok(record) => Value::ok(record),
        Err(problems) => problems::err_value(problems),
    })
}

/// The type and options of a `load` or `try_load` call; `function` names it in messages (the
/// specialised form's own name, `config.load[<type Config>]`, reads poorly).
fn load_args(args: &Args<'_>, function: &str) -> Result<(Rc<RecordType>, LoadOptions), Fault> {
    args.allow_named(&LOAD_OPTIONS)?;
    args.expect_count(1, 1)?;
    let ty = match args.value(0)? {
        Value::Type(ty) => ty.clone(),
        other => return Err(args.wrong_type(0, "a record type", other)),
    };
    let path = |name: &str| -> Result<Option<PathBuf>, Fault> {
        optional_str(args, function, name).map(|s| s.map(PathBuf::from))
    };
    let options = LoadOptions {
        file: path("file")?,
        secrets_dir: path("secrets_dir")?,
        secrets_file: path("secrets_file")?,
        env_prefix: optional_str(args, function, "env_prefix")?.unwrap_or_default(),
    };
    Ok((ty, options))
}

/// Keyword argument `name`: a string, or nil / absent.
fn optional_str(args: &Args<'_>, function: &str, name: &str) -> Result<Option<String>, Fault> {
    match args.named(name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(Fault::new(format!(
            "{function}: {name} must be a str, got {}",
            other.type_name()
        ))),
    }
}

/// config.env(name, default=nil): environment variable `name` as a str, or `default` when it is
/// not set. No conversion: for typed values, load a record.
fn env(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = args.str(0)?;
    Ok(match env::var(name) {
        Some(value) => Value::str(value),
        None => args.get_or_named(1, "default").cloned().unwrap_or_default(),
    })
}
