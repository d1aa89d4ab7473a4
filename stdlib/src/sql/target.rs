//! What `sql.connect(url, ...)` connects to: the driver and its options from the URL, the pool
//! settings from the keywords, and the URL as it may be shown (password masked).
//!
//! `postgres://user:password@host:port/db?sslmode=require` (or `postgresql://`) and
//! `sqlite:path/to.db`, `sqlite:///abs/path.db`, `sqlite::memory:`. A SQLite file is created if
//! missing, as Python's `sqlite3.connect` does; `:memory:` is one database shared by the pool's
//! connections (so the pool keeps one open).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use cn_runtime::{Args, Fault, Value};

use crate::time::duration_option;

/// The driver and its connection options.
#[derive(Clone)]
pub enum Target {
    Postgres(PgConnectOptions),
    Sqlite(SqliteConnectOptions),
}

/// Pool settings (sqlx's names and, where they suit a service, its defaults).
#[derive(Clone)]
pub struct Settings {
    pub max_connections: usize,
    pub min_connections: usize,
    pub acquire_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
}

/// How the database is named in messages, metrics and spans.
pub struct Location {
    /// The URL with its password replaced by `***`.
    pub masked_url: String,
    /// The password, so that messages which quote it can be masked too.
    pub password: Option<String>,
    /// `postgresql` or `sqlite` (OpenTelemetry's `db.system`).
    pub system: &'static str,
    /// The pool's name in metrics (`name=`, else host:port/db or the file).
    pub name: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: String,
}

impl Location {
    /// `text` with the password masked wherever it appears.
    pub fn mask(&self, text: &str) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => text.replace(password.as_str(), "***"),
            _ => text.to_string(),
        }
    }
}

/// Reads `sql.connect`'s arguments; a bad URL or setting faults, naming it (password masked).
pub fn read(args: &Args<'_>) -> Result<(Target, Settings, Location), Fault> {
    let url_value = args.value(0)?;
    let url = match crate::sql::values::revealed(url_value) {
        Value::Str(s) => s.as_str().to_string(),
        other => return Err(args.wrong_type(0, "str", other)),
    };
    let (target, location) =
        parse(&url).map_err(|why| Fault::new(format!("sql.connect: {why}")))?;
    let memory = matches!(&target, Target::Sqlite(_)) && url.contains(":memory:");
    let default_max = match (&target, memory) {
        (Target::Postgres(_), _) => 10,
        // SQLite's shared in-memory database locks whole tables between connections, and such
        // a lock does not wait (SQLITE_LOCKED), so one connection serves it.
        (Target::Sqlite(_), true) => 1,
        (Target::Sqlite(_), false) => 4,
    };
    let count = |name: &str, default: usize| -> Result<usize, Fault> {
        match args.named(name) {
            None | Some(Value::Nil) => Ok(default),
            Some(Value::Int(n)) if *n >= 0 && *n <= 10_000 => Ok(*n as usize),
            Some(Value::Int(n)) => Err(Fault::new(format!(
                "sql.connect: {name} must be between 0 and 10000, got {n}"
            ))),
            Some(other) => Err(args.wrong_keyword(name, "int", other)),
        }
    };
    let optional = |name: &str, default: Option<Duration>| -> Result<Option<Duration>, Fault> {
        match args.named(name) {
            Some(Value::Nil) => Ok(None),
            None => Ok(default),
            Some(_) => duration_option(args, usize::MAX, name, Duration::ZERO).map(Some),
        }
    };
    let max_connections = count("max_connections", default_max)?;
    if max_connections == 0 {
        return Err(Fault::new(
            "sql.connect: max_connections must be at least 1",
        ));
    }
    let min_connections = count("min_connections", usize::from(memory))?;
    if min_connections > max_connections {
        return Err(Fault::new(format!(
            "sql.connect: min_connections ({min_connections}) is more than max_connections ({max_connections})"
        )));
    }
    let settings = Settings {
        max_connections,
        min_connections: min_connections.max(usize::from(memory)),
        acquire_timeout: duration_option(
            args,
            usize::MAX,
            "acquire_timeout",
            Duration::from_secs(5),
        )?,
        idle_timeout: if memory {
            None
        } else {
            optional("idle_timeout", Some(Duration::from_secs(600)))?
        },
        max_lifetime: if memory {
            None
        } else {
            optional("max_lifetime", Some(Duration::from_secs(1800)))?
        },
    };
    let mut location = location;
    if let Some(name) = args.str_option("name")? {
        location.name = name.as_str().to_string();
    }
    Ok((target, settings, location))
}

/// The driver's options and the location, from the URL.
fn parse(url: &str) -> Result<(Target, Location), String> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| format!("{url}: {e}"))?
            .create_if_missing(true);
        let file = rest.trim_start_matches("//");
        let file = file.split('?').next().unwrap_or(file);
        return Ok((
            Target::Sqlite(options),
            Location {
                masked_url: url.to_string(),
                password: None,
                system: "sqlite",
                name: format!("sqlite:{file}"),
                host: None,
                port: None,
                database: file.to_string(),
            },
        ));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let parsed = url::Url::parse(url).map_err(|e| format!("{}: {e}", mask_url(url)))?;
        let password = parsed.password().map(crate::percent::decode);
        let masked = mask_url(url);
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            let text = e.to_string();
            let text = match &password {
                Some(p) if !p.is_empty() => text.replace(p.as_str(), "***"),
                _ => text,
            };
            format!("{masked}: {text}")
        })?;
        let host = options.get_host().to_string();
        let port = options.get_port();
        let database = options
            .get_database()
            .map(str::to_string)
            .unwrap_or_else(|| options.get_username().to_string());
        return Ok((
            Target::Postgres(options),
            Location {
                masked_url: masked,
                password,
                system: "postgresql",
                name: format!("{host}:{port}/{database}"),
                host: Some(host),
                port: Some(port),
                database,
            },
        ));
    }
    // Only the scheme is shown: the rest may hold a password in a shape no parser knows.
    let scheme: String = url.chars().take_while(|c| *c != ':').take(20).collect();
    Err(format!(
        "a URL with scheme {scheme:?} is not a database URL: use postgres://user:password@host/db or sqlite:path/to.db (or sqlite::memory:)"
    ))
}

/// The URL with its password (if any) as `***`.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        // A user name alone is no secret.
        Ok(parsed) if parsed.has_host() || !url.contains('@') => url.to_string(),
        // Unparseable: where a password would be cannot be told, so only the scheme is shown.
        Err(_) => match url.find("://") {
            Some(end) => format!("{}://…", &url[..end]),
            None => "…".to_string(),
        },
        // Parsed with the "@" somewhere odd (`postgres:/u:pw@h`): what comes before the last
        // "@" may hold a password; only the scheme-like start (up to "//" or ":") is kept.
        _ => match url.rfind('@') {
            Some(at) => {
                let head = &url[..at];
                let keep = match head.find("//") {
                    Some(slashes) => slashes + 2,
                    None => head.find(':').map_or(0, |colon| colon + 1),
                };
                format!("{}***{}", &url[..keep], &url[at..])
            }
            None => url.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_in_urls_that_parse_and_urls_that_do_not() {
        assert_eq!(
            mask_url("postgres://app:hunter2@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            mask_url("postgres://app:p@ss w@rd@db/app"),
            "postgres://app:***@db/app"
        );
        assert_eq!(mask_url("postgres//app:pw@db/app"), "…");
        assert_eq!(mask_url("postgres:/app:pw@db/app"), "postgres:***@db/app");
        assert_eq!(mask_url("sqlite:data.db"), "sqlite:data.db");
        let (_, location) = parse("postgres://app:s3cret@db/app").expect("a URL");
        assert_eq!(location.name, "db:5432/app");
        assert_eq!(
            location.mask("auth failed for s3cret"),
            "auth failed for ***"
        );
        assert!(parse("mysql://x:pw-Secret@y/z").is_err_and(|e| !e.contains("pw-Secret")));
    }

    /// Mutated URLs (a fixed-seed generator) through the URL reader and the masker: an error or
    /// a target, never a panic, and never the password in an error.
    #[test]
    fn mutated_urls_never_panic() {
        let seeds = [
            "postgres://user:pw-Secret@host:5432/db?sslmode=require&application_name=x",
            "sqlite:data/app.db?mode=rwc",
            "sqlite::memory:",
            "postgresql://[::1]:5/db",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..5000 {
            let mut bytes: Vec<char> = seeds[round % seeds.len()].chars().collect();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % (bytes.len() + 1);
                match next() % 4 {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, char::from_u32((next() % 0x2ff) as u32).unwrap_or('%')),
                    2 => bytes.insert(
                        at,
                        ['@', ':', '/', '?', '%', '[', ']', '#'][(next() % 8) as usize],
                    ),
                    _ => bytes.truncate(at),
                }
            }
            let url: String = bytes.into_iter().collect();
            let _ = mask_url(&url);
            if let Err(message) = parse(&url) {
                assert!(!message.contains("pw-Secret"), "{url}: {message}");
            }
        }
    }
}
