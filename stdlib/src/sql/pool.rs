//! The connection pool: cn's own over sqlx's connections, so that it can explain itself.
//!
//! sqlx's pool answers a wait that ran out with a bare `PoolTimedOut`, and its connections carry
//! nothing of cn's. Here a wait that runs out says how many connections there are, how many are
//! in use and how many tasks wait, and the last connect error if connecting failed; a connect
//! failure is reported at once instead of being waited out; each PostgreSQL connection knows
//! its server process id, so a query past its deadline can be cancelled on the server.
//!
//! Everything runs on the interpreter thread: the state is in `Cell`s and `RefCell`s, and a
//! `Notify` wakes one waiter per returned connection. An idle connection is checked with a ping
//! before it is handed out if it sat unused for a while (a database restart leaves every idle
//! connection dead); one past `max_lifetime` or `idle_timeout` is closed instead. A background
//! task does the same for connections nobody asks for and keeps `min_connections` open.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::sync::{mpsc, Notify};

use super::errors::SqlError;
use super::observe::PoolGauges;
use super::target::{Location, Settings, Target};

/// An idle connection older than this is pinged before use.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

/// One open connection.
pub enum Conn {
    Postgres { conn: PgConnection, pid: i32 },
    Sqlite(SqliteConnection),
}

impl Conn {
    async fn ping(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Postgres { conn, .. } => conn.ping().await,
            Conn::Sqlite(conn) => conn.ping().await,
        }
    }

    async fn close(self) {
        let _ = match self {
            Conn::Postgres { conn, .. } => conn.close().await,
            Conn::Sqlite(conn) => conn.close().await,
        };
    }
}

struct Idle {
    conn: Conn,
    created: Instant,
    since: Instant,
}

/// What `db.stats()` and `/readyz` report.
pub struct Stats {
    pub max: usize,
    pub open: usize,
    pub in_use: usize,
    pub idle: usize,
    pub waiting: usize,
}

/// A pool and what it knows about itself.
pub struct Pool {
    pub target: Target,
    pub settings: Settings,
    pub location: Location,
    idle: RefCell<Vec<Idle>>,
    /// Connections open or being opened (idle, leased and connecting).
    open: Cell<usize>,
    leased: Cell<usize>,
    waiting: Cell<usize>,
    returned: Notify,
    closed: Cell<bool>,
    last_connect_error: RefCell<Option<String>>,
    /// When a statement last succeeded: a pool whose connections are all busy still has a
    /// healthy database (`db.ping()` says so).
    last_success: Cell<Option<Instant>>,
    gauges: PoolGauges,
    /// Server process ids whose statement must be cancelled (PostgreSQL), for the task
    /// `start_upkeep` starts.
    cancels: RefCell<Option<mpsc::UnboundedSender<i32>>>,
}

/// A connection taken from the pool; it goes back when dropped, or is closed if `broken`.
pub struct Lease {
    pool: Rc<Pool>,
    conn: Option<Conn>,
    created: Instant,
    /// The connection is in an unknown state (an abandoned statement, a lost socket): close it
    /// instead of reusing it.
    pub broken: bool,
    /// A transaction is open on it: should the lease be dropped before it ends, the connection
    /// is closed (the server rolls the transaction back), never handed to someone else.
    pub in_transaction: bool,
}

impl Lease {
    pub fn conn(&mut self) -> Result<&mut Conn, SqlError> {
        self.conn
            .as_mut()
            .ok_or_else(|| SqlError::Closed("the connection was closed".into()))
    }

    /// The server process id of a PostgreSQL connection.
    pub fn pid(&self) -> Option<i32> {
        match &self.conn {
            Some(Conn::Postgres { pid, .. }) => Some(*pid),
            _ => None,
        }
    }

    pub fn pool(&self) -> &Rc<Pool> {
        &self.pool
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let pool = &self.pool;
        pool.leased.set(pool.leased.get().saturating_sub(1));
        let expired = pool
            .settings
            .max_lifetime
            .is_some_and(|life| self.created.elapsed() >= life);
        match self.conn.take() {
            Some(conn)
                if !self.broken && !self.in_transaction && !expired && !pool.closed.get() =>
            {
                pool.idle.borrow_mut().push(Idle {
                    conn,
                    created: self.created,
                    since: Instant::now(),
                });
            }
            other => {
                pool.open.set(pool.open.get().saturating_sub(1));
                if let Some(conn) = other {
                    close_later(conn);
                }
            }
        }
        pool.report();
        pool.returned.notify_one();
    }
}

/// Lets a connection go without waiting: dropping it closes the socket, and the server ends
/// the session. (A polite close would need a task, and this runs in `Drop`, possibly while the
/// runtime itself is being torn down.)
fn close_later(conn: Conn) {
    drop(conn);
}

thread_local! {
    /// Every open pool, for `/readyz`'s details.
    static POOLS: RefCell<Vec<Weak<Pool>>> = const { RefCell::new(Vec::new()) };
}

/// The statistics of every open pool, by name.
pub fn all_stats() -> Vec<(String, Stats)> {
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        pools.retain(|p| p.upgrade().is_some_and(|p| !p.closed.get()));
        pools
            .iter()
            .filter_map(Weak::upgrade)
            .map(|p| (p.location.name.clone(), p.stats()))
            .collect()
    })
}

impl Pool {
    /// A pool with no connections yet.
    pub fn new(target: Target, settings: Settings, location: Location) -> Rc<Pool> {
        let gauges = PoolGauges::new(&location.name, settings.max_connections);
        let pool = Rc::new(Pool {
            target,
            settings,
            location,
            idle: RefCell::new(Vec::new()),
            open: Cell::new(0),
            leased: Cell::new(0),
            waiting: Cell::new(0),
            returned: Notify::new(),
            closed: Cell::new(false),
            last_connect_error: RefCell::new(None),
            last_success: Cell::new(None),
            gauges,
            cancels: RefCell::new(None),
        });
        POOLS.with(|pools| pools.borrow_mut().push(Rc::downgrade(&pool)));
        pool
    }

    pub fn stats(&self) -> Stats {
        let idle = self.idle.borrow().len();
        Stats {
            max: self.settings.max_connections,
            open: self.open.get(),
            in_use: self.leased.get(),
            idle,
            waiting: self.waiting.get(),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// A statement succeeded.
    pub fn succeeded(&self) {
        self.last_success.set(Some(Instant::now()));
    }

    /// Whether a statement succeeded within `window`.
    pub fn succeeded_within(&self, window: Duration) -> bool {
        self.last_success
            .get()
            .is_some_and(|at| at.elapsed() <= window)
    }

    fn report(&self) {
        let stats = self.stats();
        self.gauges.set(&stats);
    }

    /// A connection, by `deadline`: an idle one (checked if it sat a while), a new one while
    /// fewer than `max_connections` are open, or the next one returned.
    pub async fn acquire(self: &Rc<Pool>, deadline: Instant) -> Result<Lease, SqlError> {
        let started = Instant::now();
        loop {
            if self.closed.get() {
                return Err(SqlError::Closed(format!(
                    "the pool for {} is closed",
                    self.location.masked_url
                )));
            }
            if let Some(lease) = self.take_idle().await {
                return Ok(lease);
            }
            if self.open.get() < self.settings.max_connections {
                return self.open_new(deadline).await;
            }
            self.waiting.set(self.waiting.get() + 1);
            self.report();
            let woken = tokio::time::timeout_at(deadline.into(), self.returned.notified()).await;
            self.waiting.set(self.waiting.get().saturating_sub(1));
            self.report();
            if woken.is_err() {
                return Err(SqlError::PoolTimeout(self.explain(started.elapsed())));
            }
        }
    }

    /// Why no connection came: the pool's numbers and the last connect error.
    fn explain(&self, waited: Duration) -> String {
        let stats = self.stats();
        let mut text = format!(
            "no connection to {} within {:?}: all {} connections are in use (max_connections={}), {} other task(s) waiting",
            self.location.name,
            round_ms(waited),
            stats.in_use,
            stats.max,
            stats.waiting,
        );
        if let Some(error) = &*self.last_connect_error.borrow() {
            text.push_str("; the last connect attempt failed: ");
            text.push_str(error);
        }
        text.push_str(". Raise max_connections, or find what holds connections (long queries, transactions left open)");
        text
    }

    /// An idle connection that is still good, if there is one; expired ones are closed.
    async fn take_idle(self: &Rc<Pool>) -> Option<Lease> {
        loop {
            let idle = self.idle.borrow_mut().pop()?;
            if self.expired(&idle) {
                self.open.set(self.open.get().saturating_sub(1));
                close_later(idle.conn);
                continue;
            }
            self.leased.set(self.leased.get() + 1);
            let mut lease = Lease {
                pool: self.clone(),
                conn: Some(idle.conn),
                created: idle.created,
                broken: false,
                in_transaction: false,
            };
            self.report();
            if idle.since.elapsed() >= CHECK_AFTER_IDLE {
                let alive = match lease.conn.as_mut() {
                    Some(conn) => tokio::time::timeout(Duration::from_secs(2), conn.ping())
                        .await
                        .is_ok_and(|r| r.is_ok()),
                    None => false,
                };
                if !alive {
                    lease.broken = true;
                    drop(lease);
                    continue;
                }
            }
            return Some(lease);
        }
    }

    fn expired(&self, idle: &Idle) -> bool {
        let settings = &self.settings;
        settings
            .max_lifetime
            .is_some_and(|life| idle.created.elapsed() >= life)
            || settings
                .idle_timeout
                .is_some_and(|limit| idle.since.elapsed() >= limit)
    }

    /// Opens a connection for the caller; a failure is reported at once.
    async fn open_new(self: &Rc<Pool>, deadline: Instant) -> Result<Lease, SqlError> {
        self.open.set(self.open.get() + 1);
        self.leased.set(self.leased.get() + 1);
        let mut lease = Lease {
            pool: self.clone(),
            conn: None,
            created: Instant::now(),
            broken: true,
            in_transaction: false,
        };
        self.report();
        let connected = tokio::time::timeout_at(deadline.into(), self.connect()).await;
        match connected {
            Ok(Ok(conn)) => {
                *self.last_connect_error.borrow_mut() = None;
                lease.conn = Some(conn);
                lease.broken = false;
                Ok(lease)
            }
            Ok(Err(error)) => {
                let message = self.location.mask(&super::errors::describe(&error));
                *self.last_connect_error.borrow_mut() = Some(message.clone());
                Err(SqlError::Connect(format!(
                    "cannot connect to {}: {message}",
                    self.location.masked_url
                )))
            }
            Err(_) => {
                let message = "no answer before the deadline".to_string();
                *self.last_connect_error.borrow_mut() = Some(message.clone());
                Err(SqlError::Timeout(format!(
                    "connecting to {}: {message}",
                    self.location.masked_url
                )))
            }
        }
    }

    /// A new connection; a PostgreSQL one learns its server process id.
    pub async fn connect(&self) -> Result<Conn, sqlx::Error> {
        match &self.target {
            Target::Postgres(options) => {
                let mut conn = options.connect().await?;
                let row = conn.fetch_one("SELECT pg_backend_pid()").await?;
                let pid: i32 = row.try_get(0)?;
                Ok(Conn::Postgres { conn, pid })
            }
            Target::Sqlite(options) => Ok(Conn::Sqlite(options.connect().await?)),
        }
    }

    /// Closes the pool: idle connections now, leased ones as they come back; waiters and later
    /// calls get an error.
    pub async fn close(self: &Rc<Pool>) {
        if self.closed.replace(true) {
            return;
        }
        self.returned.notify_waiters();
        let idle: Vec<Idle> = self.idle.borrow_mut().drain(..).collect();
        self.open.set(self.open.get().saturating_sub(idle.len()));
        for connection in idle {
            connection.conn.close().await;
        }
        self.report();
        self.gauges.remove();
    }

    /// Starts the background upkeep: closes idle connections past their limits and keeps
    /// `min_connections` open. It stops when the pool is closed or dropped.
    pub fn start_upkeep(self: &Rc<Pool>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if matches!(self.target, Target::Postgres(_)) {
            let (sender, receiver) = mpsc::unbounded_channel();
            *self.cancels.borrow_mut() = Some(sender);
            tokio::task::spawn_local(cancel_statements(Rc::downgrade(self), receiver));
        }
        let weak = Rc::downgrade(self);
        let period = self
            .settings
            .idle_timeout
            .map_or(Duration::from_secs(30), |t| {
                (t / 2).clamp(Duration::from_millis(100), Duration::from_secs(30))
            });
        tokio::task::spawn_local(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(pool) = weak.upgrade() else { return };
                if pool.closed.get() {
                    return;
                }
                pool.upkeep().await;
            }
        });
    }

    async fn upkeep(self: &Rc<Pool>) {
        let min = self.settings.min_connections;
        let mut keep = Vec::new();
        let idle: Vec<Idle> = self.idle.borrow_mut().drain(..).collect();
        for connection in idle {
            let above_min = self.open.get() > min;
            if above_min && self.expired(&connection) {
                self.open.set(self.open.get().saturating_sub(1));
                close_later(connection.conn);
            } else {
                keep.push(connection);
            }
        }
        self.idle.borrow_mut().splice(0..0, keep);
        while self.open.get() < min && !self.closed.get() {
            self.open.set(self.open.get() + 1);
            match self.connect().await {
                Ok(conn) => {
                    self.idle.borrow_mut().insert(
                        0,
                        Idle {
                            conn,
                            created: Instant::now(),
                            since: Instant::now(),
                        },
                    );
                    self.returned.notify_one();
                }
                Err(error) => {
                    self.open.set(self.open.get().saturating_sub(1));
                    let message = self.location.mask(&super::errors::describe(&error));
                    *self.last_connect_error.borrow_mut() = Some(message);
                    break;
                }
            }
        }
        self.report();
    }
}

impl Pool {
    /// Asks for the statement running in server process `pid` to be cancelled.
    pub fn cancel(&self, pid: i32) {
        if let Some(sender) = &*self.cancels.borrow() {
            let _ = sender.send(pid);
        }
    }
}

/// Cancels statements on the server, one at a time as they are asked for, each from a
/// connection of its own (the one running the statement is busy): `pg_cancel_backend`, which
/// the same role may always use. (The protocol's CancelRequest would need the connection's
/// secret key, which sqlx keeps to itself.)
async fn cancel_statements(pool: Weak<Pool>, mut pids: mpsc::UnboundedReceiver<i32>) {
    while let Some(pid) = pids.recv().await {
        let Some(options) = pool.upgrade().and_then(|p| match &p.target {
            Target::Postgres(options) => Some(options.clone()),
            Target::Sqlite(_) => None,
        }) else {
            return;
        };
        if let Ok(Ok(mut conn)) =
            tokio::time::timeout(Duration::from_secs(5), options.connect()).await
        {
            let cancel = sqlx::query("SELECT pg_cancel_backend($1)").bind(pid);
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.execute(cancel)).await;
            let _ = conn.close().await;
        }
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}
