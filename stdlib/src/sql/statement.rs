//! Running one statement on one connection: parameters bound by the driver's rules
//! (`postgres.rs`, `sqlite.rs`), rows read into records (`rows.rs`).
//!
//! PostgreSQL statements with parameters are prepared first (once per connection: sqlx caches
//! them by text), so each value is converted to the type the server inferred for its
//! placeholder. `db.execute` without parameters uses the simple protocol, so a script of several
//! statements (a schema) runs in one call on either database.

use std::rc::Rc;

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Column, Either, Executor, Row, Statement, TypeInfo};

use cn_runtime::object::RecordType;
use cn_runtime::Value;

use super::pool::Conn;
use super::rows::{self, RowTypes};
use super::{postgres, sqlite};

/// What the caller wants back.
#[derive(Clone, Copy, PartialEq)]
pub enum Want {
    Rows,
    One,
    Execute,
}

pub enum Outcome {
    Rows(Vec<Value>),
    One(Option<Value>),
    Executed { affected: u64, last_id: Option<i64> },
}

impl Outcome {
    /// Rows returned or changed (a span's `db.response.returned_rows`).
    pub fn count(&self) -> u64 {
        match self {
            Outcome::Rows(rows) => rows.len() as u64,
            Outcome::One(row) => u64::from(row.is_some()),
            Outcome::Executed { affected, .. } => *affected,
        }
    }
}

/// Why a statement failed: the driver's error, or a value cn could not convert.
pub enum Failure {
    Driver(sqlx::Error),
    Value(String),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Failure {
        Failure::Driver(error)
    }
}

/// Runs `sql` with `params` on `conn`.
pub async fn run(
    conn: &mut Conn,
    sql: &str,
    params: &[Value],
    want: Want,
    types: &RowTypes,
) -> Result<Outcome, Failure> {
    match conn {
        Conn::Postgres { conn, .. } => run_postgres(conn, sql, params, want, types).await,
        Conn::Sqlite(conn) => run_sqlite(conn, sql, params, want, types).await,
    }
}

async fn run_postgres(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    params: &[Value],
    want: Want,
    types: &RowTypes,
) -> Result<Outcome, Failure> {
    if want == Want::Execute && params.is_empty() {
        let done = conn.execute(sql).await?;
        return Ok(Outcome::Executed {
            affected: done.rows_affected(),
            last_id: None,
        });
    }
    let mut args = PgArguments::default();
    if !params.is_empty() {
        let statement = conn.prepare_with(sql, &[]).await?;
        let inferred = match statement.parameters() {
            Some(Either::Left(types)) => types.to_vec(),
            _ => Vec::new(),
        };
        if inferred.len() != params.len() {
            return Err(Failure::Value(count_mismatch(
                inferred.len(),
                params.len(),
                "$1",
            )));
        }
        for (i, (value, ty)) in params.iter().zip(&inferred).enumerate() {
            let param = postgres::param(i + 1, value, ty).map_err(Failure::Value)?;
            args.add(param).map_err(|e| Failure::Value(e.to_string()))?;
        }
    }
    let query = sqlx::query_with(sql, args);
    match want {
        Want::Execute => {
            let done = query.execute(&mut *conn).await?;
            Ok(Outcome::Executed {
                affected: done.rows_affected(),
                last_id: None,
            })
        }
        Want::One => {
            let row = query.fetch_optional(&mut *conn).await?;
            let value = match row {
                Some(row) => Some(pg_row(&row, &row_type(&row, types))?),
                None => None,
            };
            Ok(Outcome::One(value))
        }
        Want::Rows => {
            let rows = query.fetch_all(&mut *conn).await?;
            let Some(first) = rows.first() else {
                return Ok(Outcome::Rows(Vec::new()));
            };
            let ty = row_type(first, types);
            let values = rows
                .iter()
                .map(|row| pg_row(row, &ty))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Outcome::Rows(values))
        }
    }
}

async fn run_sqlite(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    params: &[Value],
    want: Want,
    types: &RowTypes,
) -> Result<Outcome, Failure> {
    if want == Want::Execute && params.is_empty() {
        let done = conn.execute(sql).await?;
        return Ok(Outcome::Executed {
            affected: done.rows_affected(),
            last_id: Some(done.last_insert_rowid()),
        });
    }
    if !params.is_empty() {
        let statement = conn.prepare(sql).await?;
        let expected = match statement.parameters() {
            Some(Either::Right(n)) => n,
            Some(Either::Left(types)) => types.len(),
            None => 0,
        };
        if expected != params.len() {
            return Err(Failure::Value(count_mismatch(expected, params.len(), "?")));
        }
    }
    let mut args = SqliteArguments::default();
    for (i, value) in params.iter().enumerate() {
        sqlite::bind(&mut args, i + 1, value).map_err(Failure::Value)?;
    }
    let query = sqlx::query_with(sql, args);
    match want {
        Want::Execute => {
            let done = query.execute(&mut *conn).await?;
            Ok(Outcome::Executed {
                affected: done.rows_affected(),
                last_id: Some(done.last_insert_rowid()),
            })
        }
        Want::One => {
            let row = query.fetch_optional(&mut *conn).await?;
            let value = match row {
                Some(row) => Some(sqlite_row(&row, &row_type(&row, types))?),
                None => None,
            };
            Ok(Outcome::One(value))
        }
        Want::Rows => {
            let rows = query.fetch_all(&mut *conn).await?;
            let Some(first) = rows.first() else {
                return Ok(Outcome::Rows(Vec::new()));
            };
            let ty = row_type(first, types);
            let values = rows
                .iter()
                .map(|row| sqlite_row(row, &ty))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Outcome::Rows(values))
        }
    }
}

fn count_mismatch(expected: usize, given: usize, style: &str) -> String {
    format!(
        "the statement has {expected} placeholder(s) ({style} ...) but {given} value(s) were given"
    )
}

fn row_type<R: Row>(row: &R, types: &RowTypes) -> Rc<RecordType> {
    types.for_columns(row.columns().iter().map(|c| c.name().to_string()).collect())
}

fn pg_row(row: &PgRow, ty: &Rc<RecordType>) -> Result<Value, Failure> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = postgres::column(raw)
            .map_err(|why| Failure::Value(format!("column {:?}: {why}", column.name())))?;
        values.push(value);
    }
    Ok(rows::row(ty, values))
}

fn sqlite_row(row: &SqliteRow, ty: &Rc<RecordType>) -> Result<Value, Failure> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let declared = column.type_info().name().to_ascii_uppercase();
        let raw = row.try_get_raw(i)?;
        let value = sqlite::column(raw, &declared)
            .map_err(|why| Failure::Value(format!("column {:?}: {why}", column.name())))?;
        values.push(value);
    }
    Ok(rows::row(ty, values))
}
