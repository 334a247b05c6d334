//! Group commit on SQLite's single writer.
//!
//! Every write on SQLite passes one gate and one connection (see `SqliteDb`). For the writes
//! that come in floods — refresh-token rotations — a task of its own takes whatever is queued
//! when the writer is free and writes it together: in one statement where the write knows how
//! (`GroupedWrite::run_group`), otherwise in one transaction, with one pass of the gate and
//! one commit for the lot instead of one each.
//!
//! What each caller sees is unchanged:
//! - its own result, handed over only after the commit returned, so an answer never tells of
//!   a write that a crash could still lose;
//! - its own failure: when the group's statement fails, the writes run one by one in a
//!   transaction; when one of those fails, the transaction is rolled back, that caller gets
//!   its error, and the others run again without it in a new transaction (a statement that
//!   fails can leave SQLite's transaction rolled back behind it, so nothing after a failure
//!   runs in the same one);
//! - when the group cannot begin or commit (the database is busy, the disk is full), every
//!   caller of it gets `DatabaseUnavailable` (503 with `Retry-After`): nothing of theirs was
//!   written, so trying again is safe.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// The most writes one group takes; more wait for the next one.
const MAX_GROUP: usize = 256;
/// Writes that may wait for the writer task before callers wait to queue.
const QUEUE: usize = 4096;

/// One write that may share a commit with others of its kind: a statement or a few, run on
/// the writer's connection inside the group's transaction. It must not begin or end a
/// transaction itself, and it may be run more than once (after another write of its group
/// failed), so it holds its inputs rather than consuming them.
pub trait GroupedWrite: Send + Sync + Sized + 'static {
    type Output: Send + 'static;

    fn run<'c>(&'c self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Result<Self::Output, sqlx::Error>>;

    /// The whole group as one statement (one round trip to SQLite's thread and one commit),
    /// answering each write's output in the group's order; `None` when the kind has no such
    /// statement. A failure here changes nothing (a statement is atomic): the group is then
    /// written one by one.
    fn run_group<'c>(
        _group: &'c [&'c Self],
        _conn: &'c mut SqliteConnection,
    ) -> Option<BoxFuture<'c, Result<Vec<Self::Output>, sqlx::Error>>> {
        None
    }
}

/// A queued write with the way back to its caller.
struct Pending<W: GroupedWrite> {
    write: W,
    reply: oneshot::Sender<AppResult<W::Output>>,
}

/// The handle writes of one kind are queued through; the task behind it ends when the last
/// handle goes.
pub struct GroupCommit<W: GroupedWrite> {
    queue: mpsc::Sender<Pending<W>>,
    writers_waiting: Arc<AtomicI64>,
    pub stats: Arc<GroupStats>,
}

impl<W: GroupedWrite> Clone for GroupCommit<W> {
    fn clone(&self) -> Self {
        GroupCommit {
            queue: self.queue.clone(),
            writers_waiting: self.writers_waiting.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<W: GroupedWrite> std::fmt::Debug for GroupCommit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// Counters for the metrics: groups committed, the writes they carried, and the groups
/// written as one statement.
#[derive(Debug, Default)]
pub struct GroupStats {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
    pub statements: AtomicU64,
}

impl<W: GroupedWrite> GroupCommit<W> {
    /// Starts the writer task. It takes `gate` for each group, so other writes of this
    /// process (which pass the gate one by one) never interleave with a group, and counts
    /// queued writes in `writers_waiting` like the gate does.
    ///
    /// The task runs on a thread of its own: a group is a chain of round trips to SQLite's
    /// connection thread, and on the server's workers each step of it would wait its turn
    /// behind every request in flight. The thread ends with the task.
    pub fn start(
        writer: SqlitePool,
        gate: Arc<tokio::sync::Mutex<()>>,
        writers_waiting: Arc<AtomicI64>,
    ) -> std::io::Result<Self> {
        let (queue, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(GroupStats::default());
        let task = writer_task(writer, gate, writers_waiting.clone(), stats.clone(), rx);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("sqlite-group-commit".into()).spawn(move || rt.block_on(task))?;
        Ok(GroupCommit { queue, writers_waiting, stats })
    }

    /// Runs `write` in the next group and answers with its own result once that group has
    /// committed.
    pub async fn write(&self, write: W) -> AppResult<W::Output> {
        let (reply, answer) = oneshot::channel();
        self.writers_waiting.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Pending { write, reply }).await.is_err() {
            self.writers_waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> AppError {
    AppError::DatabaseUnavailable(sqlx::Error::PoolClosed)
}

/// Answers every write of a group that could not begin or commit: nothing of theirs was
/// written, so each gets a retryable error.
fn fail_all<W: GroupedWrite>(group: Vec<Pending<W>>, e: &sqlx::Error) {
    for p in group {
        let retryable = sqlx::Error::Io(std::io::Error::other(format!("a grouped write failed: {e}")));
        let _ = p.reply.send(Err(AppError::DatabaseUnavailable(retryable)));
    }
}

async fn writer_task<W: GroupedWrite>(
    writer: SqlitePool,
    gate: Arc<tokio::sync::Mutex<()>>,
    writers_waiting: Arc<AtomicI64>,
    stats: Arc<GroupStats>,
    mut rx: mpsc::Receiver<Pending<W>>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let _gate = gate.lock().await;
        writers_waiting.fetch_sub(group.len() as i64, Ordering::Relaxed);
        let committed = commit_group(&writer, std::mem::take(&mut group), &stats).await;
        if committed > 0 {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.writes.fetch_add(committed as u64, Ordering::Relaxed);
        }
    }
}

/// Writes `group` and answers each caller; returns how many writes were committed.
async fn commit_group<W: GroupedWrite>(writer: &SqlitePool, group: Vec<Pending<W>>, stats: &GroupStats) -> usize {
    let mut conn = match writer.acquire().await {
        Ok(c) => c,
        Err(e) => {
            fail_all(group, &e);
            return 0;
        }
    };
    if group.len() > 1 {
        let answered = {
            let writes: Vec<&W> = group.iter().map(|p| &p.write).collect();
            match W::run_group(&writes, &mut conn) {
                Some(statement) => Some(statement.await),
                None => None,
            }
        };
        if let Some(answered) = answered {
            match answered {
                Ok(outputs) if outputs.len() == group.len() => {
                    stats.statements.fetch_add(1, Ordering::Relaxed);
                    let n = group.len();
                    // A caller that went away (its client hung up) simply does not hear of it.
                    group.into_iter().zip(outputs).for_each(|(p, out)| drop(p.reply.send(Ok(out))));
                    return n;
                }
                Ok(outputs) => {
                    tracing::error!(
                        writes = group.len(),
                        outputs = outputs.len(),
                        "a group statement answered for other writes than it was given"
                    );
                }
                Err(e) => {
                    tracing::debug!(error = %e, writes = group.len(), "a group statement failed; writing one by one")
                }
            }
        }
    }
    one_by_one(writer, Some(conn), group).await
}

/// The group in one transaction, each write on its own statement, until it commits or every
/// write of it has failed; returns how many writes were committed.
async fn one_by_one<W: GroupedWrite>(
    writer: &SqlitePool,
    mut conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    mut group: Vec<Pending<W>>,
) -> usize {
    while !group.is_empty() {
        let mut c = match conn.take() {
            Some(c) => c,
            None => match writer.acquire().await {
                Ok(c) => c,
                Err(e) => {
                    fail_all(group, &e);
                    return 0;
                }
            },
        };
        let mut tx = match c.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => tx,
            Err(e) => {
                fail_all(group, &e);
                return 0;
            }
        };
        let mut outputs = Vec::with_capacity(group.len());
        let mut failed = None;
        for (i, p) in group.iter().enumerate() {
            match p.write.run(&mut tx).await {
                Ok(out) => outputs.push(out),
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let Some((i, e)) = failed else {
            return match tx.commit().await {
                Ok(()) => {
                    let n = group.len();
                    group.into_iter().zip(outputs).for_each(|(p, out)| drop(p.reply.send(Ok(out))));
                    n
                }
                Err(e) => {
                    tracing::error!(error = %e, writes = group.len(), "a group of writes could not commit");
                    fail_all(group, &e);
                    // Whatever state the connection was left in, the next group gets a new one.
                    let _ = c.close().await;
                    0
                }
            };
        };
        let rolled_back = tx.rollback().await;
        let _ = group.remove(i).reply.send(Err(e.into()));
        match rolled_back {
            Ok(()) => conn = Some(c),
            Err(e) => {
                // SQLite may have rolled the transaction back itself; a connection whose
                // transaction state is in doubt is not used again (the pool opens another).
                tracing::warn!(error = %e, "rollback after a failed grouped write");
                let _ = c.close().await;
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    /// Inserts its key into a scratch table; a key already there fails (primary key).
    struct Insert(String);

    impl GroupedWrite for Insert {
        type Output = String;
        fn run<'c>(&'c self, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Result<String, sqlx::Error>> {
            Box::pin(async move {
                sqlx::query("INSERT INTO scratch (k) VALUES ($1)").bind(&self.0).execute(conn).await?;
                Ok(self.0.clone())
            })
        }
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
        let group =
            GroupCommit::<Insert>::start(db.writer.clone(), db.write_gate.clone(), db.writers_waiting.clone()).unwrap();
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
        let mut other = SqliteConnection::connect_with(&opts).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
        let writer_opts = opts.busy_timeout(std::time::Duration::from_millis(50));
        let writer = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(writer_opts).await.unwrap();
        let group = GroupCommit::start(writer, Default::default(), Default::default()).unwrap();
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
