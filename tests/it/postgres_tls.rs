//! PostgreSQL on this machine is reached without TLS unless the URL names a mode: on loopback
//! TLS protects nothing and costs every statement its encryption on both ends. A mode the URL
//! names is kept (here `require`, which must give a TLS connection to the same server).

use portcullis::config::Config;
use portcullis::store::Db;

use crate::common::*;

/// `SELECT ssl` of the connection's own backend, on both of the node's PostgreSQL pools.
async fn tls_in_use(db: &Db) -> Vec<bool> {
    let Db::Postgres(p) = db else { panic!("a PostgreSQL URL gave {}", db.kind()) };
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let mut used = Vec::new();
    for pool in [&p.pool, &p.rotation_pool] {
        used.push(sqlx::query_scalar::<_, bool>(sql).fetch_one(pool).await.unwrap());
    }
    used
}

#[tokio::test]
async fn local_postgres_without_tls_unless_the_url_names_a_mode() {
    let Some(url) = postgres_url() else {
        skip("the PostgreSQL TLS test: PORTCULLIS_TEST_POSTGRES_URL is not set");
        return;
    };
    let plain = url.split('?').next().unwrap().to_string();
    let host = url::Url::parse(&plain).unwrap().host_str().unwrap_or("").to_string();
    if std::env::var_os("PGSSLMODE").is_some() || !["127.0.0.1", "localhost", "[::1]"].contains(&host.as_str()) {
        skip("the PostgreSQL TLS test: the test database is not on a loopback address, or PGSSLMODE is set");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&Config::for_tests("http://127.0.0.1", dir.path(), &plain)).await.unwrap();
    assert_eq!(tls_in_use(&db).await, [false, false], "{host}: a local server without a named mode");
    let Db::Postgres(p) = &db else { unreachable!() };
    let offered: String = sqlx::query_scalar("SHOW ssl").fetch_one(&p.pool).await.unwrap();
    db.close().await;
    if offered != "on" {
        skip("the PostgreSQL TLS test's named mode: the test server does not offer TLS");
        return;
    }
    let required = format!("{plain}?sslmode=require");
    let db = Db::connect(&Config::for_tests("http://127.0.0.1", dir.path(), &required)).await.unwrap();
    assert_eq!(tls_in_use(&db).await, [true, true], "sslmode=require is kept for a local server");
    db.close().await;
}
