//! Group commit: writes that come in floods (refresh-token rotations) are queued to a task
//! that takes whatever is waiting and writes it together, in one statement where the write
//! knows how (`run_group`): one round trip, one commit and one plan for the lot instead of one
//! each.
//!
//! - On SQLite (`GroupCommit`) every write passes one gate (see `SqliteDb`); a thread of its
//!   own gathers the groups and writes them on a connection of its own, in place: the statement
//!   runs on the thread that gathered the group, with no hand-off to a connection thread and
//!   back (sqlx runs each SQLite connection on a thread of its own). It takes the gate per
//!   group, so one group is written at a time and never beside another write of the process.
//! - On PostgreSQL (`PgGroupCommit`) a few groups may be in flight at once on the pool, each
//!   one statement in its own transaction; while they run, the next group gathers.
//!
//! What each caller sees is unchanged:
//! - its own result, handed over only after the commit returned, so an answer never tells of
//!   a write that a crash could still lose;
//! - its own failure: when the group's statement fails in the database (which undoes the whole
//!   statement), the writes run one by one; on SQLite in a transaction, and when one of those
//!   fails, the transaction is rolled back, that caller gets its error, and the others run
//!   again without it in a new transaction (a statement that fails can leave SQLite's
//!   transaction rolled back behind it, so nothing after a failure runs in the same one);
//! - when the group cannot begin or commit (the database is busy or down, the disk is full),
//!   every caller of it gets `DatabaseUnavailable` (503 with `Retry-After`): nothing of theirs
//!   was written, so trying again is safe;
//! - when it is not known whether the group's statement committed (the connection broke while
//!   it ran, its answer could not be read), every caller gets that error as a lone write
//!   would, and nothing is written again: a rotation run twice would read as a replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// The most writes one group takes; more wait for the next one.
const MAX_GROUP: usize = 256;
/// Writes that may wait for the writer task before callers wait to queue.
const QUEUE: usize = 4096;

/// One write on SQLite that may share a commit with others of its kind: a statement or a few,
/// run in place on the group commit's own connection. It must not begin or end a transaction
/// itself, and it may be run more than once (after another write of its group failed), so it
/// holds its inputs rather than consuming them.
pub trait SqliteGroupedWrite: Send + Sized + 'static {
    type Output: Send + 'static;

    fn run(&self, conn: &rusqlite::Connection) -> rusqlite::Result<Self::Output>;

    /// The whole group as one statement (one commit), answering each write's output in the
    /// group's order; `None` when the kind has no such statement. A failure inside the
    /// database changes nothing (a statement is atomic): the group is then written one by one.
    fn run_group(_group: &[&Self], _conn: &rusqlite::Connection) -> Option<rusqlite::Result<Vec<Self::Output>>> {
        None
    }
}

/// One write on PostgreSQL that may share a commit with others of its kind: a statement or a
/// few, run on one connection of the pool. The same rules as `SqliteGroupedWrite`.
pub trait PgGroupedWrite: Send + Sync + Sized + 'static {
    type Output: Send + 'static;

    fn run<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<Self::Output, sqlx::Error>>;

    /// The whole group as one statement (one round trip and one commit), as
    /// `SqliteGroupedWrite::run_group`.
    fn run_group<'c>(
        _group: &'c [&'c Self],
        _conn: &'c mut PgConnection,
    ) -> Option<BoxFuture<'c, Result<Vec<Self::Output>, sqlx::Error>>> {
        None
    }
}

/// Opens the SQLite group commit's connection: at the start, and again after a failure left
/// the one before in doubt.
pub type OpenWriter = Box<dyn Fn() -> anyhow::Result<rusqlite::Connection> + Send>;

/// A queued write with the way back to its caller.
struct Pending<W, O> {
    write: W,
    reply: oneshot::Sender<AppResult<O>>,
}

type SqlitePending<W> = Pending<W, <W as SqliteGroupedWrite>::Output>;
type PgPending<W> = Pending<W, <W as PgGroupedWrite>::Output>;

/// The handle writes of one kind are queued through on SQLite; the task behind it ends when
/// the last handle goes.
pub struct GroupCommit<W: SqliteGroupedWrite> {
    queue: mpsc::Sender<SqlitePending<W>>,
    writers_waiting: Arc<AtomicI64>,
    pub stats: Arc<GroupStats>,
}

impl<W: SqliteGroupedWrite> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        GroupCommit {
            queue: self.queue.clone(),
            writers_waiting: self.writers_waiting.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<W: SqliteGroupedWrite> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// Counters for the metrics: groups committed, the writes they carried, and the groups
/// written as one statement. A commit is counted before any caller of it is answered, so a
/// caller that has its answer finds its write counted.
#[derive(Debug, Default)]
pub struct GroupStats {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
    pub statements: AtomicU64,
}

impl GroupStats {
    fn committed(&self, writes: usize) {
        if writes > 0 {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        }
    }
}

/// Queues `write` on `queue` and waits for its own answer; `unsent` runs when the writer
/// task is gone and the write could not be queued.
async fn queue_and_wait<W, O>(queue: &mpsc::Sender<Pending<W, O>>, write: W, unsent: impl FnOnce()) -> AppResult<O> {
    let (reply, answer) = oneshot::channel();
    if queue.send(Pending { write, reply }).await.is_err() {
        unsent();
        return Err(stopped());
    }
    answer.await.unwrap_or_else(|_| Err(stopped()))
}

impl<W: SqliteGroupedWrite> GroupCommit<W> {
    /// Opens the connection with `open` and starts the thread that gathers and writes the
    /// groups on it. It takes `gate` for each group, so other writes of this process (which
    /// pass the gate one by one) never interleave with a group, and counts queued writes in
    /// `writers_waiting` like the gate does. The thread ends when the last handle goes.
    pub fn start(
        open: OpenWriter,
        gate: Arc<tokio::sync::Mutex<()>>,
        writers_waiting: Arc<AtomicI64>,
    ) -> anyhow::Result<Self> {
        let conn = open().map_err(|e| e.context("cannot open the SQLite group commit's connection"))?;
        let (queue, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(GroupStats::default());
        let writer = SqliteWriter { conn: Some(conn), open };
        let task = writer_task(writer, gate, writers_waiting.clone(), stats.clone(), rx);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("sqlite-group-commit".into()).spawn(move || rt.block_on(task))?;
        Ok(GroupCommit { queue, writers_waiting, stats })
    }

    /// Runs `write` in the next group and answers with its own result once that group has
    /// committed.
    pub async fn write(&self, write: W) -> AppResult<W::Output> {
        self.writers_waiting.fetch_add(1, Ordering::Relaxed);
        queue_and_wait(&self.queue, write, || {
            self.writers_waiting.fetch_sub(1, Ordering::Relaxed);
        })
        .await
    }
}

fn stopped() -> AppError {
    AppError::DatabaseUnavailable(sqlx::Error::PoolClosed)
}

/// Answers every write of a group that could not begin or commit: nothing of theirs was
/// written, so each gets a retryable error.
fn fail_all<W, O>(group: Vec<Pending<W, O>>, e: &dyn std::fmt::Display) {
    for p in group {
        let retryable = sqlx::Error::Io(std::io::Error::other(format!("a grouped write failed: {e}")));
        let _ = p.reply.send(Err(AppError::DatabaseUnavailable(retryable)));
    }
}

/// Answers every write of a group whose statement may or may not have committed with what a
/// lone write would have got for that error. Nothing is tried again.
fn fail_all_in_doubt<W, O>(group: Vec<Pending<W, O>>, e: sqlx::Error) {
    tracing::error!(error = %e, writes = group.len(), "a group statement failed after it may have committed");
    let message = e.to_string();
    let unavailable = crate::store::is_unavailable(&e);
    for p in group {
        let e = sqlx::Error::Io(std::io::Error::other(format!("a grouped write failed: {message}")));
        let _ = p.reply.send(Err(if unavailable { AppError::DatabaseUnavailable(e) } else { AppError::Database(e) }));
    }
}

/// Counts the group's commit, then hands each caller its output, in the group's order.
fn answer_all<W, O>(group: Vec<Pending<W, O>>, outputs: Vec<O>, stats: &GroupStats) {
    stats.committed(group.len());
    // A caller that went away (its client hung up) simply does not hear of it.
    group.into_iter().zip(outputs).for_each(|(p, out)| drop(p.reply.send(Ok(out))));
}

/// What became of a group's statement.
enum GroupStatement<O> {
    /// Committed, with each write's output.
    Done(Vec<O>),
    /// Nothing of it was written: the writes may run one by one.
    Undone,
    /// It may have committed: nothing may run again.
    InDoubt(sqlx::Error),
}

/// Sorts the outcome of a group statement for `n` writes. A statement that failed inside the
/// database, or that never reached it (`retryable`), wrote nothing. An answer for another
/// number of writes than were given is a fault of the statement's own: it has committed, so
/// it is in doubt for every caller.
fn sort_outcome<O>(n: usize, outcome: Result<Vec<O>, sqlx::Error>, retryable: bool) -> GroupStatement<O> {
    match outcome {
        Ok(outputs) if outputs.len() == n => GroupStatement::Done(outputs),
        Ok(outputs) => GroupStatement::InDoubt(sqlx::Error::Protocol(format!(
            "a group statement answered for {} writes out of {n}",
            outputs.len()
        ))),
        Err(e) if matches!(e, sqlx::Error::Database(_)) || retryable => {
            tracing::debug!(error = %e, writes = n, "a group statement failed; writing one by one");
            GroupStatement::Undone
        }
        Err(e) => GroupStatement::InDoubt(e),
    }
}

/// Sorts the outcome of a group statement for `n` writes on SQLite, as `sort_outcome`: a
/// statement that failed inside the database (which undid it, or left its transaction open for
/// `end_transaction` to roll back) or whose inputs could not be bound wrote nothing; any other
/// failure (a row that could not be read) came after it ran, and it has committed.
fn sort_sqlite_outcome<O>(n: usize, outcome: rusqlite::Result<Vec<O>>) -> GroupStatement<O> {
    use rusqlite::Error::{InvalidParameterCount, InvalidParameterName, SqliteFailure, ToSqlConversionFailure};
    match outcome {
        Err(
            e @ (SqliteFailure(..) | ToSqlConversionFailure(_) | InvalidParameterName(_) | InvalidParameterCount(..)),
        ) => {
            tracing::debug!(error = %e, writes = n, "a group statement failed; writing one by one");
            GroupStatement::Undone
        }
        Err(e) => GroupStatement::InDoubt(sqlite_error(e)),
        Ok(outputs) => sort_outcome(n, Ok(outputs), false),
    }
}

/// A failure of the SQLite group commit's connection as the error every other statement
/// reports: a failure inside the database as a database error (a constraint's kind kept, so a
/// caller can tell a unique violation), anything else as a row that could not be decoded.
fn sqlite_error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(f, message) => sqlx::Error::Database(Box::new(SqliteWriteError {
            code: f.extended_code,
            message: message.unwrap_or_else(|| f.to_string()),
        })),
        e => sqlx::Error::Decode(Box::new(e)),
    }
}

/// A failure inside SQLite on the group commit's connection.
#[derive(Debug, thiserror::Error)]
#[error("{message} (SQLite code {code})")]
pub struct SqliteWriteError {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl sqlx::error::DatabaseError for SqliteWriteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// The group commit's connection on SQLite, opened again when a failure closed it.
struct SqliteWriter {
    conn: Option<rusqlite::Connection>,
    open: OpenWriter,
}

impl SqliteWriter {
    fn conn(&mut self) -> anyhow::Result<&rusqlite::Connection> {
        if self.conn.is_none() {
            self.conn = Some((self.open)()?);
        }
        Ok(self.conn.as_ref().expect("opened just now"))
    }

    /// Leaves the connection's transaction, if a failure left one open; a connection whose
    /// transaction cannot be ended is closed (which rolls it back), and the next write opens
    /// another.
    fn end_transaction(&mut self) {
        let Some(conn) = &self.conn else { return };
        if conn.is_autocommit() {
            return;
        }
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "rollback after a failed grouped write");
            self.conn = None;
        }
    }
}

async fn writer_task<W: SqliteGroupedWrite>(
    mut writer: SqliteWriter,
    gate: Arc<tokio::sync::Mutex<()>>,
    writers_waiting: Arc<AtomicI64>,
    stats: Arc<GroupStats>,
    mut rx: mpsc::Receiver<SqlitePending<W>>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let _gate = gate.lock().await;
        writers_waiting.fetch_sub(group.len() as i64, Ordering::Relaxed);
        commit_group(&mut writer, std::mem::take(&mut group), &stats);
    }
}

/// Writes `group` and answers each caller, on the thread that gathered it. A lone write goes
/// the same way: its group statement commits by itself, where a transaction around it takes
/// two more statements.
fn commit_group<W: SqliteGroupedWrite>(writer: &mut SqliteWriter, group: Vec<SqlitePending<W>>, stats: &GroupStats) {
    let conn = match writer.conn() {
        Ok(c) => c,
        Err(e) => return fail_all(group, &e),
    };
    let outcome = {
        let writes: Vec<&W> = group.iter().map(|p| &p.write).collect();
        W::run_group(&writes, conn).map(|outcome| sort_sqlite_outcome(writes.len(), outcome))
    };
    if let Err(group) = settle(group, outcome, stats) {
        writer.end_transaction();
        one_by_one(writer, group, stats);
    }
}

/// Answers the callers of a group whose statement is done or in doubt; hands the group back
/// when it is to be written one by one.
fn settle<W, O>(
    group: Vec<Pending<W, O>>,
    outcome: Option<GroupStatement<O>>,
    stats: &GroupStats,
) -> Result<(), Vec<Pending<W, O>>> {
    match outcome {
        Some(GroupStatement::Done(outputs)) => {
            stats.statements.fetch_add(1, Ordering::Relaxed);
            answer_all(group, outputs, stats);
            Ok(())
        }
        Some(GroupStatement::InDoubt(e)) => {
            fail_all_in_doubt(group, e);
            Ok(())
        }
        Some(GroupStatement::Undone) | None => Err(group),
    }
}

/// The handle writes of one kind are queued through on PostgreSQL; the task behind it ends
/// when the last handle goes.
pub struct PgGroupCommit<W: PgGroupedWrite> {
    queue: mpsc::Sender<PgPending<W>>,
    /// Writes queued or being written right now.
    pending: Arc<AtomicI64>,
    pub stats: Arc<GroupStats>,
}

impl<W: PgGroupedWrite> Clone for PgGroupCommit<W> {
    fn clone(&self) -> Self {
        PgGroupCommit { queue: self.queue.clone(), pending: self.pending.clone(), stats: self.stats.clone() }
    }
}

impl<W: PgGroupedWrite> std::fmt::Debug for PgGroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgGroupCommit").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl<W: PgGroupedWrite> PgGroupCommit<W> {
    /// Starts the task that gathers groups, on the current runtime (the pool's). At most
    /// `in_flight` groups run at once, each on a connection of `pool`; the pool's other
    /// connections stay for everything else.
    pub fn start(pool: PgPool, in_flight: usize) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(GroupStats::default());
        tokio::spawn(pg_gather(pool, in_flight.max(1), stats.clone(), rx));
        PgGroupCommit { queue, pending: Arc::default(), stats }
    }

    /// Runs `write` in the next group and answers with its own result once that group has
    /// committed.
    pub async fn write(&self, write: W) -> AppResult<W::Output> {
        let _counted = super::Counted::enter(&self.pending);
        queue_and_wait(&self.queue, write, || ()).await
    }

    /// Writes queued or being written right now.
    pub fn pending(&self) -> i64 {
        self.pending.load(Ordering::Relaxed)
    }
}

async fn pg_gather<W: PgGroupedWrite>(
    pool: PgPool,
    in_flight: usize,
    stats: Arc<GroupStats>,
    mut rx: mpsc::Receiver<PgPending<W>>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(in_flight));
    loop {
        // A slot first: while every slot is busy, the queue fills and the next group grows.
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let mut group = Vec::with_capacity(MAX_GROUP);
        if rx.recv_many(&mut group, MAX_GROUP).await == 0 {
            return;
        }
        let (pool, stats) = (pool.clone(), stats.clone());
        tokio::spawn(async move {
            pg_commit_group(&pool, group, &stats).await;
            drop(slot);
        });
    }
}

/// Writes `group` in one statement on PostgreSQL, or one by one when that statement wrote
/// nothing, and answers each caller.
async fn pg_commit_group<W: PgGroupedWrite>(pool: &PgPool, group: Vec<PgPending<W>>, stats: &GroupStats) {
    let outcome = match pool.acquire().await {
        Ok(mut conn) => {
            let writes: Vec<&W> = group.iter().map(|p| &p.write).collect();
            match W::run_group(&writes, &mut conn) {
                Some(statement) => {
                    let outcome = statement.await;
                    let retryable =
                        outcome.as_ref().is_err_and(|e| crate::store::is_retryable(e, crate::store::Statement::Write));
                    Some(sort_outcome(writes.len(), outcome, retryable))
                }
                None => None,
            }
        }
        Err(e) => return fail_all(group, &e),
    };
    if let Err(group) = settle(group, outcome, stats) {
        // Each on its own, in its own transaction, with a lone write's retries; the writes
        // run side by side, as they would have without grouping, and each that commits
        // counts as a commit of its own.
        let runs = group.into_iter().map(|p| async move {
            let out: AppResult<W::Output> = async {
                Ok(crate::retry_pg!(
                    pool,
                    pl,
                    {
                        let mut conn = pl.acquire().await?;
                        p.write.run(&mut conn).await?
                    },
                    crate::store::Statement::Write
                ))
            }
            .await;
            if out.is_ok() {
                stats.committed(1);
            }
            let _ = p.reply.send(out);
        });
        futures_util::future::join_all(runs).await;
    }
}

/// The group in one transaction, each write on its own statement, until it commits or every
/// write of it has failed.
fn one_by_one<W: SqliteGroupedWrite>(writer: &mut SqliteWriter, mut group: Vec<SqlitePending<W>>, stats: &GroupStats) {
    while !group.is_empty() {
        let conn = match writer.conn() {
            Ok(c) => c,
            Err(e) => return fail_all(group, &e),
        };
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            return fail_all(group, &e);
        }
        let mut outputs = Vec::with_capacity(group.len());
        let mut failed = None;
        for (i, p) in group.iter().enumerate() {
            match p.write.run(conn) {
                Ok(out) => outputs.push(out),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let Some((i, e)) = failed else {
            return match conn.execute_batch("COMMIT") {
                Ok(()) => answer_all(group, outputs, stats),
                Err(e) => {
                    tracing::error!(error = %e, writes = group.len(), "a group of writes could not commit");
                    fail_all(group, &e);
                    // Whatever state the connection was left in, the next group gets a new
                    // one (closing this one rolls back what it still holds).
                    writer.conn = None;
                }
            };
        };
        writer.end_transaction();
        let _ = group.remove(i).reply.send(Err(sqlite_error(e).into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;
    use sqlx::Connection;

    /// Inserts its key into a scratch table; a key already there fails (primary key).
    struct Insert(String);

    impl SqliteGroupedWrite for Insert {
        type Output = String;
        fn run(&self, conn: &rusqlite::Connection) -> rusqlite::Result<String> {
            conn.execute("INSERT INTO scratch (k) VALUES (?1)", [&self.0])?;
            Ok(self.0.clone())
        }
    }

    /// The group commit's connection to the database at `path`, waiting `busy` for the lock.
    fn open_at(path: std::path::PathBuf, busy: std::time::Duration) -> OpenWriter {
        Box::new(move || {
            let conn = rusqlite::Connection::open(&path)?;
            conn.busy_timeout(busy)?;
            Ok(conn)
        })
    }

    /// Many writes queued at once share transactions; the ones that fail get their own error
    /// and leave the others of their group committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_write_of_a_group_gets_its_own_result() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::config::Config::for_tests("http://localhost", dir.path(), "");
        let Db::Sqlite(db) = Db::connect(&cfg).await.unwrap() else { unreachable!() };
        sqlx::query("CREATE TABLE scratch (k TEXT PRIMARY KEY)").execute(&db.writer).await.unwrap();
        sqlx::query("INSERT INTO scratch (k) VALUES ('taken-3'), ('taken-17'), ('taken-40')")
            .execute(&db.writer)
            .await
            .unwrap();
        let open = open_at(dir.path().join("portcullis.db"), std::time::Duration::from_secs(5));
        let group = GroupCommit::<Insert>::start(open, db.write_gate.clone(), db.writers_waiting.clone()).unwrap();
        // Hold the gate so that every write is queued before the first group runs.
        let gate = db.write_gate.lock().await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..60 {
            let group = group.clone();
            let key = if [3, 17, 40].contains(&i) { format!("taken-{i}") } else { format!("new-{i}") };
            set.spawn(async move { (key.clone(), group.write(Insert(key)).await) });
        }
        while db.writers_waiting.load(Ordering::Relaxed) < 60 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(gate);
        let (mut ok, mut failed) = (0, 0);
        while let Some(r) = set.join_next().await {
            let (key, result) = r.unwrap();
            match result {
                Ok(k) => {
                    assert_eq!(k, key);
                    assert!(key.starts_with("new-"));
                    ok += 1;
                }
                Err(e) => {
                    assert!(key.starts_with("taken-"), "{key}: {e}");
                    assert!(e.is_unique_violation(), "its own error, not the group's: {e}");
                    failed += 1;
                }
            }
        }
        assert_eq!((ok, failed), (57, 3));
        let stored: i64 =
            sqlx::query_scalar("SELECT count(*) FROM scratch WHERE k LIKE 'new-%'").fetch_one(&db.pool).await.unwrap();
        assert_eq!(stored, 57, "every write that was answered Ok is stored");
        // A commit is counted before its callers are answered: every answered write is counted.
        let commits = group.stats.commits.load(Ordering::Relaxed);
        assert!(commits < 57, "writes shared transactions ({commits} commits for 57 writes)");
        assert_eq!(group.stats.writes.load(Ordering::Relaxed), 57);
        assert_eq!(db.writers_waiting.load(Ordering::Relaxed), 0);
    }

    /// A group that cannot begin (another connection holds the write lock past the busy
    /// timeout) answers every caller with a retryable error and writes nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_that_cannot_commit_fails_every_write_retryably() {
        use std::str::FromStr;
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::config::Config::for_tests("http://localhost", dir.path(), "");
        let Db::Sqlite(db) = Db::connect(&cfg).await.unwrap() else { unreachable!() };
        sqlx::query("CREATE TABLE scratch (k TEXT PRIMARY KEY)").execute(&db.writer).await.unwrap();
        // Another process's connection (as the CLI would be) holding the write lock.
        let url = cfg.effective_database_url();
        let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().busy_timeout(std::time::Duration::ZERO);
        let mut other = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
        let open = open_at(dir.path().join("portcullis.db"), std::time::Duration::from_millis(50));
        let group = GroupCommit::start(open, Default::default(), Default::default()).unwrap();
        let answers = futures_util::future::join_all((0..5).map(|i| group.write(Insert(format!("k{i}"))))).await;
        for a in answers {
            let e = a.unwrap_err();
            assert!(matches!(e, AppError::DatabaseUnavailable(_)), "retryable: {e}");
        }
        sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
        assert_eq!(group.write(Insert("after".into())).await.unwrap(), "after", "the writer recovers");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM scratch").fetch_one(&db.pool).await.unwrap();
        assert_eq!(n, 1);
    }
}
