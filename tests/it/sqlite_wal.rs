//! SQLite storage: one writer connection, and a WAL that is checkpointed as it goes.
//!
//! SQLite in WAL mode checkpoints as it goes. Its automatic checkpoint runs only when a
//! statement on the committing connection is stepped to its end; a write with `RETURNING` read
//! with `fetch_optional` stops at its row and commits on reset, so under a stream of refreshes
//! (one such write each) the WAL grew by every write, about 24 KiB a refresh, and nothing went
//! back into the database. The WAL must stay near the writer's checkpoint threshold
//! (`WRITER_AUTOCHECKPOINT` pages of 4 KiB; a task copies the WAL as it goes, see
//! `store::checkpoint`, but the WAL starts over only after a checkpoint of all of it).

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stays_bounded_under_refreshes() {
    let srv = TestServer::start(Backend::Sqlite).await.unwrap();
    srv.add_user("alice").await;
    let app = srv.add_client(false).await;
    let mut chains = Vec::new();
    for _ in 0..4 {
        let (code, verifier) = get_code(&srv, &browser(), &app.client_id, "alice").await;
        let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
        chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    let wal = srv.state.config.data_dir.join("portcullis.db-wal");
    let portcullis::store::Db::Sqlite(s) = &srv.state.db else { unreachable!() };
    let ran = || s.checkpointer.checkpoints.load(std::sync::atomic::Ordering::Relaxed);
    // At least 1,600 refreshes, and then more until the task beside the writer has copied the
    // WAL ten times as it grew (a checkpoint every 20 ms while it grows, after a first pause
    // of a second): how long the refreshes take is the machine's, not the test's, business.
    let rounds = 100;
    let mut done = 0;
    while done < 1_600 || (ran() < 10 && done < 16_000) {
        let chain = |token: String| rotate(&srv, &app, token, rounds);
        let [a, b, c, d] = <[String; 4]>::try_from(chains).unwrap();
        let (a, b, c, d) = tokio::join!(chain(a), chain(b), chain(c), chain(d));
        chains = vec![a, b, c, d];
        done += 4 * rounds;
    }
    let size = std::fs::metadata(&wal).expect("the database is in WAL mode").len();
    // 1,600 rotations without checkpoints leave a WAL of about 38 MiB; the threshold is 16 MiB.
    let pages: u64 = portcullis::store::checkpoint::WRITER_AUTOCHECKPOINT.parse().unwrap();
    let bound = (pages + 1000) * 4096;
    assert!(size < bound, "WAL is {size} bytes after {done} refreshes: checkpoints are not running");
    let ran = ran();
    assert!(ran >= 10, "{ran} checkpoints beside the writer in {done} refreshes");
    // And the metrics say so.
    let text = reqwest::get(srv.url("/metrics")).await.unwrap().text().await.unwrap();
    let scraped: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("portcullis_sqlite_checkpoints_total "))
        .unwrap_or_else(|| panic!("no checkpoint counter in\n{text}"))
        .parse()
        .unwrap();
    assert!(scraped >= ran, "{scraped} checkpoints scraped, {ran} counted before");
}

async fn rotate(
    srv: &TestServer,
    app: &portcullis::admin::apps::CreatedOidcApp,
    mut token: String,
    rounds: usize,
) -> String {
    for _ in 0..rounds {
        // Scope `openid` alone, as most refreshes: no statement on the path reads a group list
        // to its end, which would run the WAL hook in passing.
        let form = [("grant_type", "refresh_token"), ("refresh_token", &token), ("scope", "openid")];
        let resp = token_request(srv, app, &form).await;
        assert_eq!(resp.status(), 200);
        token = json(resp).await["refresh_token"].as_str().unwrap().to_owned();
    }
    token
}

/// Writes go through the one writer connection behind the write gate; the reader pool refuses
/// them, so a write that skipped the gate fails instead of colliding with the writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_refuse_writes() {
    let srv = TestServer::start(Backend::Sqlite).await.unwrap();
    let portcullis::store::Db::Sqlite(s) = &srv.state.db else { unreachable!() };
    let write = "UPDATE settings SET value = value";
    let err = sqlx::query(write).execute(&s.pool).await.expect_err("a reader wrote");
    assert!(err.to_string().contains("readonly"), "{err}");
    sqlx::query(write).execute(&s.writer).await.unwrap();
}

/// `database.sqlite_synchronous` reaches the connection that commits: NORMAL by default (the
/// WAL synced as it is checkpointed), FULL when asked (every commit synced before it is
/// answered), and with FULL grouped rotations and sign-ins still commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_syncs_as_configured() {
    use portcullis::config::SqliteSync;
    for (setting, level) in [(None, 1), (Some(SqliteSync::Full), 2)] {
        let opts = Options {
            tweak: Box::new(move |c| {
                if let Some(s) = setting {
                    c.database.sqlite_synchronous = s;
                }
            }),
            ..Options::default()
        };
        let srv = TestServer::start_with(Backend::Sqlite, opts).await.unwrap();
        let portcullis::store::Db::Sqlite(s) = &srv.state.db else { unreachable!() };
        let got: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&s.writer).await.unwrap();
        assert_eq!(got, level, "synchronous on the writer with {setting:?}");
        srv.add_user("alice").await;
        let app = srv.add_client(false).await;
        let chains = (0..4).map(|_| async {
            let (code, verifier) = get_code(&srv, &browser(), &app.client_id, "alice").await;
            let tokens = json(exchange_code(&srv, &app, &code, &verifier).await).await;
            rotate(&srv, &app, tokens["refresh_token"].as_str().unwrap().to_owned(), 5).await
        });
        futures_util::future::join_all(chains).await;
        srv.stop().await;
    }
}
