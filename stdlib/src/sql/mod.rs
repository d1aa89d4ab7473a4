//! `sql`: databases as services use them. `sql.connect(url)` gives a `sql.Database`: a pool of
//! connections to PostgreSQL (`postgres://`, TLS through rustls as `sslmode` asks) or SQLite
//! (`sqlite:file.db`, built in, so a service without a database server still has a real one).
//!
//! The parts: `target.rs` reads the URL and settings; `pool.rs` is cn's own pool over sqlx's
//! connections (explained waits, server-side cancels); `statement.rs` runs one statement, with
//! `postgres.rs`/`sqlite.rs` converting values both ways (`values.rs` holds what they share) and
//! `rows.rs` making rows records; `database.rs` and `transaction.rs` are the script-facing
//! types; `errors.rs` the `Err` values; `observe.rs` the spans, metrics and gauges.

mod database;
mod errors;
mod observe;
pub mod pool;
mod postgres;
mod rows;
mod sqlite;
mod statement;
mod target;
mod transaction;
mod values;

use std::time::Instant;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use database::Database;
use pool::Pool;

/// The module's functions.
static FUNCTIONS: &[Function] = &[Function::new("connect", connect)
    .doc("connect(url, max_connections=, min_connections=0, acquire_timeout=5s, idle_timeout=10m, max_lifetime=30m, name=nil, lazy=false)\n**waits**; a `sql.Database`: a pool of connections to `postgres://user:password@host:port/db?sslmode=...` or `sqlite:path.db` / `sqlite::memory:`. It connects once before returning (a bad URL, password or host faults here, the password masked) unless `lazy=true`. `max_connections` defaults to 10 for PostgreSQL, 4 for a SQLite file and 1 for `:memory:`.")
    .params(Params::exactly(1).keywords(&[
        "max_connections",
        "min_connections",
        "acquire_timeout",
        "idle_timeout",
        "max_lifetime",
        "name",
        "lazy",
    ]))];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Databases: sql.connect(url) for PostgreSQL and SQLite; query, query_one, execute, transactions, ping.")
        .functions(FUNCTIONS);
}

fn connect(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (target, settings, location) = target::read(&args)?;
    let lazy = args.flag("lazy")?;
    Ok(vm.suspend(async move {
        let pool = Pool::new(target, settings, location);
        pool.start_upkeep();
        if !lazy {
            let deadline = Instant::now() + pool.settings.acquire_timeout;
            if let Err(error) = pool.acquire(deadline).await {
                pool.close().await;
                return Err(Fault::new(format!("sql.connect: {}", error.message())));
            }
        }
        Ok(Database::value(pool))
    }))
}
