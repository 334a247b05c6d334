//! Persistence with sqlx on SQLite (embedded default) or PostgreSQL. Queries are written once
//! in the common subset (`$N` placeholders, BIGINT Unix times, `RETURNING`) and run on the
//! concrete pool through `on_db!`, so each backend keeps its native driver and types.

pub mod apps;
pub mod audit;
pub mod checkpoint;
pub mod declarative;
pub mod devices;
pub mod factors;
pub mod grants;
pub mod group_commit;
pub mod keys;
pub mod links;
pub mod mfa_transactions;
pub mod oob;
pub mod outbox;
pub mod passkeys;
pub mod plugins;
pub mod saml;
pub mod sessions;
pub mod settings;
pub mod stats;
pub mod users;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::config::{Config, SqliteSync};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// SQLite admits one writer at a time; colliding writers fall into SQLite's busy handler,
/// which sleeps in steps of milliseconds. Writes therefore queue on an async mutex in this
/// process instead and go through one connection of their own, while readers stay concurrent
/// under WAL. `busy_timeout` still covers other processes, such as the CLI, writing to the
/// same file.
///
/// The single writer also keeps its page cache: SQLite drops a connection's cache whenever
/// another connection has written since its last transaction, so writes spread over a pool
/// re-read every page they touch from the file. Readers are `query_only`, so a write that
/// skipped the gate fails loudly instead of colliding.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    pub writer: SqlitePool,
    pub write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Writes waiting at the gate right now (the `portcullis_sqlite_writer_queue` gauge).
    pub writers_waiting: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Refresh-token rotations come in floods and are committed in groups: see
    /// `group_commit`.
    pub rotations: group_commit::GroupCommit<grants::GroupedRotation>,
    /// The WAL is checkpointed beside the writer: see `checkpoint`.
    pub checkpointer: checkpoint::Checkpointer,
}

/// The PostgreSQL pool, with the queue refresh-token rotations are grouped through (see
/// `group_commit`).
#[derive(Clone, Debug)]
pub struct PgDb {
    pub pool: PgPool,
    /// The connections groups of refresh-token rotations run on (see `connect_postgres`).
    pub rotation_pool: PgPool,
    pub rotations: group_commit::PgGroupCommit<grants::GroupedRotation>,
}

impl SqliteDb {
    /// Takes the write gate, counted among the waiting writers until it is held (a write
    /// abandoned while waiting stops counting too).
    pub async fn lock_writer(&self) -> tokio::sync::MutexGuard<'_, ()> {
        let _waiting = Counted::enter(&self.writers_waiting);
        self.write_gate.lock().await
    }
}

/// One among those counted by a gauge (writers waiting, writes pending) for as long as it
/// lives: the count goes down when it is dropped, also when the future holding it is.
pub(crate) struct Counted<'a>(&'a std::sync::atomic::AtomicI64);

impl<'a> Counted<'a> {
    pub(crate) fn enter(gauge: &'a std::sync::atomic::AtomicI64) -> Self {
        gauge.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Counted(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A PostgreSQL pool of `max` connections with the configured acquire timeout. A connection
/// in steady use is not pinged before each query (a round trip per query); one that sat idle
/// a while is, since a restart or a firewall may have cut it in the meantime.
fn pg_pool(cfg: &Config, max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PG_PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(cfg.database.acquire_timeout_seconds))
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend. The body is
/// expanded once per backend, so it type-checks against each driver separately. On
/// PostgreSQL a read that meets a broken pooled connection (the server restarted since it was
/// opened) is run again on another one: see `retry_pg`.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                $crate::retry_pg!(&pg.pool, $pool, $body, $crate::store::Statement::Read)
            }
        }
    };
}

/// `on_db!` for statements that write: on SQLite they pass the write gate first; on
/// PostgreSQL they are run again only when the server's own notice proves the first try never
/// ran (see `Statement::Write`).
#[macro_export]
macro_rules! on_db_write {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let _gate = sqlite.lock_writer().await;
                let $pool = &sqlite.writer;
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                $crate::retry_pg!(&pg.pool, $pool, $body, $crate::store::Statement::Write)
            }
        }
    };
}

/// Stores an enum as the text of its `as_str` (and reads it back with its `parse`) on both
/// databases, and displays it so: a column keeps its plain TEXT type, and Rust code never
/// sees a string it would have to match. A value no variant names is a decoding error, not a
/// silent default.
#[doc(hidden)]
#[macro_export]
macro_rules! text_enum {
    ($t:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $t
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $t
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                <$t>::parse(&s).ok_or_else(|| format!("`{s}` is not a {}", stringify!($t)).into())
            }
        }
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $t
        where
            &'static str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'static str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Runs `$body` on the PostgreSQL pool; while it fails on a broken pooled connection that is
/// safe to try again, it tries again (sqlx drops the broken connection, so each try takes
/// another), at most once per pooled connection plus one fresh.
#[doc(hidden)]
#[macro_export]
macro_rules! retry_pg {
    ($pg:expr, $pool:ident, $body:expr, $kind:expr) => {{
        let $pool = $pg;
        let mut tries = 0u32;
        loop {
            match async { Ok::<_, sqlx::Error>($body) }.await {
                Ok(v) => break v,
                Err(e) if tries <= $pool.options().get_max_connections() && $crate::store::is_retryable(&e, $kind) => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "a pooled PostgreSQL connection was broken; trying another");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }};
}

/// What a statement does, for deciding whether it may run again after a connection fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    Read,
    Write,
}

/// Whether `e` came from a pooled connection that was already dead, so the statement can be
/// run again on another. A read is safe to repeat after any connection fault. A write only
/// when PostgreSQL's termination notice (57P01 admin shutdown, 57P02 crash shutdown, 57P03
/// cannot connect now: the backend was gone, so nothing of the statement ran and no commit
/// happened) or a broken pipe (the statement was never sent) says so; after any other fault
/// the write may have committed, and trying again could do it twice.
pub fn is_retryable(e: &sqlx::Error, kind: Statement) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.code().as_deref(), Some("57P01" | "57P02" | "57P03")),
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => true,
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => kind == Statement::Read,
        _ => false,
    }
}

/// Whether `e` means the database cannot be reached right now (answered 503 with
/// `Retry-After`, OAuth's `temporarily_unavailable`), rather than a fault of ours.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// The row of a single-row write statement with `RETURNING`. Such statements are read with
/// `fetch_all` and this, never with `fetch_optional` or `fetch_one`: SQLite commits an
/// autocommit statement, and runs the WAL hook behind its automatic checkpoint, only when the
/// statement is stepped to its end. Stopping at the first row leaves the commit to the
/// statement's reset, which skips the checkpoint, and the WAL then grows without bound
/// (`tests/it/sqlite_wal.rs`).
pub(crate) fn returned<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// `returned` for a statement that always yields its row.
pub(crate) fn returned_one<T>(rows: Vec<T>) -> Result<T, sqlx::Error> {
    returned(rows).ok_or(sqlx::Error::RowNotFound)
}

/// A pooled PostgreSQL connection idle this long is checked before it is handed out.
const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(15);

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// SQLite's busy timeout on every connection: how long a write waits for another process
/// (the CLI, say) that holds the database's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the connection the SQLite group commit writes on (see `group_commit`), with the
/// writer's settings: the file the writer created and switched to WAL, its `synchronous`, its
/// busy timeout, foreign keys and automatic checkpoint.
pub fn group_writer(path: std::path::PathBuf, synchronous: SqliteSync) -> group_commit::OpenWriter {
    use rusqlite::OpenFlags;
    Box::new(move || {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(&path, flags)?;
        conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            anyhow::bail!("the database is in journal mode {mode}, not WAL");
        }
        conn.pragma_update(None, "synchronous", synchronous.pragma())?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_AUTOCHECKPOINT)?;
        Ok(conn)
    })
}

impl Db {
    pub async fn connect(cfg: &Config) -> anyhow::Result<Db> {
        let url = cfg.effective_database_url();
        let acquire = Duration::from_secs(cfg.database.acquire_timeout_seconds);
        if url.starts_with("sqlite:") {
            if cfg.database_url.is_empty() {
                std::fs::create_dir_all(&cfg.data_dir)
                    .map_err(|e| anyhow::anyhow!("cannot create data_dir {}: {e}", cfg.data_dir.display()))?;
            }
            if url.contains(":memory:") || url.contains("mode=memory") {
                anyhow::bail!(
                    "database_url {url}: Portcullis keeps its SQLite database in a file (several connections \
                     share it), not in memory; give the path of a file"
                );
            }
            let opts = SqliteConnectOptions::from_str(&url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // See `SqliteSync`: NORMAL is durable across a crash of the process, and the
                // checkpoint task syncs the WAL within about a second of a write; FULL syncs
                // every commit.
                .synchronous(SqliteSynchronous::from_str(cfg.database.sqlite_synchronous.pragma())?)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let open = |opts: SqliteConnectOptions, max: u32| {
                SqlitePoolOptions::new()
                    .max_connections(max)
                    // An embedded database's connection cannot go stale; a ping before every
                    // acquire would cost a round trip to the connection's worker thread (two
                    // context switches) on every query.
                    .test_before_acquire(false)
                    .acquire_timeout(acquire)
                    .connect_with(opts)
            };
            let fail = |e: sqlx::Error| anyhow::anyhow!("cannot open SQLite database {url}: {e}");
            // The writer first: it creates the file and switches it to WAL.
            let writer_opts = opts.clone().pragma("wal_autocheckpoint", checkpoint::WRITER_AUTOCHECKPOINT);
            let writer = open(writer_opts, 1).await.map_err(fail)?;
            let pool =
                open(opts.clone().pragma("query_only", "ON"), cfg.database.max_connections).await.map_err(fail)?;
            let write_gate = std::sync::Arc::new(tokio::sync::Mutex::new(()));
            let writers_waiting = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
            let open = group_writer(opts.get_filename().to_owned(), cfg.database.sqlite_synchronous);
            let rotations = group_commit::GroupCommit::start(open, write_gate.clone(), writers_waiting.clone())
                .map_err(|e| anyhow::anyhow!("cannot start the SQLite group commit: {e:#}"))?;
            let checkpointer = checkpoint::Checkpointer::start(opts);
            Ok(Db::Sqlite(SqliteDb { pool, writer, write_gate, writers_waiting, rotations, checkpointer }))
        } else {
            let opts = PgConnectOptions::from_str(&url)?;
            Self::connect_postgres(opts, cfg).await
        }
    }

    pub async fn connect_postgres(opts: PgConnectOptions, cfg: &Config) -> anyhow::Result<Db> {
        // An eighth of the connections (at least one, at most 8) carry groups of rotations,
        // each group on a connection of its own, so that under a flood they never wait behind
        // other work and the rest of the pool stays for everything else. Both pools together
        // keep to `max_connections` (two at the least). Fewer groups at once make each group
        // larger, and PostgreSQL's cost per statement (executor start-up, the commit) is then
        // shared by more rotations: with the default pool of 16, two groups at once (about
        // ten rotations each at 64 chains) cost PostgreSQL a fifth to a quarter less processor
        // time per rotation than four (about five each), with a lower p99 in every A/B pair and the
        // rate the same or higher (2026-12-04); one group at a time cost a third less but
        // made every rotation wait for the commit before it, and the rate did not rise.
        let max = cfg.database.max_connections;
        let in_flight = (max / 8).clamp(1, 8);
        let pool = pg_pool(cfg, max.saturating_sub(in_flight).max(1))
            .connect_with(opts.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        // The group statement finds every row by key. PostgreSQL keeps a prepared statement's
        // generic plan, made once per connection after its first few runs, until the table's
        // statistics change: on a new database under a flood that plan was made while the
        // token table was a page or two, where reading it whole is cheapest, and every group
        // then read the whole table (in one 15 s bench run, 6,833 scans read 147 million rows:
        // half of the machine's processor time) until autovacuum analysed it. With sequential
        // scans off, the plan these connections make is the one by key whatever the table's
        // size was then.
        let rotation_pool = pg_pool(cfg, in_flight).connect_lazy_with(opts.options([("enable_seqscan", "off")]));
        let rotations = group_commit::PgGroupCommit::start(rotation_pool.clone(), in_flight as usize);
        Ok(Db::Postgres(PgDb { pool, rotation_pool, rotations }))
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(s) => {
                let _gate = s.lock_writer().await;
                SQLITE_MIGRATOR.run(&s.writer).await?
            }
            Db::Postgres(p) => POSTGRES_MIGRATOR.run(&p.pool).await?,
        }
        Ok(())
    }

    /// Cheap round-trip for readiness checks: answers within a second either way.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        let ping = async {
            match self {
                Db::Sqlite(s) => sqlx::query("SELECT 1").execute(&s.pool).await.map(|_| ()),
                Db::Postgres(p) => sqlx::query("SELECT 1").execute(&p.pool).await.map(|_| ()),
            }
        };
        tokio::time::timeout(Duration::from_secs(1), ping).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    /// The count of writers waiting for SQLite's write gate (always 0 on PostgreSQL).
    pub fn writers_waiting(&self) -> std::sync::Arc<std::sync::atomic::AtomicI64> {
        match self {
            Db::Sqlite(s) => s.writers_waiting.clone(),
            Db::Postgres(_) => Default::default(),
        }
    }

    /// The group-commit counters of refresh-token rotations.
    pub fn group_stats(&self) -> std::sync::Arc<group_commit::GroupStats> {
        match self {
            Db::Sqlite(s) => s.rotations.stats.clone(),
            Db::Postgres(p) => p.rotations.stats.clone(),
        }
    }

    /// The checkpoints run beside the SQLite writer so far (none on PostgreSQL).
    pub fn checkpoints(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        match self {
            Db::Sqlite(s) => s.checkpointer.checkpoints.clone(),
            Db::Postgres(_) => Default::default(),
        }
    }

    /// Each pool's name, size and idle connections (for the metrics).
    pub fn pools(&self) -> Vec<(&'static str, u32, usize)> {
        match self {
            Db::Sqlite(s) => vec![
                ("sqlite_readers", s.pool.size(), s.pool.num_idle()),
                ("sqlite_writer", s.writer.size(), s.writer.num_idle()),
            ],
            Db::Postgres(p) => vec![
                ("postgres", p.pool.size(), p.pool.num_idle()),
                ("postgres_rotations", p.rotation_pool.size(), p.rotation_pool.num_idle()),
            ],
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => {
                // The writer last: the last connection to close checkpoints the WAL away.
                s.pool.close().await;
                s.writer.close().await;
            }
            Db::Postgres(p) => {
                p.rotation_pool.close().await;
                p.pool.close().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several connections share the SQLite database (readers, the writer, the group commit's
    /// own, the checkpoint's), which one in memory cannot be: such a URL is refused at the
    /// start with a message that says so, not left to fail later.
    #[tokio::test]
    async fn an_sqlite_database_in_memory_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        for url in ["sqlite::memory:", "sqlite://file:portcullis?mode=memory"] {
            let cfg = Config::for_tests("http://localhost", dir.path(), url);
            let e = Db::connect(&cfg).await.map(|_| ()).unwrap_err().to_string();
            assert!(e.contains("in a file") && e.contains(url), "{url}: {e}");
        }
    }
}
