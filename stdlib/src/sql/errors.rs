//! What a failed statement returns: `Err(NotFound(msg))`, `Err(UniqueViolation(msg))`,
//! `Err(ForeignKeyViolation(msg))`, `Err(NotNullViolation(msg))`, `Err(CheckViolation(msg))`,
//! `Err(DatabaseError(code, msg))` for any other error the server reports (with its SQLSTATE or
//! SQLite code), `Err(ConnectError(msg))`, `Err(PoolTimeout(msg))` (with the pool's numbers),
//! `Err(Timeout(msg))`, `Err(ValueError(msg))` for a value that does not fit, and
//! `Err(Closed(msg))`. `db.query`, which the seed uses bare, faults with the same message instead.
//! No message carries the password.

use cn_runtime::object::Variant;
use cn_runtime::{Fault, Value};

use super::target::Location;

pub enum SqlError {
    NotFound(String),
    Unique(String),
    ForeignKey(String),
    NotNull(String),
    Check(String),
    Database { code: String, message: String },
    Connect(String),
    PoolTimeout(String),
    Timeout(String),
    Value(String),
    Closed(String),
}

impl SqlError {
    /// The error from sqlx's, with the password masked.
    pub fn from_sqlx(error: &sqlx::Error, location: &Location) -> SqlError {
        let text = location.mask(&describe(error));
        match error {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                // 57014: the server cancelled the statement (statement_timeout).
                if code == "57014" {
                    return SqlError::Timeout(text);
                }
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => SqlError::Unique(text),
                    sqlx::error::ErrorKind::ForeignKeyViolation => SqlError::ForeignKey(text),
                    sqlx::error::ErrorKind::NotNullViolation => SqlError::NotNull(text),
                    sqlx::error::ErrorKind::CheckViolation => SqlError::Check(text),
                    _ => SqlError::Database {
                        code,
                        message: text,
                    },
                }
            }
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Configuration(_) => {
                SqlError::Connect(format!(
                    "the connection to {} failed: {text}",
                    location.masked_url
                ))
            }
            sqlx::Error::PoolTimedOut => SqlError::PoolTimeout(text),
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => SqlError::Closed(text),
            _ => SqlError::Database {
                code: String::new(),
                message: text,
            },
        }
    }

    /// Whether the connection it happened on can no longer be trusted.
    pub fn breaks_connection(error: &sqlx::Error) -> bool {
        !matches!(
            error,
            sqlx::Error::Database(_)
                | sqlx::Error::RowNotFound
                | sqlx::Error::ColumnDecode { .. }
                | sqlx::Error::Decode(_)
                | sqlx::Error::Encode(_)
                | sqlx::Error::TypeNotFound { .. }
        )
    }

    fn parts(&self) -> (&'static str, &str) {
        match self {
            SqlError::NotFound(m) => ("NotFound", m),
            SqlError::Unique(m) => ("UniqueViolation", m),
            SqlError::ForeignKey(m) => ("ForeignKeyViolation", m),
            SqlError::NotNull(m) => ("NotNullViolation", m),
            SqlError::Check(m) => ("CheckViolation", m),
            SqlError::Database { message, .. } => ("DatabaseError", message),
            SqlError::Connect(m) => ("ConnectError", m),
            SqlError::PoolTimeout(m) => ("PoolTimeout", m),
            SqlError::Timeout(m) => ("Timeout", m),
            SqlError::Value(m) => ("ValueError", m),
            SqlError::Closed(m) => ("Closed", m),
        }
    }

    /// The message alone.
    pub fn message(&self) -> &str {
        self.parts().1
    }

    /// The short outcome label for metrics and spans (`error.type`).
    pub fn kind(&self) -> &'static str {
        self.parts().0
    }

    /// `Err(Kind(message))` (`Err(DatabaseError(code, message))`).
    pub fn err_value(&self) -> Value {
        let payload = match self {
            SqlError::Database { code, message } => {
                vec![Value::str(code.as_str()), Value::str(message.as_str())]
            }
            other => vec![Value::str(other.message())],
        };
        Value::err(Variant::value("sql", self.kind(), payload))
    }

    /// The fault `db.query` raises: `sql: UniqueViolation: ...`.
    pub fn fault(&self, what: &str) -> Fault {
        let detail = match self {
            SqlError::Database { code, message } if !code.is_empty() => {
                format!("{message} (code {code})")
            }
            other => other.message().to_string(),
        };
        Fault::new(format!("{what}: {}: {detail}", self.kind()))
    }
}

/// An error with its causes and, for a server error, its detail line.
pub fn describe(error: &sqlx::Error) -> String {
    if let sqlx::Error::Database(db) = error {
        let mut text = db.message().to_string();
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            if let Some(detail) = pg.detail() {
                text.push_str(" (");
                text.push_str(detail);
                text.push(')');
            }
        }
        return text;
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}
