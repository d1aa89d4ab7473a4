//! A real PostgreSQL server for the `sql` tests: Debian's `postgresql` package, `initdb` into a
//! temporary directory and `postgres` started as a child listening on a free localhost port
//! (and a socket in that directory). PostgreSQL refuses to run as root, so under root (CI) both
//! run as the package's `postgres` user through `setpriv`. Authentication is SCRAM with a
//! password, so the tests see a URL with a password to mask. `stop` and `start` stop and
//! restart the same cluster on the same port (the readiness test).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The password of the `cn` superuser the tests connect as.
pub const PASSWORD: &str = "s3cret-Pw-42";

/// A running (or stopped) test cluster.
pub struct Postgres {
    pub dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    child: Option<Child>,
    /// More `-c name=value` settings for the server.
    settings: Vec<String>,
}

/// The directory holding `initdb` and `postgres` (PATH first, then Debian's versioned one).
fn bin_dir() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.exists() {
                let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
                return real.parent().map(Path::to_path_buf);
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// Whether this machine can run the tests' PostgreSQL.
pub fn available() -> bool {
    bin_dir().is_some()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as the `postgres` user when this process is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--clear-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Postgres {
    /// A fresh cluster, started.
    pub fn start() -> Postgres {
        let mut server = Postgres::init();
        server.resume();
        server
    }

    /// A fresh cluster that also accepts TLS, with a self-signed certificate for 127.0.0.1
    /// (returned as PEM, for clients to trust).
    pub fn start_with_tls() -> (Postgres, String) {
        let mut server = Postgres::init();
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .expect("a certificate");
        let cert = server.dir.join("server.crt");
        let key = server.dir.join("server.key");
        std::fs::write(&cert, certified.cert.pem()).expect("the certificate");
        std::fs::write(&key, certified.key_pair.serialize_pem()).expect("the key");
        // PostgreSQL refuses a key others can read.
        let status = Command::new("chmod")
            .arg("600")
            .arg(&key)
            .status()
            .expect("chmod runs");
        assert!(status.success());
        if is_root() {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&cert)
                .arg(&key)
                .status()
                .expect("chown runs");
            assert!(status.success());
        }
        server.settings = vec![
            "ssl=on".into(),
            format!("ssl_cert_file={}", cert.display()),
            format!("ssl_key_file={}", key.display()),
        ];
        server.resume();
        (server, certified.cert.pem())
    }

    /// A fresh cluster, not started.
    fn init() -> Postgres {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let bin = bin_dir().expect("PostgreSQL is installed (apt-get install -y postgresql)");
        let dir = std::env::temp_dir().join(format!(
            "cn-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).expect("the password file");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {} failed", dir.display());
        }
        let output = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args([
                "-U",
                "cn",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Postgres {
            dir,
            bin,
            port: free_port(),
            child: None,
            settings: Vec::new(),
        }
    }

    /// Starts the server again (after `stop`), on the same port.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let log = std::fs::File::create(self.dir.join(format!("log-{}", self.port)))
            .expect("the server log");
        let child = as_server_user(&self.bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ])
            .args(self.settings.iter().flat_map(|s| ["-c", s.as_str()]))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.try_psql("SELECT 1").is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.join(format!("log-{}", self.port)))
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (fast shutdown: sessions are ended) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// The URL a script connects with.
    pub fn url(&self) -> String {
        format!("postgres://cn:{PASSWORD}@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `sql` with psql; its unaligned output, or the error.
    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        let psql = self.bin.join("psql");
        let output = Command::new(if psql.exists() { psql } else { "psql".into() })
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", "cn", "-d", "postgres", "-c", sql])
            .env("PGPASSWORD", PASSWORD)
            .env("PGCONNECT_TIMEOUT", "5")
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Runs `sql` with psql; panics on an error.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|e| panic!("psql {sql:?} failed: {e}"))
    }

    /// Waits until `sql` answers `expected` (the server's view changes as scripts act on it).
    pub fn wait_for(&self, sql: &str, expected: &str) {
        let deadline = Instant::now() + super::PATIENCE;
        loop {
            let answer = self.psql(sql);
            if answer == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sql:?} still answers {answer:?}, not {expected:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
