//! The two dialects describe one schema: the same migration numbers, and after migrating, the
//! same tables with the same columns (a column added to one and forgotten in the other fails
//! here, not on a customer's database).

use std::collections::BTreeSet;

use crate::common::*;

fn migration_numbers(dialect: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn both_dialects_number_their_migrations_alike() {
    let (lite, pg) = (migration_numbers("sqlite"), migration_numbers("postgres"));
    assert_eq!(lite, pg);
    let expected: Vec<String> = (1..=lite.len()).map(|n| format!("{n:04}")).collect();
    assert_eq!(lite, expected, "numbered without gaps");
}

async fn columns(db: &portcullis::store::Db) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = match db {
        portcullis::store::Db::Sqlite(s) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(&s.pool)
        .await
        .unwrap(),
        portcullis::store::Db::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
        )
        .fetch_all(&p.pool)
        .await
        .unwrap(),
    };
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_dialects_define_the_same_tables_and_columns() {
    let lite = TestServer::start(Backend::Sqlite).await.unwrap();
    // Outside CI without a PostgreSQL URL there is nothing to compare with.
    let Some(pg) = TestServer::start(Backend::Postgres).await else { return };
    let (a, b) = (columns(&lite.state.db).await, columns(&pg.state.db).await);
    assert!(a.len() > 50, "read the schema: {a:?}");
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_postgres: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "SQLite only: {only_sqlite:?}; PostgreSQL only: {only_postgres:?}"
    );
    lite.stop().await;
    pg.stop().await;
}
