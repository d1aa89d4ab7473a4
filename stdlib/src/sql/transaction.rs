//! `sql.Transaction`: `db.transaction()`.
//!
//! As a block (`db.transaction():`), entering registers it as the current task's transaction on
//! that database, so the block's `db.query(..)`/`db.execute(..)` run in it without naming it;
//! the connection is taken and `BEGIN` sent with the first statement. Leaving commits, unless
//! the block faulted, returned an `Err(..)`, or a statement in it failed: then it rolls back.
//! The commit waits (the block's exit runs as a waiting cleanup, `NativeType::exit_waiting`);
//! a failed commit faults. Kept as a value, `tx.query/query_one/execute` run in it and
//! `tx.commit()`/`tx.rollback()` end it. A transaction that is dropped unfinished closes its
//! connection, so the server rolls it back; its connection never returns to the pool open.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeFunction, NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use super::database::{self, Call, DbState};
use super::errors::SqlError;
use super::pool::Lease;
use super::statement::{Outcome, Want};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Phase {
    /// Nothing sent yet.
    Ready,
    Open,
    /// A statement failed: it can only roll back.
    Failed,
    /// Its connection was lost or abandoned (a statement past its deadline).
    Lost,
    Committed,
    RolledBack,
}

/// A transaction's state, shared by its value and the database's list of open blocks.
pub struct TxState {
    lease: RefCell<Option<Lease>>,
    phase: Cell<Phase>,
}

/// A `sql.Transaction` value.
pub struct Transaction {
    db: Rc<DbState>,
    state: Rc<TxState>,
}

impl Transaction {
    pub fn value(db: Rc<DbState>) -> Value {
        NativeObject::value(Transaction {
            db,
            state: Rc::new(TxState {
                lease: RefCell::new(None),
                phase: Cell::new(Phase::Ready),
            }),
        })
    }
}

impl TxState {
    /// Runs a statement in the transaction, beginning it first if this is the first.
    pub async fn run(&self, db: &DbState, call: &Call) -> Result<Outcome, SqlError> {
        match self.phase.get() {
            Phase::Committed | Phase::RolledBack => {
                return Err(SqlError::Closed(format!(
                    "the transaction has ended ({})",
                    if self.phase.get() == Phase::Committed {
                        "committed"
                    } else {
                        "rolled back"
                    }
                )))
            }
            Phase::Lost => return Err(lost()),
            _ => {}
        }
        let taken = self.lease.borrow_mut().take();
        let mut lease = match taken {
            Some(lease) => lease,
            None if self.phase.get() == Phase::Ready => {
                let mut lease = db.acquire(call.deadline).await?;
                lease.in_transaction = true;
                db.run_on(&mut lease, &Call::internal("BEGIN", call.deadline))
                    .await?;
                self.phase.set(Phase::Open);
                lease
            }
            None => {
                return Err(SqlError::Value(
                    "the transaction is running another statement: it runs one at a time".into(),
                ))
            }
        };
        let result = db.run_on(&mut lease, call).await;
        if lease.broken {
            self.phase.set(Phase::Lost);
        } else {
            if result.is_err() {
                self.phase.set(Phase::Failed);
            }
            *self.lease.borrow_mut() = Some(lease);
        }
        result
    }

    /// Commits (`commit` and no statement failed) or rolls back. Committing a transaction that
    /// had a failed statement rolls it back and says so.
    async fn finish(&self, db: &DbState, commit: bool) -> Result<(), SqlError> {
        let phase = self.phase.get();
        match phase {
            Phase::Committed | Phase::RolledBack => return Ok(()),
            Phase::Ready => {
                self.phase.set(if commit {
                    Phase::Committed
                } else {
                    Phase::RolledBack
                });
                return Ok(());
            }
            Phase::Lost => {
                self.phase.set(Phase::RolledBack);
                return if commit { Err(lost()) } else { Ok(()) };
            }
            Phase::Open | Phase::Failed => {}
        }
        let Some(mut lease) = self.lease.borrow_mut().take() else {
            return Err(SqlError::Value(
                "the transaction is running another statement: it runs one at a time".into(),
            ));
        };
        let committing = commit && phase == Phase::Open;
        let sql = if committing { "COMMIT" } else { "ROLLBACK" };
        let call = Call::internal(sql, None);
        let started = Instant::now();
        let result = db.run_on(&mut lease, &call).await;
        db.report(&call, crate::trace::DbSpan::none(), started, &result);
        self.phase.set(if committing {
            Phase::Committed
        } else {
            Phase::RolledBack
        });
        match result {
            Ok(_) => {
                lease.in_transaction = false;
                if commit && !committing {
                    return Err(SqlError::Closed(
                        "a statement in the transaction failed, so it was rolled back".into(),
                    ));
                }
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

fn lost() -> SqlError {
    SqlError::Closed(
        "the transaction's connection was closed (a statement ran past its deadline, or the connection failed); the server rolled it back".into(),
    )
}

impl Transaction {
    fn statement(
        &self,
        vm: &mut Vm,
        args: &Args<'_>,
        want: Want,
        finish: fn(Result<Outcome, SqlError>) -> Result<Value, Fault>,
    ) -> Result<Value, Fault> {
        let call = Call::read(vm, args, want)?;
        database::perform(vm, &self.db, Some(self.state.clone()), call, finish)
    }

    /// `tx.commit()` / `tx.rollback()`: `Ok()` or the error.
    fn end(&self, vm: &mut Vm, commit: bool) -> Value {
        self.unregister();
        let (db, state) = (self.db.clone(), self.state.clone());
        vm.suspend(async move {
            Ok(match state.finish(&db, commit).await {
                Ok(()) => Value::ok(Value::Nil),
                Err(error) => error.err_value(),
            })
        })
    }

    fn unregister(&self) {
        self.db
            .active
            .borrow_mut()
            .retain(|(_, tx)| !Rc::ptr_eq(tx, &self.state));
    }
}

type M = Member<Transaction>;

static TRANSACTION: Table<Transaction> = Table::new(
    "sql.Transaction",
    "A database transaction: a block (`db.transaction():`) or a value with `query`, `query_one`, `execute`, `commit`, `rollback`.",
    &[
        M::method("query", |t, vm, args| t.statement(vm, &args, Want::Rows, database::rows_or_fault))
            .doc("query(sql, *params, timeout=nil)\n**waits**; the rows, in the transaction; a failure faults.")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("query_one", |t, vm, args| t.statement(vm, &args, Want::One, database::one_or_err))
            .doc("query_one(sql, *params, timeout=nil)\n**waits**; `Ok(row)`, `Err(NotFound(msg))` or the error, in the transaction.")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("execute", |t, vm, args| t.statement(vm, &args, Want::Execute, database::executed_or_err))
            .doc("execute(sql, *params, timeout=nil)\n**waits**; `Ok(Executed(rows_affected, last_insert_id))` or the error, in the transaction.")
            .params(Params::at_least(1).keywords(&["timeout"])),
        M::method("commit", |t, vm, _| Ok(t.end(vm, true)))
            .doc("commit()\n**waits**; `Ok()`, or the error (a transaction with a failed statement is rolled back instead: `Err(Closed(..))`).")
            .params(Params::NONE),
        M::method("rollback", |t, vm, _| Ok(t.end(vm, false)))
            .doc("rollback()\n**waits**; `Ok()` or the error.")
            .params(Params::NONE),
    ],
);

impl NativeType for Transaction {
    fn type_name(&self) -> &str {
        "sql.Transaction"
    }

    fn members(&self) -> &'static dyn Members {
        &TRANSACTION
    }

    fn display(&self) -> String {
        format!(
            "<sql.Transaction {:?} on {}>",
            self.state.phase.get(),
            self.db.pool.location.masked_url
        )
    }

    fn enter(&self, _this: &Rc<NativeObject>, vm: &mut Vm) -> Result<(), Fault> {
        let task = vm
            .current_task()
            .map(|t| t.id)
            .ok_or_else(|| Fault::new("db.transaction(): needs a running task"))?;
        if self.state.phase.get() != Phase::Ready {
            return Err(Fault::new(
                "db.transaction(): this transaction was already used; make a new one per block",
            ));
        }
        let mut active = self.db.active.borrow_mut();
        if active.iter().any(|(t, _)| *t == task) {
            return Err(Fault::new(
                "db.transaction(): a transaction is already open on this database in this task (transactions do not nest)",
            ));
        }
        active.push((task, self.state.clone()));
        Ok(())
    }

    fn exit_waiting(&self, _this: &Rc<NativeObject>, returning: Option<&Value>) -> Option<Value> {
        self.unregister();
        let returned_err = matches!(returning, Some(Value::Variant(v)) if v.is_err());
        let (db, state) = (self.db.clone(), self.state.clone());
        Some(NativeFunction::closure("transaction", move |vm, args| {
            let faulted = !matches!(args.get(0), None | Some(Value::Nil));
            let commit = !faulted && !returned_err;
            let (db, state) = (db.clone(), state.clone());
            Ok(vm.suspend(async move {
                match state.finish(&db, commit).await {
                    Ok(()) => Ok(Value::Nil),
                    // A failed statement already answered the block with its Err.
                    Err(SqlError::Closed(_))
                        if state.phase.get() == Phase::RolledBack && commit =>
                    {
                        Ok(Value::Nil)
                    }
                    Err(error) => Err(error.fault(if commit {
                        "sql: COMMIT failed"
                    } else {
                        "sql: ROLLBACK failed"
                    })),
                }
            }))
        }))
    }
}
