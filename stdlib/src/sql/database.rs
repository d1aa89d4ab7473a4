//! `sql.Database`, what `sql.connect` returns: `query`, `query_one`, `execute`, `transaction`,
//! `ping`, `stats`, `close`.
//!
//! Every statement is bounded: by `timeout=` when given and by the deadline of the request being
//! handled (`http/deadline.rs`), whichever comes first; waiting for a connection is bounded by
//! the pool's `acquire_timeout` too. A PostgreSQL statement past its deadline is cancelled on
//! the server, not only abandoned here, and its connection is closed. Each statement gets a
//! client span and lands in `db_query_duration_seconds`.
//!
//! Inside a `db.transaction():` block, the block's task runs its statements on the transaction
//! (see `transaction.rs`); other tasks keep using the pool.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use super::errors::SqlError;
use super::observe::{self, Durations};
use super::pool::{Lease, Pool};
use super::rows::{self, RowTypes};
use super::statement::{self, Failure, Outcome, Want};
use super::transaction::{Transaction, TxState};
use crate::http::deadline::Deadline;
use crate::time::duration_option;
use crate::trace::{start_db_span, DbSpan};

/// A database: its pool and what statements share.
pub struct DbState {
    pub pool: Rc<Pool>,
    rows: RowTypes,
    durations: Durations,
    /// Transactions open as blocks, by the id of the task whose block it is.
    pub active: RefCell<Vec<(u64, Rc<TxState>)>>,
}

/// A `sql.Database` value.
pub struct Database(pub Rc<DbState>);

impl Database {
    pub fn value(pool: Rc<Pool>) -> Value {
        NativeObject::value(Database(Rc::new(DbState {
            pool,
            rows: RowTypes::default(),
            durations: Durations::default(),
            active: RefCell::new(Vec::new()),
        })))
    }
}

/// How long after a request's deadline its statements are stopped by their own bound.
const REQUEST_DEADLINE_GRACE: Duration = Duration::from_millis(250);

/// One statement to run, as a method call gave it.
pub struct Call {
    pub sql: String,
    pub params: Vec<Value>,
    pub want: Want,
    /// When it must be done by: `timeout=` and the request's deadline, the nearer.
    pub deadline: Option<Instant>,
    pub operation: &'static str,
}

impl Call {
    /// A statement from `(sql, *params, timeout=)`.
    pub fn read(vm: &Vm, args: &Args<'_>, want: Want) -> Result<Call, Fault> {
        let sql = args.str(0)?.as_str().to_string();
        let params = (1..args.len())
            .filter_map(|i| args.get(i).cloned())
            .collect();
        // The request's deadline, a little later: at the deadline itself the server answers 503
        // and cancels the handler, whose dropped statement is then cancelled on the server; the
        // statement's own bound is for code the server does not cancel.
        let mut deadline =
            Deadline::remaining(vm).map(|left| Instant::now() + left + REQUEST_DEADLINE_GRACE);
        if args
            .named("timeout")
            .is_some_and(|v| !matches!(v, Value::Nil))
        {
            let timeout = duration_option(args, usize::MAX, "timeout", Duration::ZERO)?;
            let by = Instant::now() + timeout;
            deadline = Some(deadline.map_or(by, |d| d.min(by)));
        }
        let operation = observe::operation(&sql);
        Ok(Call {
            sql,
            params,
            want,
            deadline,
            operation,
        })
    }

    /// A statement the library runs itself (BEGIN, COMMIT, ROLLBACK).
    pub fn internal(sql: &'static str, deadline: Option<Instant>) -> Call {
        Call {
            sql: sql.to_string(),
            params: Vec::new(),
            want: Want::Execute,
            deadline,
            operation: observe::operation(sql),
        }
    }
}

impl DbState {
    /// The span for a statement, started now (its parent is the calling task's span).
    pub fn span(&self, vm: &Vm, call: &Call) -> DbSpan {
        let location = &self.pool.location;
        let text = observe::without_literals(&call.sql);
        start_db_span(
            vm,
            &crate::trace::Statement {
                system: location.system,
                namespace: &location.database,
                operation: call.operation,
                text: &text,
                host: location.host.as_deref(),
                port: location.port,
            },
        )
    }

    /// A connection from the pool by the call's deadline (and at most `acquire_timeout`).
    pub async fn acquire(&self, deadline: Option<Instant>) -> Result<Lease, SqlError> {
        let limit = Instant::now() + self.pool.settings.acquire_timeout;
        let by = deadline.map_or(limit, |d| d.min(limit));
        self.pool.acquire(by).await
    }

    /// Runs `call` on `lease`, bounded by its deadline, and reports it.
    pub async fn run_on(&self, lease: &mut Lease, call: &Call) -> Result<Outcome, SqlError> {
        let location = &self.pool.location;
        // Until the statement is known to have finished, the connection must not be reused.
        lease.broken = true;
        let guard = CancelOnDrop {
            pool: self.pool.clone(),
            pid: lease.pid(),
        };
        let started = Instant::now();
        let running = statement::run(
            lease.conn()?,
            &call.sql,
            &call.params,
            call.want,
            &self.rows,
        );
        let result = match call.deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), running).await {
                Ok(result) => result,
                Err(_) => {
                    let what = match guard.pid {
                        Some(_) => "it was cancelled on the server",
                        None => "its connection was closed",
                    };
                    drop(guard);
                    return Err(SqlError::Timeout(format!(
                        "the statement was still running after {:?}, past its deadline; {what}",
                        Duration::from_millis(started.elapsed().as_millis() as u64)
                    )));
                }
            },
            None => running.await,
        };
        guard.disarm();
        match result {
            Ok(outcome) => {
                lease.broken = false;
                self.pool.succeeded();
                Ok(outcome)
            }
            Err(Failure::Driver(error)) => {
                lease.broken = SqlError::breaks_connection(&error);
                Err(SqlError::from_sqlx(&error, location))
            }
            Err(Failure::Value(message)) => {
                lease.broken = false;
                Err(SqlError::Value(message))
            }
        }
    }

    /// Runs `call` on a pooled connection.
    async fn run_pooled(&self, call: &Call) -> Result<Outcome, SqlError> {
        let mut lease = self.acquire(call.deadline).await?;
        self.run_on(&mut lease, call).await
    }

    /// Records a finished statement in the histogram and its span.
    pub fn report(
        &self,
        call: &Call,
        span: DbSpan,
        started: Instant,
        result: &Result<Outcome, SqlError>,
    ) {
        let seconds = started.elapsed().as_secs_f64();
        let outcome = match result {
            Ok(outcome) => {
                span.finish(outcome.count());
                "ok"
            }
            Err(error) => {
                span.fail(error.kind(), error.message());
                error.kind()
            }
        };
        self.durations
            .observe(&self.pool.location.name, call.operation, outcome, seconds);
    }

    /// The transaction the current task's block opened on this database, if any.
    fn active_transaction(&self, vm: &Vm) -> Option<Rc<TxState>> {
        let task = vm.current_task()?.id;
        self.active
            .borrow()
            .iter()
            .find(|(t, _)| *t == task)
            .map(|(_, tx)| tx.clone())
    }
}

/// Sends the server a cancel for the statement when dropped before it finished.
struct CancelOnDrop {
    pool: Rc<Pool>,
    pid: Option<i32>,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.pid = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            self.pool.cancel(pid);
        }
    }
}

/// Runs a statement for a method: on the transaction when given, else on the pool; `finish`
/// turns the outcome into the method's value.
pub fn perform(
    vm: &mut Vm,
    db: &Rc<DbState>,
    tx: Option<Rc<TxState>>,
    call: Call,
    finish: fn(Result<Outcome, SqlError>) -> Result<Value, Fault>,
) -> Result<Value, Fault> {
    let span = db.span(vm, &call);
    let db = db.clone();
    Ok(vm.suspend(async move {
        let started = Instant::now();
        let result = match &tx {
            Some(tx) => tx.run(&db, &call).await,
            None => db.run_pooled(&call).await,
        };
        db.report(&call, span, started, &result);
        finish(result)
    }))
}

/// `db.query`: the rows; a failure faults (the seed uses the rows bare).
pub fn rows_or_fault(result: Result<Outcome, SqlError>) -> Result<Value, Fault> {
    match result {
        Ok(Outcome::Rows(rows)) => Ok(Value::list(rows)),
        Ok(_) => Ok(Value::list(Vec::new())),
        Err(error) => Err(error.fault("db.query")),
    }
}

/// `db.query_one`: `Ok(row)`, `Err(NotFound(..))` or the error.
pub fn one_or_err(result: Result<Outcome, SqlError>) -> Result<Value, Fault> {
    Ok(match result {
        Ok(Outcome::One(Some(row))) => Value::ok(row),
        Ok(_) => SqlError::NotFound("the query returned no rows".into()).err_value(),
        Err(error) => error.err_value(),
    })
}

/// `db.execute`: `Ok(Executed(rows_affected, last_insert_id))` or the error.
pub fn executed_or_err(result: Result<Outcome, SqlError>) -> Result<Value, Fault> {
    Ok(match result {
        Ok(Outcome::Executed { affected, last_id }) => Value::ok(rows::executed(affected, last_id)),
        Ok(other) => Value::ok(rows::executed(other.count(), None)),
        Err(error) => error.err_value(),
    })
}

impl Database {
    fn statement(
        &self,
        vm: &mut Vm,
        args: &Args<'_>,
        want: Want,
        finish: fn(Result<Outcome, SqlError>) -> Result<Value, Fault>,
    ) -> Result<Value, Fault> {
        let call = Call::read(vm, args, want)?;
        let tx = self.0.active_transaction(vm);
        perform(vm, &self.0, tx, call, finish)
    }

    /// `db.ping(timeout=1s)`: whether the database answers. A pool whose connections are all
    /// busy answers `true` when a statement succeeded in the last few seconds: a busy database
    /// is not a down one, and a readiness probe should not take a loaded pod out of service.
    fn ping(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        let timeout = duration_option(args, 0, "timeout", Duration::from_secs(1))?;
        let pool = self.0.pool.clone();
        Ok(vm.suspend(async move {
            if pool.is_closed() {
                return Ok(Value::Bool(false));
            }
            let stats = pool.stats();
            if stats.in_use >= stats.max && pool.succeeded_within(Duration::from_secs(5)) {
                return Ok(Value::Bool(true));
            }
            let answered = tokio::time::timeout(timeout, async {
                let mut lease = pool.acquire(Instant::now() + timeout).await.ok()?;
                lease.broken = true;
                let conn = lease.conn().ok()?;
                let ok = match conn {
                    super::pool::Conn::Postgres { conn, .. } => {
                        sqlx::Connection::ping(conn).await.is_ok()
                    }
                    super::pool::Conn::Sqlite(conn) => sqlx::Connection::ping(conn).await.is_ok(),
                };
                lease.broken = !ok;
                ok.then_some(())
            })
            .await;
            let ok = matches!(answered, Ok(Some(())));
            if ok {
                pool.succeeded();
            }
            Ok(Value::Bool(ok))
        }))
    }

    fn close(&self, vm: &mut Vm) -> Value {
        let pool = self.0.pool.clone();
        vm.suspend(async move {
            pool.close().await;
            Ok(Value::Nil)
        })
    }

    fn stats(&self) -> Value {
        let stats = self.0.pool.stats();
        let entries = [
            ("max", stats.max),
            ("open", stats.open),
            ("in_use", stats.in_use),
            ("idle", stats.idle),
            ("waiting", stats.waiting),
        ];
        let mut dict = cn_runtime::dict::new_dict();
        for (key, value) in entries {
            dict.insert(cn_runtime::dict::Key::str(key), Value::Int(value as i64));
        }
        Value::dict(dict)
    }
}

type M = Member<Database>;

static DATABASE: Table<Database> = Table::new(
    "sql.Database",
    "A database reached through a pool of connections: `db.query(sql, *params)`, `db.query_one`, `db.execute`, `db.transaction():`, `db.ping()`.",
    &[
        M::method("query", |d, vm, args| d.statement(vm, &args, Want::Rows, rows_or_fault))
            .doc("query(sql, *params, timeout=nil)\n**waits**; the rows, a list of records (`row.name`, `row[\"name\"]`). Parameters are bound, never pasted into the text: `$1, $2` on PostgreSQL, `?` on SQLite. A failure faults (in a handler: a 500); use `query_one` or `execute` to get errors as values.")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("query_one", |d, vm, args| d.statement(vm, &args, Want::One, one_or_err))
            .doc("query_one(sql, *params, timeout=nil)\n**waits**; `Ok(row)` (the first row), `Err(NotFound(msg))` when there is none, or the error (`Err(DatabaseError(code, msg))`, `Err(Timeout(msg))`, ...).")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("execute", |d, vm, args| d.statement(vm, &args, Want::Execute, executed_or_err))
            .doc("execute(sql, *params, timeout=nil)\n**waits**; `Ok(Executed(rows_affected, last_insert_id))` or the error (`Err(UniqueViolation(msg))`, ...). Without parameters the text may hold several statements (a schema).")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("transaction", |d, _, _| Ok(Transaction::value(d.0.clone())))
            .doc("transaction()\nA transaction. As a block (`db.transaction():`) the block's statements on `db` run in it; it commits when the block ends and rolls back when the block faults or returns an `Err`. Or keep it: `tx.query(..)`, `tx.commit()`, `tx.rollback()`.")
            .params(Params::NONE),
        M::method("ping", |d, vm, args| d.ping(vm, &args))
            .doc("ping(timeout=1s)\n**waits**; `true` when the database answers within `timeout` (for health checks), else `false`.")
            .params(Params::between(0, 1).keywords(&["timeout"])),
        M::method("stats", |d, _, _| Ok(d.stats()))
            .doc("stats()\nThe pool now: `{\"max\", \"open\", \"in_use\", \"idle\", \"waiting\"}`.")
            .params(Params::NONE),
        M::method("close", |d, vm, _| Ok(d.close(vm)))
            .doc("close()\n**waits**; closes idle connections now and the others as they come back; later statements fail with `Err(Closed(..))`.")
            .params(Params::NONE),
        M::attribute("url", |d, _| Ok(Value::str(d.0.pool.location.masked_url.as_str())))
            .doc("url\nThe URL connected to, with the password as `***`."),
        M::attribute("system", |d, _| Ok(Value::str(d.0.pool.location.system)))
            .doc("system\n`\"postgresql\"` or `\"sqlite\"`."),
        M::attribute("name", |d, _| Ok(Value::str(d.0.pool.location.name.as_str())))
            .doc("name\nThe pool's name in metrics and `/readyz` (`name=` of `sql.connect`, else host:port/database or the file)."),
    ],
);

impl NativeType for Database {
    fn type_name(&self) -> &str {
        "sql.Database"
    }

    fn members(&self) -> &'static dyn Members {
        &DATABASE
    }

    fn display(&self) -> String {
        let stats = self.0.pool.stats();
        format!(
            "<sql.Database {} in_use={} idle={} max={}>",
            self.0.pool.location.masked_url, stats.in_use, stats.idle, stats.max
        )
    }
}
