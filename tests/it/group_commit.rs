//! Group commit (`store::group_commit`), on each backend's own committer: writes queued
//! together are written as one statement; when that statement fails in the database, each
//! write still gets its own result (the failing ones their own error, the others committed),
//! and every write answered `Ok` is stored.

use std::str::FromStr;
use std::sync::atomic::Ordering::Relaxed;

use futures_util::future::BoxFuture;
use portcullis::store::Db;
use portcullis::store::group_commit::{GroupCommit, PgGroupCommit, PgGroupedWrite, SqliteGroupedWrite};
use sqlx::PgConnection;

use crate::both_databases;
use crate::common::*;

both_databases!(a_failed_group_statement_leaves_each_write_its_own_result);

/// Inserts its key into a scratch table; a key already there fails (primary key). A group is
/// one `INSERT` of all its keys, which fails as a whole when one key is taken.
struct Insert(String);

const ONE: &str = "INSERT INTO scratch (k) VALUES ($1)";

impl SqliteGroupedWrite for Insert {
    type Output = String;
    fn run(&self, conn: &rusqlite::Connection) -> rusqlite::Result<String> {
        conn.execute("INSERT INTO scratch (k) VALUES (?1)", [&self.0])?;
        Ok(self.0.clone())
    }
    fn run_group(group: &[&Self], conn: &rusqlite::Connection) -> Option<rusqlite::Result<Vec<String>>> {
        let keys = serde_json::to_string(&group.iter().map(|w| &w.0).collect::<Vec<_>>()).unwrap();
        let inserted = conn.execute("INSERT INTO scratch (k) SELECT value FROM json_each(?1)", [keys]);
        Some(inserted.map(|_| group.iter().map(|w| w.0.clone()).collect()))
    }
}

impl PgGroupedWrite for Insert {
    type Output = String;
    fn run<'c>(&'c self, conn: &'c mut PgConnection) -> BoxFuture<'c, Result<String, sqlx::Error>> {
        Box::pin(async move {
            sqlx::query(ONE).bind(&self.0).execute(conn).await?;
            Ok(self.0.clone())
        })
    }
    fn run_group<'c>(
        group: &'c [&'c Self],
        conn: &'c mut PgConnection,
    ) -> Option<BoxFuture<'c, Result<Vec<String>, sqlx::Error>>> {
        let keys: Vec<String> = group.iter().map(|w| w.0.clone()).collect();
        Some(Box::pin(async move {
            sqlx::query("INSERT INTO scratch (k) SELECT unnest($1::text[])").bind(&keys).execute(conn).await?;
            Ok(keys)
        }))
    }
}

/// Sixty inserts held back until all are waiting, three of them of keys already taken: the
/// groups that carry those fail as statements and are written one by one; 57 succeed, each of
/// the three gets its own unique violation, and on SQLite the groups were shared.
async fn a_failed_group_statement_leaves_each_write_its_own_result(b: Backend) {
    let Some(srv) = TestServer::start(b).await else { return };
    let db = &srv.state.db;
    for sql in [
        "CREATE TABLE scratch (k TEXT PRIMARY KEY)",
        "INSERT INTO scratch (k) VALUES ('taken-3'), ('taken-17'), ('taken-40')",
    ] {
        match db {
            Db::Sqlite(s) => drop(sqlx::query(sql).execute(&s.writer).await.unwrap()),
            Db::Postgres(p) => drop(sqlx::query(sql).execute(&p.pool).await.unwrap()),
        }
    }
    let key = |i: usize| if [3, 17, 40].contains(&i) { format!("taken-{i}") } else { format!("new-{i}") };
    let (answers, stats) = match db {
        Db::Sqlite(s) => {
            let url = srv.state.config.effective_database_url();
            let path = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().get_filename().to_owned();
            let open = portcullis::store::group_writer(path, srv.state.config.database.sqlite_synchronous);
            let group = GroupCommit::<Insert>::start(open, s.write_gate.clone(), s.writers_waiting.clone()).unwrap();
            let gate = s.write_gate.lock().await;
            let writes = futures_util::future::join_all((0..60).map(|i| group.write(Insert(key(i)))));
            let release = async {
                while s.writers_waiting.load(Relaxed) < 60 {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                drop(gate);
            };
            (tokio::join!(writes, release).0, group.stats.clone())
        }
        Db::Postgres(p) => {
            let group = PgGroupCommit::<Insert>::start(p.pool.clone(), 2);
            // Another connection holds the table, so the first groups wait on it and the rest
            // queue behind them.
            let mut lock = p.pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE scratch IN SHARE MODE").execute(&mut *lock).await.unwrap();
            let writes = futures_util::future::join_all((0..60).map(|i| group.write(Insert(key(i)))));
            let release = async {
                while group.pending() < 60 {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                lock.rollback().await.unwrap();
            };
            let answers = tokio::join!(writes, release).0;
            assert_eq!(group.pending(), 0);
            (answers, group.stats.clone())
        }
    };
    let (mut ok, mut failed) = (0, 0);
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(k) => {
                assert_eq!(k, key(i));
                assert!(k.starts_with("new-"), "{k}");
                ok += 1;
            }
            Err(e) => {
                assert!(key(i).starts_with("taken-"), "{}: {e}", key(i));
                assert!(e.is_unique_violation(), "its own error, not the group's: {e}");
                failed += 1;
            }
        }
    }
    assert_eq!((ok, failed), (57, 3));
    let count = "SELECT count(*) FROM scratch WHERE k LIKE 'new-%'";
    let stored: i64 = match db {
        Db::Sqlite(s) => sqlx::query_scalar(count).fetch_one(&s.pool).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(count).fetch_one(&p.pool).await.unwrap(),
    };
    assert_eq!(stored, 57, "every write answered Ok is stored");
    // A commit is counted before its callers are answered: every answered write is counted.
    assert_eq!(stats.writes.load(Relaxed), 57, "each committed write is counted once");
    let commits = stats.commits.load(Relaxed);
    if matches!(db, Db::Sqlite(_)) {
        // SQLite writes a failed group's writes one by one in one transaction; PostgreSQL runs
        // them side by side, each in its own, and counts each as the commit it is.
        assert!(commits < 57, "writes shared commits ({commits} for 57 writes)");
    }
    assert!(stats.statements.load(Relaxed) < commits, "the groups with a taken key were written one by one");
    srv.stop().await;
}
