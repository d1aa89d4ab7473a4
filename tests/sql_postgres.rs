//! `sql` against a real PostgreSQL server (`common/postgres.rs`): values both ways, errors as
//! values, transactions; the seed's complete app serving rows as JSON, with `/readyz` failing
//! while the database is down and recovering when it is back; a handler timeout cancelling its
//! query on the server (seen in `pg_stat_activity`); an exhausted pool explaining itself;
//! injection attempts through parameters staying inert; and the password never shown.

mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::time::Duration;

use common::{raw, Script, PATIENCE};
use postgres::{Postgres, PASSWORD};

fn get(port: u16, path: &str) -> common::HttpResponse {
    raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Runs `source` to its end with `DATABASE_URL` set; its printed lines and stderr.
fn run(pg: &Postgres, source: &str) -> (Vec<String>, Vec<String>, i32) {
    let url = pg.url();
    Script::start_with_env("sql", source, &[("DATABASE_URL", url.as_str())]).finish()
}

const VALUES: &str = r#"import sql
import os
import time

db = sql.connect(os.getenv("DATABASE_URL"))
db.execute("CREATE TYPE mood AS ENUM ('happy', 'sad'); CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INT CHECK (qty >= 0), small SMALLINT, price NUMERIC(10,2), ratio REAL, ok BOOLEAN, data BYTEA, tag UUID, doc JSONB, raw JSON, at TIMESTAMPTZ, day DATE, lasts INTERVAL, tags TEXT[], nums INT[], feel mood)")
at = time.parse("2026-12-06T10:30:00.5+01:00").unwrap()
print(db.execute("INSERT INTO items (name, qty, small, price, ratio, ok, data, tag, doc, raw, at, day, lasts, tags, nums, feel) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    "widget", 3, 7, "19.99", 0.5, true, bytes([0, 1]), "6F1C2A1E-0000-4000-8000-000000000001", {"a": [1, 2], "b": nil}, [1, "x"], at, at, 90.minutes, ["a", nil], [1, 2], "happy"))
row = db.query("SELECT * FROM items")[0]
for name in ["id", "name", "qty", "small", "price", "ratio", "ok", "data", "tag", "doc", "raw", "at", "day", "lasts", "tags", "nums", "feel"]:
    print(name, repr(row[name]))
print(row.at == at, db.query_one("SELECT at FROM items WHERE at = $1", at).is_ok())
print(db.query_one("SELECT 1 AS one, NULL::int AS none, $1::float8 * 2 AS f", 1.25))
print(db.execute("INSERT INTO items (name, qty) VALUES ($1, $2)", "widget", 1))
print(db.execute("INSERT INTO items (name, qty) VALUES ($1, $2)", "neg", -1).unwrap_err())
print(db.execute("INSERT INTO items (name, qty) VALUES ($1, $2)", "big", 3000000000))
print(db.execute("INSERT INTO items (name, qty) VALUES ($1, $2)", "str", "3"))
print(db.execute("INSERT INTO items (name, tag) VALUES ($1, $2)", "badtag", "not-a-uuid"))
print(db.execute("SELEC 1"))
print(db.query_one("SELECT '127.0.0.1'::inet AS addr"))
print(db.query_one("SELECT '127.0.0.1'::inet::text AS addr"))
print(db.query("SELECT name FROM items WHERE name = ANY($1)", ["widget", "nope"]))
db.transaction():
    db.execute("UPDATE items SET qty = qty + 1")
fn fail():
    db.transaction():
        db.execute("UPDATE items SET qty = 100")
        return Err("no")
print(fail(), db.query_one("SELECT qty FROM items").unwrap().qty)
fn broken():
    db.transaction():
        db.execute("UPDATE items SET qty = 50")
        print(db.execute("UPDATE items SET qty = -1").is_err())
        print(db.execute("SELECT 1"))
broken()
print(db.query_one("SELECT qty FROM items").unwrap().qty)
"#;

#[test]
fn values_errors_and_transactions_against_postgresql() {
    let pg = Postgres::start();
    let (out, err, status) = run(&pg, VALUES);
    assert_eq!(status, 0, "{out:?} {err:?}");
    let expected = [
        "Ok(Executed(rows_affected=1, last_insert_id=nil))",
        "id 1",
        "name \"widget\"",
        "qty 3",
        "small 7",
        "price \"19.99\"",
        "ratio 0.5",
        "ok true",
        "data b\"\\x00\\x01\"",
        "tag \"6f1c2a1e-0000-4000-8000-000000000001\"",
        "doc {\"a\": [1, 2], \"b\": nil}",
        "raw [1, \"x\"]",
        "at 2026-12-06T09:30:00.500Z",
        "day 2026-12-06T00:00:00.000Z",
        "lasts 1h30m0s",
        "tags [\"a\", nil]",
        "nums [1, 2]",
        "feel \"happy\"",
        "true true",
        "Ok(Row(one=1, none=nil, f=2.5))",
        "Err(UniqueViolation(\"duplicate key value violates unique constraint \\\"items_name_key\\\" (Key (name)=(widget) already exists.)\"))",
        "CheckViolation(\"new row for relation \\\"items\\\" violates check constraint \\\"items_qty_check\\\" (Failing row contains (3, neg, -1, null, null, null, null, null, null, null, null, null, null, null, null, null, null).)\")",
        "Err(ValueError(\"parameter $2 (int4): 3000000000 does not fit in int4\"))",
        "Err(ValueError(\"parameter $2 (int4): wants an int, got str\"))",
        "Err(ValueError(\"parameter $2 (uuid): \\\"not-a-uuid\\\" is not a uuid\"))",
        "Err(DatabaseError(\"42601\", \"syntax error at or near \\\"SELEC\\\"\"))",
        "Err(ValueError(\"column \\\"addr\\\": cn has no value for the type inet; cast the column in the query (`::text`)\"))",
        "Ok(Row(addr=\"127.0.0.1/32\"))",
        "[Row(name=\"widget\")]",
        "Err(\"no\") 4",
        "true",
        "Err(DatabaseError(\"25P02\", \"current transaction is aborted, commands ignored until end of transaction block\"))",
        "4",
    ];
    assert_eq!(out, expected, "stderr: {err:?}");
}

/// Seed 000's "Complete Cloud-Native App", with the `import sql` the seed leaves out.
const SEED_APP: &str = r#"import http
import log
import config
import metrics
import tracing
import k8s
import sql

type Config:
    @env("PORT")
    @default(8080)
    port: int

    @env("DATABASE_URL")
    database_url: str

    @env("LOG_LEVEL")
    @default("info")
    log_level: str

fn main():
    # Load config
    cfg = config.load[Config]()

    # Configure logging
    log.set_level(cfg.log_level)

    # Connect to database
    db = sql.connect(cfg.database_url)
    defer db.close()

    # Create server
    server = http.Server(f":{cfg.port}")

    # Health checks
    server.health.add_check("database", fn(): db.ping())

    # Routes
    server.route("GET", "/users", fn(req):
        tracing.span("list_users"):
            users = db.query("SELECT * FROM users")
            metrics.counter("users_listed").inc()
            return http.Response.json(users)
    )

    # Start with graceful shutdown
    log.info("Starting server", port=cfg.port)
    server.run()
"#;

#[test]
fn the_seed_app_serves_rows_and_readiness_follows_the_database() {
    let mut pg = Postgres::start();
    pg.psql("CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT NOT NULL, email TEXT); INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com'), ('bob', NULL)");
    let url = pg.url();
    let script = Script::start_with_env(
        "seed_app",
        SEED_APP,
        &[("DATABASE_URL", url.as_str()), ("PORT", "0")],
    );
    let port = script.server_port();
    let users = get(port, "/users");
    assert_eq!(users.status, 200, "{}", users.body);
    let body: serde_json::Value = serde_json::from_str(&users.body).expect("JSON rows");
    assert_eq!(
        body,
        serde_json::json!([
            {"id": 1, "name": "ann", "email": "ann@example.com"},
            {"id": 2, "name": "bob", "email": null}
        ])
    );
    let ready = get(port, "/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    let ready: serde_json::Value = serde_json::from_str(&ready.body).expect("JSON");
    assert_eq!(
        ready["pools"][0]["name"],
        format!("127.0.0.1:{}/postgres", pg.port)
    );
    assert_eq!(ready["pools"][0]["max"], 10);
    assert_eq!(ready["pools"][0]["saturated"], false);

    let metrics = get(port, "/metrics").body;
    for needle in [
        r#"db_query_duration_seconds_count{pool="127.0.0.1:"#,
        r#"operation="SELECT",outcome="ok"} 1"#,
        r#"db_client_connections{pool="127.0.0.1:"#,
        r#"db_client_connections_max{pool="127.0.0.1:"#,
        "users_listed_total 1",
    ] {
        assert!(metrics.contains(needle), "{needle} not in {metrics}");
    }
    promtool_accepts(&metrics);

    // The database goes away: readiness fails (after the 1 s result cache), liveness does not.
    pg.stop();
    wait_status(port, "/readyz", 503);
    assert_eq!(get(port, "/healthz").status, 200);
    let down = get(port, "/users");
    assert_eq!(down.status, 500);
    assert!(!down.body.contains(PASSWORD));
    // It comes back: so does readiness, and the rows.
    pg.resume();
    wait_status(port, "/readyz", 200);
    assert_eq!(get(port, "/users").status, 200);

    script.signal("TERM");
    let (_, log, status) = script.finish();
    assert_eq!(status, 0, "{log:?}");
    assert!(
        log.iter().all(|line| !line.contains(PASSWORD)),
        "the password leaked: {log:?}"
    );
}

#[test]
fn the_example_app_serves_its_sqlite_rows() {
    let dir = std::env::temp_dir().join(format!("cn-users-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/users.cn");
    let mut command = std::process::Command::new(common::CN);
    command
        .arg("run")
        .arg(&example)
        .current_dir(&dir)
        .env("PORT", "0")
        .env_remove("DATABASE_URL");
    let script = Script::start_command(&mut command);
    let port = script.server_port();
    let users = get(port, "/users");
    assert_eq!(
        users.body,
        r#"[{"id":1,"name":"ann","email":"ann@example.com"},{"id":2,"name":"bob","email":null}]"#
    );
    assert_eq!(get(port, "/readyz").status, 200);
    assert!(dir.join("users.db").exists());
    script.signal("TERM");
    let (_, log, status) = script.finish();
    assert_eq!(status, 0, "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `promtool check metrics` (Debian's prometheus package, which .ci/run installs) must accept
/// the exposition, the database families included, without a lint complaint.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        assert!(std::env::var("CI").is_err(), "promtool is missing");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("promtool reads");
    let output = child.wait_with_output().expect("promtool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.is_empty(),
        "promtool: {said}"
    );
}

/// Polls `path` until it answers `status`.
fn wait_status(port: u16, path: &str, status: u16) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let answer = get(port, path);
        if answer.status == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} still answers {}: {}",
            answer.status,
            answer.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

const SERVICE: &str = r#"import http
import os
import sql

db = sql.connect(os.getenv("DATABASE_URL"), max_connections=2, acquire_timeout=300.milliseconds)
server = http.Server(":0", request_timeout=1.second)

server.route("GET", "/slow", fn(req):
    return http.Response.json(db.query("SELECT pg_sleep(600) AS slept"))
)
server.route("GET", "/hold", fn(req):
    return http.Response.text(str(db.query_one("SELECT pg_sleep(600)")))
)
server.route("GET", "/one", fn(req):
    match db.query_one("SELECT 1 AS n"):
        case Ok(row):
            return http.Response.text(str(row.n))
        case Err(PoolTimeout(message)):
            return http.Response.text(message, status=503)
        case Err(e):
            return http.Response.text(str(e), status=500)
)
server.route("GET", "/user", fn(req):
    return http.Response.json(db.query("SELECT name FROM users WHERE name = $1", req.query.get("name")))
)
server.route("GET", "/count", fn(req):
    return http.Response.json(db.query_one("SELECT count(*) AS n FROM users").unwrap().n)
)
server.run()
"#;

#[test]
fn deadlines_cancel_on_the_server_and_an_exhausted_pool_explains_itself() {
    let pg = Postgres::start();
    pg.psql("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ann')");
    let url = pg.url();
    let script = Script::start_with_env("sql_service", SERVICE, &[("DATABASE_URL", url.as_str())]);
    let port = script.server_port();
    let sleeping =
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(600)%' AND state = 'active'";

    // The handler's deadline passes: the client gets 503, and the query stops on the server.
    let slow = get(port, "/slow");
    assert_eq!(slow.status, 503, "{}", slow.body);
    pg.wait_for(sleeping, "0");

    // Two requests hold both connections; a third waits 300 ms and is told why it got none.
    let holders: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || get(port, "/hold")))
        .collect();
    pg.wait_for(sleeping, "2");
    let refused = get(port, "/one");
    assert_eq!(refused.status, 503);
    assert!(
        refused
            .body
            .contains("all 2 connections are in use (max_connections=2)"),
        "{}",
        refused.body
    );
    // Their own deadlines end the holders; their queries are cancelled too.
    for holder in holders {
        assert_eq!(holder.join().expect("a holder").status, 503);
    }
    pg.wait_for(sleeping, "0");
    assert_eq!(get(port, "/one").body, "1");

    // Injection attempts are data.
    for attempt in ["x' OR '1'='1", "'; DROP TABLE users; --", "ann'--", "$1"] {
        let encoded: String = attempt.bytes().map(|b| format!("%{b:02X}")).collect();
        let answer = get(port, &format!("/user?name={encoded}"));
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, "[]"),
            "{attempt}"
        );
    }
    assert_eq!(get(port, "/user?name=ann").body, r#"[{"name":"ann"}]"#);
    assert_eq!(get(port, "/count").body, "1");
    assert_eq!(pg.psql("SELECT count(*) FROM users"), "1");
}

#[test]
fn tls_as_sslmode_asks() {
    let (pg, ca) = Postgres::start_with_tls();
    let ca_file = pg.dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("the CA file");
    let base = pg.url();
    let source = r#"import sql
import os

fn encrypted(url):
    db = sql.connect(url, lazy=true)
    match db.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"):
        case Ok(row):
            return row.ssl
        case Err(ConnectError(message)):
            return "refused: " + message
        case Err(e):
            return e

base = os.getenv("DATABASE_URL")
print(encrypted(base + "?sslmode=disable"))
print(encrypted(base + "?sslmode=require"))
print(encrypted(base + "?sslmode=verify-full&sslrootcert=" + os.getenv("CA_FILE")))
print(encrypted(base + "?sslmode=verify-full"))
"#;
    let ca_path = ca_file.display().to_string();
    let (out, err, status) = Script::start_with_env(
        "sql_tls",
        source,
        &[
            ("DATABASE_URL", base.as_str()),
            ("CA_FILE", ca_path.as_str()),
        ],
    )
    .finish();
    assert_eq!(status, 0, "{err:?}");
    assert_eq!(out[..3], ["false", "true", "true"], "{out:?} {err:?}");
    // Without the CA, verify-full must refuse the self-signed certificate.
    assert!(
        out[3].starts_with("refused: ") && out[3].to_lowercase().contains("certificate"),
        "{out:?}"
    );
    assert!(!out[3].contains(PASSWORD));
}

#[test]
fn the_password_is_never_shown() {
    let pg = Postgres::start();
    let wrong = pg.url().replace(PASSWORD, "not-the-Pw-7");
    let source = r#"import sql
import os
import log

db = sql.connect(os.getenv("DATABASE_URL"))
print(db)
print(db.url)
log.info("connected", db=db)
bad = sql.connect(os.getenv("WRONG_URL"), lazy=true)
print(bad.query_one("SELECT 1"))
print(bad.ping())
sql.connect(os.getenv("WRONG_URL"))
"#;
    let url = pg.url();
    let (out, err, status) = Script::start_with_env(
        "sql_password",
        source,
        &[
            ("DATABASE_URL", url.as_str()),
            ("WRONG_URL", wrong.as_str()),
        ],
    )
    .finish();
    assert_eq!(status, 1);
    let masked = format!("postgres://cn:***@127.0.0.1:{}/postgres", pg.port);
    assert_eq!(
        out[0],
        format!("<sql.Database {masked} in_use=0 idle=1 max=10>")
    );
    assert_eq!(out[1], masked);
    assert_eq!(
        out[2],
        format!("Err(ConnectError(\"cannot connect to {masked}: password authentication failed for user \\\"cn\\\"\"))")
    );
    assert_eq!(out[3], "false");
    let everything = format!("{out:?}{err:?}");
    assert!(!everything.contains(PASSWORD), "{everything}");
    assert!(!everything.contains("not-the-Pw-7"), "{everything}");
    assert!(
        err.iter()
            .any(|l| l.contains("fault: sql.connect: cannot connect to") && l.contains(":***@")),
        "{err:?}"
    );
}
